"""`dvc repro` on a fresh copy of the repository with a tiny configuration: outputs, metrics, lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from training_support import TINY_SIMULATION

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY_PARAMS = {
    "simulate": {**TINY_SIMULATION, "population": "adc2024"},
    "ablate": {"study": "", "overrides": "model=mlp,cnn1d training.epochs=2"},
    "leaderboard": {"metric": "adc2025", "top": 1},
    "simulate_raw": {"format": "adc2025-raw", "n_planets": 12, "airs_frames": 160, "seed": 3},
    "calibrate": {"raw_dir": "dvc_runs/raw", "airs_bin": 2, "fgs_bin": 24, "workers": 2},
    "train_calibrated": {"overrides": "training.epochs=2"},
}


def _fresh_copy(destination: Path) -> Path:
    """The repository's files as a clone would have them (tracked + new, not ignored), in a new git repo."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    return destination


def _dvc(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.run([str(BIN / "dvc"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Path:
    repo = _fresh_copy(tmp_path_factory.mktemp("clone"))
    assert (repo / ".dvc" / "config").is_file() and (repo / "dvc.yaml").is_file()
    (repo / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS))
    result = _dvc(["repro"], repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo


def test_every_stage_runs_in_order_and_writes_its_outputs(reproduced):
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())
    assert list(lock["stages"]) == [
        "simulate",
        "ablate",
        "leaderboard",
        "simulate_raw",
        "calibrate",
        "train_calibrated",
    ]
    stage_outs = {name: [out["path"] for out in stage.get("outs", [])] for name, stage in lock["stages"].items()}
    for paths in stage_outs.values():
        for path in paths:
            assert (reproduced / path).exists(), path
    data = reproduced / "dvc_runs" / "data"
    assert len((data / "train.csv").read_text().splitlines()) == TINY_SIMULATION["n_planets"] + 1
    sweep = reproduced / "dvc_runs" / "ablation"
    manifest = json.loads((sweep / "sweep.json").read_text())
    assert sorted(run["status"] for run in manifest["runs"]) == ["completed", "completed"]
    assert {"leaderboard.md", "leaderboard.html", "leaderboard.csv", "leaderboard.json"} <= {
        p.name for p in sweep.iterdir()
    }
    assert (sweep / "ablation_results").is_dir()


def test_lock_records_params_and_the_data_set_hash(reproduced):
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    assert lock["simulate"]["params"]["params.yaml"]["simulate"] == TINY_PARAMS["simulate"]
    assert lock["ablate"]["params"]["params.yaml"]["ablate"] == TINY_PARAMS["ablate"]
    assert "conf/ablation/default.yaml" in lock["ablate"]["params"]
    data_out = next(out for out in lock["simulate"]["outs"] if out["path"] == "dvc_runs/data")
    data_dep = next(dep for dep in lock["ablate"]["deps"] if dep["path"] == "dvc_runs/data")
    assert data_out["md5"].endswith(".dir") and data_dep["md5"] == data_out["md5"]


def test_metrics_show_reports_the_leaderboard_headline(reproduced):
    result = _dvc(["metrics", "show", "--json"], reproduced)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    metrics = document[""]["data"]["dvc_runs/ablation/leaderboard.json"]["data"]
    assert metrics["n_runs"] == 2 and metrics["n_completed"] == 2 and metrics["primary_metric"] == "adc2025"
    runs = [
        json.loads(path.read_text()) for path in (reproduced / "dvc_runs" / "ablation" / "runs").glob("*/metrics.json")
    ]
    chosen = max(runs, key=lambda run: run["val_adc2025_unclipped"])  # selected on validation
    assert len(runs) == 2 and metrics["best_val_adc2025"] == pytest.approx(chosen["val_adc2025"])
    assert metrics["best_adc2025"] == pytest.approx(chosen["adc2025"])  # its held-out test score
    table = _dvc(["metrics", "show"], reproduced)
    assert "best_adc2025" in table.stdout and "dvc_runs/ablation/leaderboard.json" in table.stdout


def test_pipeline_is_up_to_date_after_repro(reproduced):
    """Training writes a feature cache inside the data set; .dvcignore keeps it out of the data hash."""
    assert (reproduced / "dvc_runs" / "data" / "cache").is_dir()
    result = _dvc(["status", "--json"], reproduced)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}


def test_changing_a_leaderboard_param_reruns_only_the_leaderboard(reproduced):
    (reproduced / "params.yaml").write_text(yaml.safe_dump({**TINY_PARAMS, "leaderboard": {"metric": "gll", "top": 1}}))
    status = json.loads(_dvc(["status", "--json"], reproduced).stdout)
    assert set(status) == {"leaderboard"}
    result = _dvc(["repro"], reproduced)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Stage 'ablate' didn't change, skipping" in result.stdout
    leaderboard = json.loads((reproduced / "dvc_runs" / "ablation" / "leaderboard.json").read_text())
    assert leaderboard["primary_metric"] == "gll"


def test_every_run_records_the_data_set_hash_that_dvc_tracks(reproduced):
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    data_out = next(out for out in lock["simulate"]["outs"] if out["path"] == "dvc_runs/data")
    records = [
        json.loads(path.read_text()) for path in (reproduced / "dvc_runs" / "ablation" / "runs").glob("*/run.json")
    ]
    assert len(records) == 2
    for record in records:
        assert record["dataset_dvc"] == {
            "md5": data_out["md5"],
            "source": "dvc.lock",
            "stage": "simulate",
            "path": "dvc_runs/data",
            "nfiles": data_out["nfiles"],
            "size": data_out["size"],
            "matches_files": True,
        }


def test_a_data_set_added_with_dvc_add_is_recognised(tmp_path, tiny_data_dir):
    project = tmp_path / "project"
    shutil.copytree(tiny_data_dir, project / "data", ignore=shutil.ignore_patterns("cache"))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    for args in (["init", "-q"], ["add", "-q", "data"]):
        result = _dvc(args, project)
        assert result.returncode == 0, result.stderr
    pointer = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]

    from spectramind.tracking.dvc_hash import dvc_tracked_hash

    record = dvc_tracked_hash(project / "data")
    assert (record["md5"], record["source"], record["stage"]) == (pointer["md5"], "data.dvc", None)
    assert (record["nfiles"], record["size"], record["matches_files"]) == (pointer["nfiles"], pointer["size"], True)
    (project / "data" / "train.csv").write_text("planet_id\n")  # now the folder differs from the hash
    assert dvc_tracked_hash(project / "data")["matches_files"] is False


def test_real_data_path_runs_raw_to_calibrated_to_trained(reproduced):
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    raw_out = next(out for out in lock["simulate_raw"]["outs"] if out["path"] == "dvc_runs/raw")
    raw_dep = next(dep for dep in lock["calibrate"]["deps"] if dep["path"] == "dvc_runs/raw")
    assert raw_dep["md5"] == raw_out["md5"]
    calibrated = reproduced / "dvc_runs" / "calibrated"
    manifest = json.loads((calibrated / "calibration.json").read_text())
    assert manifest["counts"]["failed"] == 0 and manifest["counts"]["completed"] >= 8
    record = json.loads((reproduced / "dvc_runs" / "train_calibrated" / "run.json").read_text())
    assert record["status"] == "completed" and record["dataset_dvc"]["stage"] == "calibrate"
    shown = json.loads(_dvc(["metrics", "show", "--json"], reproduced).stdout)[""]["data"]
    assert "adc2025" in shown["dvc_runs/train_calibrated/metrics.json"]["data"]
