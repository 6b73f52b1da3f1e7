"""Disk and file faults: an output directory that cannot be created, data files missing, truncated
or of the wrong shape or columns, a truncated feature cache, a truncated checkpoint. Expected: one
line naming the file (exit 2, no traceback) where the user must act; recovery where the damaged
file is derived (the cache) or resumable (checkpoints: see test_kill_and_resume)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_support import single_error_line, spectramind
from sweep_helpers import explain, manifest, run_sweep, run_training

from spectramind.errors import DatasetError

from .battery import error_line

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


# ---------------------------------------------------------------- unwritable output directory
# Permission bits do not stop root (CI runs tests as root): a path *under a regular file* cannot
# be created by anyone, so that is the unwritable directory used here.
@pytest.fixture
def blocker(tmp_path) -> Path:
    path = tmp_path / "a-regular-file"
    path.write_text("not a directory\n")
    return path


def test_a_sweep_directory_that_cannot_be_created_is_one_line(tmp_path, blocker, train_overrides):
    result = run_sweep(tmp_path, *train_overrides, "model=mlp,cnn1d", f"hydra.sweep.dir={blocker}/sweep")
    line = error_line(result)
    assert f"cannot write the sweep directory {blocker}/sweep" in line and f"{blocker} is not a directory" in line
    assert blocker.read_text() == "not a directory\n"


def test_the_cli_reports_an_unwritable_sweep_directory_in_one_line(tmp_path, blocker, train_overrides):
    result = spectramind(
        "ablate", "run", *train_overrides, "model=mlp,cnn1d", "--sweep-dir", blocker / "sweep", cwd=tmp_path
    )
    assert f"{blocker} is not a directory" in single_error_line(result)


def test_a_run_directory_that_cannot_be_created_is_one_line(tmp_path, blocker, train_overrides):
    result = run_training(tmp_path, *train_overrides, f"hydra.run.dir={blocker}/run")
    assert error_line(result) == f"error: {blocker}/run: Not a directory"


# ---------------------------------------------------------------- damaged data
def _first_planet(data_dir: Path) -> int:
    return int(pd.read_csv(data_dir / "train_star_info.csv")["planet_id"].iloc[0])


def _truncate(path: Path, fraction: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def _rewrite_csv(path: Path, change) -> None:
    change(pd.read_csv(path)).to_csv(path, index=False)


def _light_curve(root: Path) -> Path:
    return root / "light_curves" / f"{_first_planet(root)}.npy"


# (damage, the damaged file, what the message must say)
DAMAGES = {
    "labels missing": (lambda root: (root / "train.csv").unlink(), "train.csv", "file is missing"),
    "labels truncated mid-row": (lambda root: _truncate(root / "train.csv"), "train.csv", "not a readable CSV"),
    "labels with a renamed column": (
        lambda root: _rewrite_csv(root / "train.csv", lambda f: f.rename(columns={"wl_7": "wavelength_7"})),
        "train.csv",
        "missing columns wl_7",
    ),
    "labels with rows missing": (
        lambda root: _rewrite_csv(root / "train.csv", lambda f: f.iloc[:-3]),
        "train.csv",
        "dataset.json promises",
    ),
    "star info without a column": (
        lambda root: _rewrite_csv(root / "train_star_info.csv", lambda f: f.drop(columns=["Ts"])),
        "train_star_info.csv",
        "missing columns Ts",
    ),
    "light curve missing": (lambda root: _light_curve(root).unlink(), "light_curves", "file is missing"),
    "light curve truncated": (lambda root: _truncate(_light_curve(root)), "light_curves", "truncated or not a .npy"),
    "light curve of the wrong shape": (
        lambda root: np.save(_light_curve(root), np.ones((48, 282), dtype=np.float32)),
        "light_curves",
        "expected shape (n_time, 283) or (n_visits, n_time, 283), got (48, 282)",
    ),
    "time grid of the wrong shape": (
        lambda root: np.save(root / "light_curve_time.npy", np.ones((48, 2))),
        "light_curve_time.npy",
        "expected a 1-D array",
    ),
    "dataset.json truncated": (lambda root: _truncate(root / "dataset.json", 0.5), "dataset.json", "not valid JSON"),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_damaged_data_is_a_one_line_error_naming_the_file(tmp_path, tiny_data_dir, damage):
    """The dataset is copied with its feature cache (the cache must not hide the damage)."""
    from spectramind.data.datamodule import ArielDataModule

    broken = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, broken)
    change, file_name, expected = DAMAGES[damage]
    damaged = _light_curve(broken) if file_name == "light_curves" else broken / file_name
    change(broken)
    with pytest.raises(DatasetError) as caught:
        ArielDataModule(str(broken)).setup("fit")
    message = str(caught.value)
    assert str(damaged) in message and expected in message and "\n" not in message, message


def test_a_truncated_feature_cache_is_recomputed(tmp_path, tiny_data_dir):
    """Fault: the derived feature cache truncated. Expected: it is ignored and rebuilt."""
    from spectramind.data.features.cache import feature_cache_path, load_features

    data = tmp_path / "data"
    shutil.copytree(tiny_data_dir, data)
    expected = load_features(data, detrend=True)
    cache = feature_cache_path(data, detrend=True)
    _truncate(cache, 0.5)
    recomputed = load_features(data, detrend=True)
    assert np.array_equal(recomputed["depth"], expected["depth"])
    with np.load(cache) as rewritten:  # and the cache was rewritten whole
        assert np.array_equal(rewritten["depth"], expected["depth"])


def test_damaged_data_fails_a_training_in_one_line(tmp_path, tiny_data_dir, train_overrides):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, broken)
    damaged = _light_curve(broken)
    _truncate(damaged)
    overrides = [o for o in train_overrides if not o.startswith(("data.", "+data."))]
    result = run_training(
        tmp_path, *overrides, f"data.data_dir={broken}", "data.simulation=null", f"hydra.run.dir={tmp_path / 'run'}"
    )
    assert str(damaged) in error_line(result)


def test_damaged_data_fails_each_run_of_a_sweep_with_the_file_named(tmp_path, tiny_data_dir, train_overrides):
    """Pre-flight reads no data, so each run fails; the sweep goes on, says why in one line per
    run, builds its leaderboard and exits 1."""
    broken = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, broken)
    (broken / "train_star_info.csv").unlink()
    overrides = [o for o in train_overrides if not o.startswith(("data.", "+data."))]
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(
        tmp_path,
        *overrides,
        f"data.data_dir={broken}",
        "data.simulation=null",
        "model=mlp,cnn1d",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 1, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    missing = broken / "train_star_info.csv"
    for run in manifest(sweep_dir)["runs"]:
        assert run["status"] == "failed" and run["error"]["type"] == "DatasetError"
        assert f"[ablation] failed: {run['run_id']}: DatasetError: {missing}: file is missing" in result.stderr
    assert (sweep_dir / "leaderboard.md").is_file()


def test_a_missing_data_folder_is_rejected_before_any_run(tmp_path, train_overrides):
    overrides = [o for o in train_overrides if not o.startswith(("data.", "+data."))]
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(
        tmp_path,
        *overrides,
        f"data.data_dir={tmp_path / 'nowhere'}",
        "data.simulation=null",
        "model=mlp,cnn1d",
        f"hydra.sweep.dir={sweep_dir}",
    )
    line = error_line(result)
    assert f"data folder {tmp_path / 'nowhere'} does not exist" in line and "Nothing was launched" in line
    assert not (sweep_dir / "runs").exists()


# ---------------------------------------------------------------- truncated checkpoint
def test_a_truncated_checkpoint_is_refused_by_predict_naming_it(tmp_path, fault_sweep, tiny_data_dir):
    from spectramind.predict import predict_folder

    completed = next(r for r in manifest(fault_sweep["sweep_dir"])["runs"] if r["status"] == "completed")
    run_dir = tmp_path / "run"
    shutil.copytree(fault_sweep["sweep_dir"] / "runs" / completed["run_id"], run_dir)
    checkpoint = run_dir / "checkpoints" / "best.ckpt"
    _truncate(checkpoint, 0.5)
    with pytest.raises(DatasetError, match=f"checkpoint {checkpoint} is unreadable"):
        predict_folder(checkpoint, tiny_data_dir, tmp_path / "submission.csv")
    assert not (tmp_path / "submission.csv").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"
