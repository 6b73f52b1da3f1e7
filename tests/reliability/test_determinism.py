"""Determinism on CPU: a configuration and seed give bit-identical metrics whether trained by a
parallel sweep (joblib, the fault sweep's healthy runs, one of them possibly interrupted by the
SIGKILLed worker and resumed), by a sequential sweep, or again from the sweep's
``configs_resolved/<run_id>.yaml`` (``python -m spectramind.train --config-path <sweep>/configs_resolved
--config-name <run_id>``). Runs are compared at the same CPU thread count, which run.json records."""

from __future__ import annotations

import json

import pytest
from sweep_helpers import explain, manifest, run_record, run_sweep, run_training

from .battery import FAULT, FAULT_ENV, battery_overrides, by_fault, metrics_without_timing

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

HEALTHY = [f"{FAULT}=faults.Healthy", f"+callbacks.fault.when_env={FAULT_ENV}", "optimizer.lr=0.003,0.001"]


@pytest.fixture(scope="module")
def sequential_sweep(tmp_path_factory, train_overrides):
    cwd = tmp_path_factory.mktemp("sequential")
    sweep_dir = cwd / "sweep"
    result = run_sweep(cwd, *battery_overrides(train_overrides), *HEALTHY, f"hydra.sweep.dir={sweep_dir}")
    assert result.returncode == 0, explain(result)
    return sweep_dir


def test_sequential_and_parallel_sweeps_give_bit_identical_metrics(sequential_sweep, fault_sweep):
    parallel_dir = fault_sweep["sweep_dir"]
    parallel = {entry["run_id"] for name, entry in by_fault(parallel_dir).items() if name.startswith("Healthy")}
    sequential = {run["run_id"] for run in manifest(sequential_sweep)["runs"]}
    assert sequential == parallel  # same overrides, same run ids, whatever the launcher
    metrics = {}
    for run_id in sorted(sequential):
        assert run_record(sequential_sweep, run_id)["num_threads"] == run_record(parallel_dir, run_id)["num_threads"]
        metrics[run_id] = metrics_without_timing(sequential_sweep / "runs" / run_id / "metrics.json")
        assert metrics[run_id] == metrics_without_timing(parallel_dir / "runs" / run_id / "metrics.json")
    first, second = metrics.values()
    assert first["adc2025_unclipped"] != second["adc2025_unclipped"]  # the learning rate matters: a real comparison


def test_rerunning_a_resolved_config_reproduces_the_run(sequential_sweep, tmp_path):
    run_id = manifest(sequential_sweep)["runs"][0]["run_id"]
    run_dir = tmp_path / "rerun"
    result = run_training(
        tmp_path,
        "--config-path",
        str(sequential_sweep / "configs_resolved"),
        "--config-name",
        run_id,
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, explain(result)
    original = run_record(sequential_sweep, run_id)
    rerun = json.loads((run_dir / "run.json").read_text())
    assert rerun["config_hash"] == original["config_hash"] and rerun["num_threads"] == original["num_threads"]
    assert metrics_without_timing(run_dir / "metrics.json") == metrics_without_timing(
        sequential_sweep / "runs" / run_id / "metrics.json"
    )
