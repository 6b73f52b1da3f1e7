"""Warm start (``init_from=RUN_DIR_OR_CKPT``): a run starts from another run's best weights, with a
new identity, and a checkpoint of another architecture is refused in one line before anything trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from training_support import run_module, tiny_overrides

from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import run_identity
from spectramind.warm_start import architecture_mismatch, load_warm_start, warm_start_checkpoint

pytestmark = pytest.mark.slow  # trains models end to end


def train(cwd: Path, run_dir: str, *overrides: str):
    result = run_module(["spectramind.train", *overrides, f"hydra.run.dir={run_dir}"], cwd=cwd)
    return result, cwd / run_dir


@pytest.fixture(scope="module")
def source_run(tmp_path_factory, tiny_data_dir) -> Path:
    cwd = tmp_path_factory.mktemp("source")
    result, run_dir = train(cwd, "source", *tiny_overrides(tiny_data_dir), "model=mlp", "training.epochs=1")
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir


def test_a_warm_started_run_has_its_own_identity_and_records_where_it_started(tmp_path, tiny_data_dir, source_run):
    overrides = [*tiny_overrides(tiny_data_dir), "model=mlp", "training.epochs=1"]
    result, run_dir = train(tmp_path, "warm", *overrides, f"init_from={source_run}")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((run_dir / "run.json").read_text())
    source = json.loads((source_run / "run.json").read_text())
    assert record["status"] == "completed"
    assert record["init_from"] == str((source_run / "checkpoints" / "best.ckpt").resolve())
    assert record["run_id"] == run_identity([*overrides, f"init_from={source_run}"]).run_id != source["run_id"]
    assert record["config_hash"] != source["config_hash"]  # the same config otherwise
    assert record["epochs_trained"] == 1  # its own epochs: the count starts fresh


def test_the_weights_come_across_exactly(source_run):
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=["model=mlp"])
    module = instantiate(cfg.model, loss=instantiate(cfg.loss), optimizer=instantiate(cfg.optimizer))
    loaded = load_warm_start(source_run, module)
    saved = torch.load(loaded, map_location="cpu", weights_only=True)["state_dict"]
    assert saved.keys() == module.state_dict().keys()
    assert all(torch.equal(saved[name], value) for name, value in module.state_dict().items())


def test_another_architecture_is_one_line_before_anything_trains(tmp_path, tiny_data_dir, source_run):
    result, run_dir = train(tmp_path, "other", *tiny_overrides(tiny_data_dir), "model=cnn1d", f"init_from={source_run}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: init_from={source_run}: its checkpoint holds another architecture (")
    assert not (run_dir / "run.json").exists() and not (run_dir / "checkpoints").exists()


def test_a_missing_or_unreadable_checkpoint_is_one_line(tmp_path):
    with pytest.raises(ConfigurationError, match=r"init_from=.*nowhere: no checkpoint there"):
        warm_start_checkpoint(tmp_path / "nowhere")
    empty = tmp_path / "x.ckpt"
    empty.touch()
    assert warm_start_checkpoint(empty) == empty
    with pytest.raises(ConfigurationError, match=r"cannot read .*x.ckpt"):
        load_warm_start(empty, torch.nn.Linear(2, 2))


def test_the_mismatch_names_what_differs():
    expected = {"a": torch.zeros(2, 3), "b": torch.zeros(4)}
    assert architecture_mismatch(dict(expected), expected) is None
    text = architecture_mismatch({"a": torch.zeros(3, 3), "c": torch.zeros(1)}, expected)
    assert text == "1 missing, e.g. b; 1 unexpected, e.g. c; 1 of another shape, e.g. a [3, 3] vs [2, 3]"
