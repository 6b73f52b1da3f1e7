"""One training's phases, each on its own: the record starts before anything is built, building trains
nothing, evaluation scores whatever the model holds, and the status hook is the caller's."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_module
from training_support import tiny_overrides

from spectramind import training
from spectramind.errors import ConfigurationError
from spectramind.sweep_layout import COMPLETED, RUN_RECORD_FILE, RUNNING, SPLITS_FILE


def _config(tiny_data_dir, *extra: str):
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        return compose(config_name="config", overrides=[*tiny_overrides(tiny_data_dir), "model=mlp", *extra])


def test_a_bad_value_fails_in_the_first_phase_before_the_run_folder_exists(tiny_data_dir, tmp_path):
    cfg = _config(tiny_data_dir, "training.epochs=-1")
    with pytest.raises(ConfigurationError, match="training.epochs"):
        training.start_record(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_building_records_the_data_and_trains_nothing(tiny_data_dir, tmp_path):
    ctx = training.start_record(_config(tiny_data_dir), tmp_path / "run")
    with ctx.recorder:
        parts = training.build(ctx)
        record = json.loads((tmp_path / "run" / RUN_RECORD_FILE).read_text())
        assert record["status"] == RUNNING and record["dataset_hash"] and record["orbit_sources"]
        splits = json.loads((tmp_path / "run" / SPLITS_FILE).read_text())
        assert sum(len(ids) for ids in splits.values()) == 40
        assert parts.trainer.current_epoch == 0 and parts.checkpoint.best_model_path == ""
        # evaluation scores the model as it is (no best checkpoint yet): the untrained network
        metrics, predictions, _ = training.evaluate(ctx, parts)
        assert {"adc2025", "val_adc2025", "ref_pooled_adc2025", "best_val_loss"} <= set(metrics)
        assert sum(len(batch["planet_id"]) for batch in predictions) == len(splits["test"])


def test_the_status_hook_is_the_callers(tiny_data_dir, tmp_path):
    seen = []
    metrics = training.run_training(
        _config(tiny_data_dir), tmp_path / "run", on_status=lambda record, metrics: seen.append(record["status"])
    )
    assert seen[0] == RUNNING and seen[-1] == COMPLETED and "val_adc2025" in metrics
