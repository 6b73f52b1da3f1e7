"""Synthetic sweep directories, written to the sweep directory contract (docs in design.md).

The leaderboard reads sweeps from disk only, so its tests write the files a trainer and a sweeper
would write (sweep.json, events.jsonl, runs/<id>/{run.json, metrics.json, events.jsonl, ...})
directly, including the awkward states: failed, diverged, still running with a torn event line,
planned but never started, no sweep.json at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_WAVELENGTHS = 283
SWEEP_START = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
METRIC_KEYS = (
    "adc2025",
    "adc2025_unclipped",
    "adc2024",
    "adc2024_unclipped",
    "gll",
    "rmse_ppm",
    "mae_ppm",
    "z_std",
    "coverage_1sigma",
    "coverage_2sigma",
    "entropy",
    "violations_total",
    "violations_non_finite",
    "violations_sigma_nonpositive",
    "violations_negative_depth",
    "violations_isolated_spike",
)


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "run"


def synthetic_metrics(factors: dict[str, str], seed: int) -> dict[str, float]:
    """Deterministic but factor- and seed-dependent test metrics (adc2025 in ~[0.3, 0.7])."""
    digest = hashlib.sha1(json.dumps(sorted(factors.items())).encode()).digest()
    config_effect = digest[0] / 255.0 * 0.3
    noise = np.random.default_rng([seed, digest[1]]).normal(0.0, 0.01)
    adc = 0.35 + config_effect + noise
    metrics = {
        key: float(np.random.default_rng([seed, digest[2], i]).uniform(0, 1)) for i, key in enumerate(METRIC_KEYS)
    }
    metrics.update(
        adc2025=adc,
        adc2025_unclipped=adc,
        adc2024=adc - 0.05,
        rmse_ppm=100.0 - 80.0 * adc,
        violations_total=0.0,
        best_val_loss=-5.0 - adc,
        epochs=3.0,
        train_time_s=12.5 + seed,
    )
    return metrics


def split_metrics(test: float, val: float) -> dict[str, float]:
    """metrics.json as runs write it today: the test split's scores and, with the ``val_`` prefix,
    the best checkpoint's on the validation split (``test``/``val``: that split's adc2025)."""

    def scores(adc: float) -> dict[str, float]:
        return {
            "adc2025": max(adc, 0.0),
            "adc2025_unclipped": adc,
            "gll": 10 * adc,
            "rmse_ppm": 100.0 - 80.0 * adc,
            "coverage_1sigma": 0.6,
        }

    return {
        **scores(test),
        **{f"val_{k}": v for k, v in scores(val).items()},
        "best_val_loss": -5.0 - val,
        "epochs": 3.0,
        "train_time_s": 12.5,
    }


@dataclass
class FakeRun:
    """One run to write; ``metrics=None`` means synthetic_metrics (for completed runs)."""

    factors: dict[str, str]
    seed: int
    status: str = "completed"
    metrics: dict[str, float] | None = None
    error: dict[str, str] | None = None
    is_baseline: bool = False
    has_dir: bool = True
    torn_events: bool = False
    predictions: bool = False
    epochs: int = 3
    config_id: str | None = None
    run_id: str | None = None
    extra_overrides: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        lines = sorted(f"{k}={v}" for k, v in self.factors.items()) + self.extra_overrides
        label = _safe("_".join(lines))[:48] or "default"
        digest = hashlib.sha1("\n".join(lines).encode()).hexdigest()[:8]
        self.config_id = self.config_id or f"{label}-{digest}"
        self.run_id = self.run_id or f"{self.config_id}-s{self.seed}"
        if self.metrics is None and self.status == "completed":
            self.metrics = synthetic_metrics(self.factors, self.seed)

    @property
    def overrides(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.factors.items()] + self.extra_overrides + [f"seed={self.seed}"]


@dataclass
class SyntheticSweep:
    dir: Path
    runs: list[FakeRun]
    factors: dict[str, list[str]]
    wall_time_s: float

    def run(self, **factors_and_seed: Any) -> FakeRun:
        seed = factors_and_seed.pop("seed")
        return next(r for r in self.runs if r.seed == seed and r.factors == factors_and_seed)


def grid_runs(factors: dict[str, list[str]], seeds: list[int], baseline: dict[str, str] | None = None) -> list[FakeRun]:
    runs = []
    for levels in itertools.product(*factors.values()):
        assignment = dict(zip(factors, levels))
        for seed in seeds:
            runs.append(FakeRun(factors=assignment, seed=seed, is_baseline=assignment == baseline))
    return runs


def write_predictions(path: Path, seed: int, n_planets: int = 12, bias_ppm: float = 0.0) -> None:
    rng = np.random.default_rng(seed)
    y = 0.01 + 0.001 * rng.standard_normal((n_planets, 1)) + 2e-4 * np.sin(np.linspace(0, 6, N_WAVELENGTHS))
    sigma = np.full((n_planets, N_WAVELENGTHS), 5e-5)
    mu = y + bias_ppm * 1e-6 + sigma * rng.standard_normal((n_planets, N_WAVELENGTHS))
    columns = {"planet_id": np.arange(1000, 1000 + n_planets)}
    columns.update({f"mu_{i + 1}": mu[:, i] for i in range(N_WAVELENGTHS)})
    columns.update({f"sigma_{i + 1}": sigma[:, i] for i in range(N_WAVELENGTHS)})
    columns.update({f"y_{i + 1}": y[:, i] for i in range(N_WAVELENGTHS)})
    pd.DataFrame(columns).to_parquet(path, index=False)
    submission = {"planet_id": columns["planet_id"]}
    submission.update({f"wl_{i + 1}": mu[:, i] for i in range(N_WAVELENGTHS)})
    submission.update({f"sigma_{i + 1}": sigma[:, i] for i in range(N_WAVELENGTHS)})
    pd.DataFrame(submission).to_csv(path.with_name("submission.csv"), index=False)


def _write_run(root: Path, run: FakeRun, index: int, git_commit: str) -> None:
    run_dir = root / "runs" / run.run_id
    (run_dir / "checkpoints").mkdir(parents=True)
    started = SWEEP_START + dt.timedelta(seconds=10 + index)
    ended = started + dt.timedelta(seconds=30)
    config_yaml = "".join(f"# {k}\n{k.replace('.', '_')}: {json.dumps(v)}\n" for k, v in run.factors.items())
    config_yaml += f"seed: {run.seed}\ndata:\n  data_dir: /nonexistent\n"
    (run_dir / "config_resolved.yaml").write_text(config_yaml)
    (root / "configs_resolved").mkdir(exist_ok=True)
    (root / "configs_resolved" / f"{run.run_id}.yaml").write_text(config_yaml)
    final = run.status in ("completed", "failed", "diverged")
    record = {
        "run_id": run.run_id,
        "config_id": run.config_id,
        "label": run.run_id,
        "overrides": run.overrides,
        "config_hash": "cfg" + run.config_id[-6:],
        "dataset_hash": "data0123",
        "dataset_dvc": {
            "md5": "dvc0123.dir",
            "source": "dvc.lock",
            "stage": "simulate",
            "path": "data",
            "nfiles": 6,
            "size": 1000,
            "matches_files": True,
        },
        "git": {"commit": git_commit, "dirty": False},
        "versions": {"python": "3.11"},
        "seed": run.seed,
        "device": "cpu",
        "status": run.status,
        "started": iso(started),
        "ended": iso(ended) if final else None,
        "durations": {"total_s": 30.0, "fit_s": 25.0, "test_s": 2.0} if final else {},
        "epochs": run.epochs,
        "n_params": 1234,
        "checkpoints": {"last": "checkpoints/last.ckpt", "best": "checkpoints/best.ckpt"},
        "error": run.error,
    }
    (run_dir / "run.json").write_text(json.dumps(record))
    lines = [{"event": "run_start", "time": iso(started), "run_id": run.run_id}]
    for epoch in range(run.epochs):
        val_loss = -3.0 - epoch * 0.5 - (run.metrics or {}).get("adc2025", 0.0)
        lines.append(
            {
                "event": "epoch_end",
                "time": iso(started + dt.timedelta(seconds=epoch + 1)),
                "epoch": epoch,
                "duration_s": 1.0,
                "metrics": {"train/loss": val_loss + 0.1, "val/loss": val_loss, "val/adc2025": 0.1 * epoch},
            }
        )
    if run.status == "completed":
        (run_dir / "metrics.json").write_text(json.dumps(run.metrics))
        lines.append({"event": "test_end", "time": iso(ended), "metrics": run.metrics})
    if final:
        lines.append({"event": "run_end", "time": iso(ended), "status": run.status, "error": run.error})
        (run_dir / "checkpoints" / "best.ckpt").write_bytes(b"ckpt")
        (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"ckpt")
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if run.torn_events:
        text += '{"event": "epoch_end", "time": "2025-03-01T12:'
    (run_dir / "events.jsonl").write_text(text)
    if run.predictions:
        write_predictions(run_dir / "predictions.parquet", seed=run.seed + index, bias_ppm=10.0 * index)


def write_sweep(
    root: Path,
    factors: dict[str, list[str]],
    runs: list[FakeRun],
    *,
    baseline: dict[str, str] | None = None,
    design: str = "grid",
    study: str | None = "default",
    manifest: bool = True,
    sweep_events: bool = True,
    finished: bool = True,
    wall_time_s: float = 3600.0,
    git_commit: str = "abc123def456",
) -> SyntheticSweep:
    root.mkdir(parents=True, exist_ok=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for index, run in enumerate(runs):
        if run.has_dir:
            _write_run(root, run, index, git_commit)
    seeds = sorted({r.seed for r in runs})
    if manifest:
        entries = [
            {
                "run_id": r.run_id,
                "config_id": r.config_id,
                "label": r.run_id,
                "overrides": r.overrides,
                "factors": r.factors,
                "seed": r.seed,
                "is_baseline": r.is_baseline,
                "config_hash": "h" + r.config_id[-6:],
                "status": r.status if r.has_dir else "pending",
                "attempts": int(r.has_dir),
                "started": None,
                "ended": None,
                "error": r.error,
            }
            for r in runs
        ]
        document = {
            "schema": 1,
            "study": study,
            "design": design,
            "factors": factors,
            "baseline": baseline or {},
            "seeds": seeds,
            "seed_key": "seed",
            "created": iso(SWEEP_START),
            "updated": iso(SWEEP_START),
            "git": {"commit": git_commit, "dirty": False},
            "runs": entries,
        }
        (root / "sweep.json").write_text(json.dumps(document, indent=1))
    if sweep_events:
        events = [
            {"event": "sweep_start", "time": iso(SWEEP_START)},
            {"event": "plan", "time": iso(SWEEP_START + dt.timedelta(seconds=1)), "n_runs": len(runs)},
        ]
        for index, run in enumerate(runs):
            if run.status in ("completed", "failed", "diverged"):
                events.append(
                    {
                        "event": "run_end",
                        "time": iso(SWEEP_START + dt.timedelta(seconds=40 + index)),
                        "run_id": run.run_id,
                        "status": run.status,
                    }
                )
        end_time = SWEEP_START + dt.timedelta(seconds=wall_time_s)
        events.append({"event": "sweep_end" if finished else "run_end", "time": iso(end_time)})
        (root / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return SyntheticSweep(dir=root, runs=runs, factors=factors, wall_time_s=wall_time_s)


HOSTILE_LEVEL = "<script>window.__pwned=1</script>"
HOSTILE_ERROR = 'bad | value\nline two </script><img src=x onerror="window.__pwned2=1">'


def mixed_runs() -> tuple[dict[str, list[str]], dict[str, str], list[FakeRun]]:
    """A 2x2 grid x 2 seeds (one level hostile HTML) plus one failed, one diverged, one running
    (torn events line) and one pending run of an extra configuration."""
    factors = {"model": ["cnn1d", "mlp"], "optimizer.lr": ["0.001", HOSTILE_LEVEL]}
    baseline = {"model": "cnn1d", "optimizer.lr": "0.001"}
    runs = grid_runs(factors, [0, 1], baseline)
    for run in runs:
        run.predictions = True
    extra = {"model": "mlp", "optimizer.lr": "0.1"}
    factors["optimizer.lr"].append("0.1")
    runs += [
        FakeRun(
            factors=extra,
            seed=0,
            status="failed",
            error={"type": "RuntimeError", "message": HOSTILE_ERROR, "traceback": "Traceback...\nRuntimeError"},
        ),
        FakeRun(
            factors=extra,
            seed=1,
            status="diverged",
            error={"type": "TrainingDiverged", "message": "loss is nan at epoch 2", "traceback": ""},
            epochs=2,
        ),
        FakeRun(
            factors={"model": "cnn1d", "optimizer.lr": "0.1"}, seed=0, status="running", torn_events=True, epochs=1
        ),
        FakeRun(factors={"model": "cnn1d", "optimizer.lr": "0.1"}, seed=1, status="pending", has_dir=False),
    ]
    return factors, baseline, runs
