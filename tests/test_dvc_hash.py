"""Reading the hash DVC tracks for a data set from dvc.lock / <name>.dvc (spectramind.tracking.dvc_hash).

These build DVC projects by hand to cover the lookup rules; tests/test_dvc.py checks the same
reader against files written by DVC itself (`dvc repro`, `dvc add`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from spectramind.tracking.dvc_hash import dataset_dvc_record, dvc_tracked_hash


def _project(tmp_path: Path) -> Path:
    (tmp_path / ".dvc").mkdir(parents=True)
    return tmp_path


def _data(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "train.csv").write_text("planet_id,x\n1,2\n")
    (folder / "sub" / "labels.csv").write_text("planet_id,y\n1,3\n")
    return folder


def _totals(folder: Path) -> dict:
    files = [p for p in folder.rglob("*") if p.is_file() and "cache" not in p.relative_to(folder).parts[:1]]
    return {"nfiles": len(files), "size": sum(p.stat().st_size for p in files)}


def _write_lock(folder: Path, stages: dict) -> Path:
    lock = folder / "dvc.lock"
    lock.write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    return lock


def test_outside_a_dvc_project_there_is_no_hash(tmp_path):
    data = _data(tmp_path / "data")
    (tmp_path / "data.dvc").write_text(yaml.safe_dump({"outs": [{"md5": "a.dir", "path": "data"}]}))
    assert dvc_tracked_hash(data) is None  # a .dvc file without a project (.dvc/) is not DVC's


def test_an_untracked_folder_has_no_hash(tmp_path):
    root = _project(tmp_path)
    data = _data(root / "data")
    _write_lock(root, {"other": {"cmd": "x", "outs": [{"path": "elsewhere", "md5": "b.dir"}]}})
    assert dvc_tracked_hash(data) is None


def test_a_pipeline_output_is_read_from_the_lock_file_of_its_stage(tmp_path):
    root = _project(tmp_path)
    data = _data(root / "runs" / "data")
    _write_lock(
        root,
        {
            "train": {"cmd": "t", "deps": [{"path": "runs/data", "md5": "dep-is-not-an-output.dir"}]},
            "simulate": {
                "cmd": "s",
                "outs": [{"path": "runs/data", "hash": "md5", "md5": "0123.dir", **_totals(data)}],
            },
        },
    )
    record = dvc_tracked_hash(data)
    assert record == {
        "md5": "0123.dir",
        "source": "dvc.lock",
        "stage": "simulate",
        "path": "runs/data",
        "matches_files": True,
        **_totals(data),
    }


def test_the_nearest_lock_file_wins_and_paths_are_relative_to_it(tmp_path):
    root = _project(tmp_path)
    data = _data(root / "project" / "data")
    _write_lock(root, {"outer": {"cmd": "o", "outs": [{"path": "project/data", "md5": "outer.dir"}]}})
    _write_lock(root / "project", {"inner": {"cmd": "i", "outs": [{"path": "data", "md5": "inner.dir"}]}})
    record = dvc_tracked_hash(data)
    assert (record["md5"], record["source"], record["stage"]) == ("inner.dir", "project/dvc.lock", "inner")
    assert record["matches_files"] is None  # this lock records no file count or size


def test_a_dvc_add_pointer_file_beside_the_folder(tmp_path):
    root = _project(tmp_path)
    data = _data(root / "data")
    (root / "data.dvc").write_text(yaml.safe_dump({"outs": [{"md5": "abc.dir", "path": "data", **_totals(data)}]}))
    record = dvc_tracked_hash(str(data))
    assert (record["md5"], record["source"], record["stage"], record["matches_files"]) == (
        "abc.dir",
        "data.dvc",
        None,
        True,
    )


def test_the_feature_cache_inside_the_data_set_is_not_counted(tmp_path):
    root = _project(tmp_path)
    data = _data(root / "data")
    totals = _totals(data)
    (data / "cache").mkdir()
    (data / "cache" / "features.npz").write_bytes(b"0" * 1000)
    (root / "data.dvc").write_text(yaml.safe_dump({"outs": [{"md5": "abc.dir", "path": "data", **totals}]}))
    assert dvc_tracked_hash(data)["matches_files"] is True


def test_a_folder_changed_since_dvc_hashed_it_is_flagged_with_a_warning(tmp_path, caplog):
    root = _project(tmp_path)
    data = _data(root / "data")
    (root / "data.dvc").write_text(yaml.safe_dump({"outs": [{"md5": "abc.dir", "path": "data", **_totals(data)}]}))
    (data / "train.csv").write_text("planet_id,x\n1,2\n2,4\n")
    with caplog.at_level(logging.WARNING):
        record = dataset_dvc_record(data)
    assert record["md5"] == "abc.dir" and record["matches_files"] is False
    assert "has changed since DVC hashed it" in caplog.text and "dvc status" in caplog.text


@pytest.mark.parametrize("text", ["stages: [: broken", "- just a list", "stages: [1, 2]", "stages: {s: {outs: 3}}"])
def test_an_unreadable_lock_file_is_named_and_does_not_fail_the_run(tmp_path, caplog, text):
    root = _project(tmp_path)
    data = _data(root / "data")
    lock = root / "dvc.lock"
    lock.write_text(text)
    with pytest.raises(ValueError, match="dvc.lock"):
        dvc_tracked_hash(data)
    with caplog.at_level(logging.WARNING):
        record = dataset_dvc_record(data)
    assert set(record) == {"error"} and str(lock) in record["error"]
    assert "not recorded" in caplog.text


def test_a_lock_file_above_the_project_root_is_not_consulted(tmp_path):
    _write_lock(tmp_path, {"s": {"cmd": "s", "outs": [{"path": "inner/data", "md5": "x.dir"}]}})
    root = _project(tmp_path / "inner")
    data = _data(root / "data")
    assert dvc_tracked_hash(data) is None
