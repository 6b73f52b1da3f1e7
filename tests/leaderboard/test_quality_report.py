"""bench/quality.py, the report behind docs/quality.md, on a synthetic quality study: the table has
every configuration between the naive baseline and the references, and both figures are drawn from the
best run's and the classical fit's predictions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .synthetic_sweep import FakeRun

REPO = Path(__file__).resolve().parents[2]


def test_quality_report_table_and_figures(sweep_factory, tmp_path):
    runs = [
        FakeRun(
            {"model": model},
            seed,
            predictions=True,
            is_baseline=model == "spectral_prior",
            metrics={
                "adc2025": score + seed / 100,
                "adc2025_unclipped": score + seed / 100,
                "ref_per_channel_adc2025": 0.40,
                "ref_pooled_adc2025": 0.555,
                "rmse_ppm": 120.0,
                "train_time_s": 10.0,
            },
        )
        for model, score in (("spectral_prior", 0.53), ("transit_fit", 0.48))
        for seed in (0, 1)
    ]
    sweep = sweep_factory({"model": ["spectral_prior", "transit_fit"]}, runs, baseline={"model": "spectral_prior"})
    result = subprocess.run(
        [sys.executable, "-m", "bench.quality", str(sweep.dir), "--images", str(tmp_path / "img")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[2].startswith("| naive") and "| per-channel reference" in result.stdout
    assert "| pooled reference (noise truth, same split) | | 0.5550 |" in result.stdout
    assert "| 0.5350 ± 0.007071 (2) |" in result.stdout and "| 96.4 % |" in result.stdout
    classical = next(r.run_id for r in runs if r.factors["model"] == "transit_fit" and r.seed == 1)
    assert f"classical fit: {classical}" in result.stdout
    for name in ("quality_error.png", "quality_zscores.png"):
        assert (tmp_path / "img" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
