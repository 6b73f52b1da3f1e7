"""The same sweep through Hydra's launchers: basic (sequential, every other test), joblib (parallel
processes, CPU threads split between jobs) and submitit's local executor. Whatever ran the jobs,
every run ends in runs/<run_id> and the sweep's records are whole."""

from __future__ import annotations

import json
import os

import pytest
from sweep_helpers import SINGLE_THREAD, explain, manifest, run_sweep, sweep_events

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

RECORD_THREADS = "+callbacks.threads._target_=faults.RecordThreads"


def threads_seen(sweep_dir) -> list[dict]:
    return [
        json.loads((sweep_dir / run["run_dir"] / "threads.json").read_text()) for run in manifest(sweep_dir)["runs"]
    ]


def assert_complete_records(sweep_dir, n_runs: int) -> None:
    runs = manifest(sweep_dir)["runs"]
    assert len(runs) == n_runs
    assert all(r["status"] == "completed" and r["attempts"] == 1 for r in runs)
    assert all(r["run_dir"] == f"runs/{r['run_id']}" for r in runs)
    log = sweep_events(sweep_dir)
    assert log.skipped_lines == []  # no torn or interleaved lines
    assert sorted(e["run_id"] for e in log.of("run_end")) == sorted(r["run_id"] for r in runs)
    assert log.of("sweep_end")[0]["counts"] == {"completed": n_runs}


@pytest.mark.parametrize(
    "launcher, sweep, concurrent",
    [
        pytest.param("joblib", ["model=mlp,cnn1d", "loss=gll,mse", "hydra.launcher.n_jobs=2"], 2, id="joblib"),
        # submitit's local executor starts every job of a batch at once
        pytest.param("submitit_local", ["model=mlp,cnn1d"], 2, id="submitit_local"),
    ],
)
def test_parallel_launchers(tmp_path, train_overrides, launcher, sweep, concurrent):
    sweep_dir = tmp_path / "sweep"
    threaded = [o for o in train_overrides if o != SINGLE_THREAD]  # the launcher decides threads
    result = run_sweep(
        tmp_path, *threaded, *sweep, RECORD_THREADS, f"hydra/launcher={launcher}", f"hydra.sweep.dir={sweep_dir}"
    )
    assert result.returncode == 0, explain(result)
    n_runs = 4 if "loss=gll,mse" in sweep else 2
    assert_complete_records(sweep_dir, n_runs)
    seen = threads_seen(sweep_dir)
    expected_threads = max(1, (os.cpu_count() or 1) // concurrent)
    assert {(s["env"], s["torch_threads"]) for s in seen} == {(str(expected_threads), expected_threads)}
    # every pool of every worker sized to the share: BLAS/OpenMP from the environment the worker
    # started with (before numpy loaded), torch's intra- and inter-op pools by the training
    for s in seen:
        assert set(s["library_env"].values()) == {str(expected_threads)}, s
        assert s["pools"]["torch_intra_op"] == s["pools"]["torch_inter_op"] == expected_threads, s
        assert s["pools"]["libraries"] and set(s["pools"]["libraries"].values()) == {expected_threads}, s
    assert len({s["pid"] for s in seen}) >= 2  # jobs ran in separate worker processes
    # the most expensive runs launched first (the CNN's; spectramind/ablation/launch_order.py),
    # though the grid plans the MLP's first
    planned = [run["run_id"] for run in manifest(sweep_dir)["runs"]]
    launched = [run["run_id"] for run in sorted(manifest(sweep_dir)["runs"], key=lambda run: run["job_num"])]
    assert "model-mlp" in planned[0]
    assert ["model-cnn1d" in run_id for run_id in launched] == [True] * (n_runs // 2) + [False] * (n_runs // 2)
    assert sweep_events(sweep_dir).of("launch_order")[0]["runs"] == launched
    warmed = sweep_events(sweep_dir).of("workers_warm")
    if launcher == "joblib":  # the pool warmed during the pre-flight is the one that ran the jobs
        assert {s["pid"] for s in seen} <= set(warmed[0]["pids"]) and len(warmed[0]["pids"]) == concurrent
    else:
        assert warmed == []


@pytest.mark.parametrize(
    "launcher, batch_len, expected",
    [
        ({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}, 4, None),  # sequential: all cores
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}, 4, "cores/2"),
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": -1}, 4, 1),
        (
            {
                "_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
                "cpus_per_task": None,
            },
            3,
            "cores/3",
        ),
        (
            {"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher", "cpus_per_task": 8},
            3,
            8,
        ),
        ({"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher", "ray": {"remote": {}}}, 4, 1),
        (
            {
                "_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher",
                "ray": {"remote": {"num_cpus": 3}},
            },
            4,
            3,
        ),
    ],
)
def test_threads_per_job_share_the_cores_between_concurrent_jobs(launcher, batch_len, expected):
    from omegaconf import OmegaConf

    from hydra_plugins.spectramind_ablation.launchers import threads_per_job

    cores = os.cpu_count() or 1
    if isinstance(expected, str):
        expected = max(1, cores // int(expected.split("/")[1]))
    config = OmegaConf.create({"hydra": {"launcher": launcher}})
    assert threads_per_job(config, batch_len) == expected
