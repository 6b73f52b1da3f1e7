"""A user's session with the installed ``spectramind`` command, on a tiny data set.

``ablate run`` (two parallel runs) → ``status`` → ``leaderboard`` → ``export`` → ``resume``
(nothing retrained) → ``predict`` with the best checkpoint → ``score``; plus ``--dry-run``,
``train``, ``data simulate`` and the exit status of a sweep whose run fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_support import spectramind
from training_support import tiny_overrides

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

MODELS = ("mlp", "cnn1d")


def _run_records(sweep: Path) -> dict[str, dict]:
    return {path.parent.name: json.loads(path.read_text()) for path in (sweep / "runs").glob("*/run.json")}


def _run_start_events(sweep: Path) -> int:
    return sum(
        line.count('"run_start"')
        for path in (sweep / "runs").glob("*/events.jsonl")
        for line in path.read_text().splitlines()
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, tiny_data_dir) -> tuple[Path, object]:
    work = tmp_path_factory.mktemp("session")
    result = spectramind(
        "ablate",
        "run",
        f"model={','.join(MODELS)}",
        *tiny_overrides(tiny_data_dir),
        "--sweep-dir",
        "sweep",
        "--jobs",
        "2",
        cwd=work,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work / "sweep", result


def test_ablate_run_trains_every_planned_run_and_builds_the_leaderboard(sweep):
    sweep_dir, result = sweep
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    assert len(manifest["runs"]) == len(MODELS)
    assert all(run["status"] == "completed" for run in manifest["runs"])
    records = _run_records(sweep_dir)
    assert sorted(
        yaml.safe_load((sweep_dir / "runs" / run_id / "config_resolved.yaml").read_text())["model"]["backbone"][
            "_target_"
        ].rsplit(".", 1)[1]
        for run_id in records
    ) == ["CNN1dBackbone", "MLPBackbone"]
    assert "joblib" in (sweep_dir / "multirun.yaml").read_text()  # --jobs 2 went through the joblib launcher
    assert (sweep_dir / "leaderboard.md").is_file() and (sweep_dir / "leaderboard.html").is_file()


def test_status_reports_progress_and_counts(sweep):
    sweep_dir, _ = sweep
    result = spectramind("ablate", "status", sweep_dir, cwd=sweep_dir.parent)
    assert result.returncode == 0, result.stderr
    assert f"{len(MODELS)}/{len(MODELS)} runs finished" in result.stdout
    assert f"completed {len(MODELS)}" in result.stdout


def test_leaderboard_rebuilds_with_another_metric(sweep):
    sweep_dir, _ = sweep
    result = spectramind("ablate", "leaderboard", sweep_dir, "--metric", "rmse_ppm", "--top", "1", cwd=sweep_dir.parent)
    assert result.returncode == 0, result.stderr
    written = [Path(line) for line in result.stdout.splitlines()]
    assert {p.name for p in written} >= {"leaderboard.md", "leaderboard.html", "leaderboard.csv", "leaderboard.json"}
    assert all(p.exists() for p in written)
    document = json.loads((sweep_dir / "leaderboard.json").read_text())
    assert document["primary_metric"] == "rmse_ppm" and document["n_completed"] == len(MODELS)
    runs = [
        json.loads((sweep_dir / "runs" / run_id / "metrics.json").read_text()) for run_id in _run_records(sweep_dir)
    ]
    chosen = min(runs, key=lambda run: run["val_rmse_ppm"])  # an error: lower is better; chosen on validation
    assert document["best_val_rmse_ppm"] == pytest.approx(chosen["val_rmse_ppm"])
    assert document["best_rmse_ppm"] == pytest.approx(chosen["rmse_ppm"])  # its held-out test figure


def test_export_writes_the_top_configurations(sweep):
    sweep_dir, _ = sweep
    result = spectramind("ablate", "export", sweep_dir, "--top", "2", cwd=sweep_dir.parent)
    assert result.returncode == 0, result.stderr
    exported = Path(result.stdout.strip())
    assert exported == (sweep_dir / "ablation_results").resolve() or exported == sweep_dir / "ablation_results"
    assert len([p for p in exported.iterdir() if p.is_dir()]) == len(MODELS)


def test_resume_of_a_finished_sweep_retrains_nothing(sweep):
    sweep_dir, _ = sweep
    before = {run_id: record["started"] for run_id, record in _run_records(sweep_dir).items()}
    starts = _run_start_events(sweep_dir)
    result = spectramind("ablate", "resume", sweep_dir, cwd=sweep_dir.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(MODELS)} already completed, 0 to launch" in result.stdout
    assert {run_id: record["started"] for run_id, record in _run_records(sweep_dir).items()} == before
    assert _run_start_events(sweep_dir) == starts


def test_predict_with_a_runs_checkpoint_and_score_it(sweep, tiny_data_dir):
    sweep_dir, _ = sweep
    checkpoint = next((sweep_dir / "runs").glob("*/checkpoints/best.ckpt"))
    out = sweep_dir.parent / "predicted.csv"
    result = spectramind("predict", checkpoint, "--data", tiny_data_dir, "--out", out, cwd=sweep_dir.parent)
    assert result.returncode == 0, result.stderr
    submission = pd.read_csv(out)
    labels = pd.read_csv(tiny_data_dir / "train.csv")
    assert sorted(submission["planet_id"]) == sorted(labels["planet_id"])
    assert submission.shape[1] == 1 + 2 * 283
    scored = spectramind(
        "score",
        tiny_data_dir / "train.csv",
        out,
        "--train-labels",
        tiny_data_dir / "train.csv",
        "--json",
        cwd=sweep_dir.parent,
    )
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert 0.0 <= result["score"] <= 1.0 and result["score"] == max(0.0, min(1.0, result["unclipped"]))


def test_dry_run_of_the_default_study_prints_its_plan_and_trains_nothing(tmp_path):
    from importlib.resources import files

    from spectramind.cli.ablate import study_names  # the shipped study files, as the CLI finds them

    assert "default" in study_names()
    study = yaml.safe_load(files("spectramind.conf").joinpath("ablation/default.yaml").read_text())["hydra"]["sweeper"]
    assert study["design"] == "ofat"
    configs = 1 + sum(len(str(levels).split(",")) - 1 for levels in study["params"].values())
    expected = configs * len(study["seeds"])
    result = spectramind("ablate", "run", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    planned = [line for line in result.stdout.splitlines() if line.startswith("[ablation]   run ")]
    assert len(planned) == expected
    assert f"{expected} runs" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no sweep directory, no data, no leaderboard


def test_a_failed_run_makes_the_sweep_exit_1_unless_allowed(tmp_path, tiny_data_dir):
    """A data set whose labels lack a column passes the pre-flight check (which reads no data)
    and fails in training: the sweep records the failure and carries on."""
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, broken)
    labels = pd.read_csv(broken / "train.csv")
    labels.drop(columns=["wl_7"]).to_csv(broken / "train.csv", index=False)
    args = ["ablate", "run", "model=mlp", f"data.data_dir={broken}", "data.simulation=null", "training.epochs=1"]
    failed = spectramind(*args, "--sweep-dir", "failing", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr[-2000:]
    run = json.loads((tmp_path / "failing" / "sweep.json").read_text())["runs"][0]
    assert run["status"] == "failed" and "wl_7" in run["error"]["message"]
    allowed = spectramind(*args, "--sweep-dir", "allowed", "--allow-failed-runs", "--no-leaderboard", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert not (tmp_path / "allowed" / "leaderboard.md").exists()


def test_train_one_model(tmp_path, tiny_data_dir):
    result = spectramind("train", *tiny_overrides(tiny_data_dir), "model=mlp", "hydra.run.dir=one", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((tmp_path / "one" / "run.json").read_text())
    assert record["status"] == "completed" and "model=mlp" in record["overrides"]


def test_data_simulate_writes_the_adc_layout(tmp_path):
    result = spectramind(
        "data", "simulate", "--out", "tiny", "--n-planets", "12", "--n-time", "32", "--seed", "3", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == (tmp_path / "tiny").resolve()
    labels = pd.read_csv(tmp_path / "tiny" / "train.csv")
    assert len(labels) == 12 and list(labels.columns[:2]) == ["planet_id", "wl_1"]
