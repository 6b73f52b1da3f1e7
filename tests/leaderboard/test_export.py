"""ablation_results/: the N best configurations, and nothing written outside the sweep directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.export import export_top
from spectramind.leaderboard.stats import compute_stats
from spectramind.tracking.identity import safe_name

from .synthetic_sweep import FakeRun


def _export(sweep_dir: Path, n: int) -> Path:
    table = collate_runs(sweep_dir)
    return export_top(table, compute_stats(table), sweep_dir, n)


def _config_means(runs):
    means: dict[str, list[float]] = {}
    for run in runs:
        if run.status == "completed":
            means.setdefault(run.config_id, []).append(run.metrics["adc2025"])
    return sorted(((np.mean(v), k) for k, v in means.items()), reverse=True)


def test_top_n_folders_and_contents(mixed_sweep):
    root = _export(mixed_sweep.dir, 2)
    expected = [config_id for _, config_id in _config_means(mixed_sweep.runs)[:2]]
    index = json.loads((root / "index.json").read_text())
    assert [entry["config_id"] for entry in index["configs"]] == expected
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert folders == [entry["folder"] for entry in index["configs"]]
    assert folders[0].startswith("01_") and folders[1].startswith("02_")
    for entry in index["configs"]:
        folder = root / entry["folder"]
        seeds = [r for r in mixed_sweep.runs if r.config_id == entry["config_id"] and r.status == "completed"]
        best = max(seeds, key=lambda r: r.metrics["adc2025"])
        assert entry["best_run_id"] == best.run_id
        source = mixed_sweep.dir / "runs" / best.run_id
        assert (folder / "config_resolved.yaml").read_text() == (source / "config_resolved.yaml").read_text()
        assert (folder / "submission.csv").read_bytes() == (source / "submission.csv").read_bytes()
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["aggregate"]["adc2025"]["mean"] == pytest.approx(np.mean([r.metrics["adc2025"] for r in seeds]))
        assert metrics["aggregate"]["adc2025"]["n"] == len(seeds)
        assert {s["run_id"] for s in metrics["per_seed"]} == {r.run_id for r in seeds}
        pointer = json.loads((folder / "checkpoint.json").read_text())
        assert pointer["run_id"] == best.run_id and pointer["exists"] is True
        assert (folder / pointer["checkpoint"]).resolve() == (source / "checkpoints" / "best.ckpt").resolve()
    assert "| 1 |" in (root / "index.md").read_text()


def test_rerun_replaces_stale_folders(mixed_sweep):
    root = _export(mixed_sweep.dir, 3)
    assert len([p for p in root.iterdir() if p.is_dir()]) == 3
    _export(mixed_sweep.dir, 1)
    assert len([p for p in root.iterdir() if p.is_dir()]) == 1
    assert not [p for p in mixed_sweep.dir.iterdir() if p.name.startswith(".ablation_results")]


def test_hostile_ids_stay_inside_the_sweep_dir(sweep_factory, tmp_path):
    runs = [
        FakeRun({"f": "a"}, 0, config_id="../../escaped", run_id="ok-run"),
        FakeRun({"f": "b"}, 0, config_id="/abs/path", run_id="other-run"),
    ]
    sweep = sweep_factory({"f": ["a", "b"]}, runs)
    before = {p for p in tmp_path.rglob("*")}
    root = _export(sweep.dir, 2)
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(p.resolve().is_relative_to(sweep.dir.resolve()) for p in created)
    assert not (tmp_path.parent / "escaped").exists()
    folders = [p.name for p in root.iterdir() if p.is_dir()]
    assert all("/" not in f and ".." not in f for f in folders)


@pytest.mark.parametrize("name", ["../../x", "..", ".", "/etc/passwd", "a/../../b", "", "...", "é<script>"])
def test_safe_name(name):
    component = safe_name(name, "config")
    assert component and component not in (".", "..") and os.sep not in component and ".." not in component
    assert len(safe_name(name * 50, "config")) <= 80


def test_checkpoint_pointer_ignores_paths_leaving_the_run_dir(mixed_sweep):
    best_config = _config_means(mixed_sweep.runs)[0][1]
    seeds = [r for r in mixed_sweep.runs if r.config_id == best_config]
    best = max(seeds, key=lambda r: r.metrics["adc2025"])
    record_path = mixed_sweep.dir / "runs" / best.run_id / "run.json"
    record = json.loads(record_path.read_text())
    record["checkpoints"]["best"] = "../../../../etc/passwd"
    record_path.write_text(json.dumps(record))
    root = _export(mixed_sweep.dir, 1)
    pointer = json.loads(next(root.glob("01_*/checkpoint.json")).read_text())
    assert pointer["from_sweep_dir"] == f"runs/{best.run_id}/checkpoints/best.ckpt"
