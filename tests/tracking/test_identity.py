"""Run identity: trackers are not part of what a run computes, so they change neither its id nor
its config hash (a sweep resumed with another logger re-runs nothing)."""

from __future__ import annotations

from spectramind.tracking.identity import config_hash, run_identity, safe_name


def test_the_logger_choice_changes_neither_run_id_nor_config_hash():
    plain = run_identity(["model=mlp", "seed=1"])
    tracked = run_identity(["model=mlp", "logger=[csv,mlflow]", "seed=1"])
    assert tracked == plain
    assert run_identity(["model=cnn1d", "seed=1"]).run_id != plain.run_id
    config = {"model": {"hidden": 8}, "seed": 1}
    assert config_hash({**config, "logger": {"mlflow": {"tracking_uri": "sqlite:///x.db"}}}) == config_hash(config)
    assert config_hash({**config, "seed": 2}) != config_hash(config)


def test_labels_are_safe_path_components():
    assert safe_name("model=../../etc", "run") == "model_._._etc"
    assert safe_name("///", "run") == "run"
