"""The ablation sweep through hydra-ray-launcher on a local Ray instance (started by the launcher):
every run completes in runs/<run_id> from a Ray worker process, one CPU thread per job, and the
sweep's records are whole."""

from __future__ import annotations

import json
import os

import pytest
from sweep_helpers import SINGLE_THREAD, explain, manifest, run_sweep, sweep_events

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


def test_a_sweep_on_a_local_ray_instance(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    threaded = [o for o in train_overrides if o != SINGLE_THREAD]  # the launcher decides threads
    result = run_sweep(
        tmp_path,
        *threaded,
        "model=mlp,cnn1d",
        "+callbacks.threads._target_=faults.RecordThreads",
        "hydra/launcher=ray",
        "+hydra.launcher.ray.init.num_cpus=2",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, explain(result)
    runs = manifest(sweep_dir)["runs"]
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert all(r["run_dir"] == f"runs/{r['run_id']}" for r in runs)
    log = sweep_events(sweep_dir)
    assert log.skipped_lines == [] and len(log.of("run_end")) == 2
    seen = [json.loads((sweep_dir / r["run_dir"] / "threads.json").read_text()) for r in runs]
    assert {(s["env"], s["torch_threads"]) for s in seen} == {("1", 1)}
    assert os.getpid() not in {s["pid"] for s in seen}
    assert (sweep_dir / "leaderboard.md").is_file()
