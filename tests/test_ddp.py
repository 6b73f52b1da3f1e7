"""`python -m spectramind.train trainer=ddp trainer.accelerator=cpu`: two real processes (gloo),
one run directory and one record written by rank zero, and test and validation metrics equal to
evaluating the run's best checkpoint alone, in this process, with the same metric code."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from training_support import run_module, tiny_overrides

from spectramind.metrics.diagnostics import REPORT_KEYS, evaluate_predictions

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

# 7 validation and 7 test planets of 40: an odd count, which Lightning's DistributedSampler pads
# with a repeated planet on 2 processes, so a planet counted twice would show.
ODD_SPLITS = ("data.val_fraction=0.175", "data.test_fraction=0.175")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, tiny_data_dir):
    """One 2-process CPU DDP run with Hydra's default run directory (outputs/<date>/<time>), as a
    user starts it, so that a second run directory made by rank 1 would show."""
    cwd = tmp_path_factory.mktemp("ddp")
    result = run_module(
        ["spectramind.train", *tiny_overrides(tiny_data_dir), *ODD_SPLITS, "trainer=ddp", "trainer.accelerator=cpu"],
        cwd=cwd,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return cwd, result


def _run_dir(cwd):
    records = list(cwd.rglob("run.json"))
    assert len(records) == 1, records  # one run directory: rank 1 wrote none of its own
    return records[0].parent


def test_both_ranks_ran_and_only_rank_zero_reported(ddp_run):
    cwd, result = ddp_run
    # Hydra's job log of each process (rank 1's is train_ddp_process_1.log, in the same directory)
    logs = "".join(path.read_text() for path in _run_dir(cwd).glob("*.log"))
    assert "GLOBAL_RANK: 0, MEMBER: 1/2" in logs and "GLOBAL_RANK: 1, MEMBER: 2/2" in logs
    assert result.stdout.count("test: adc2025=") == 1
    assert result.stderr.count("run finished") == 1


def test_one_completed_record_with_one_event_log(ddp_run):
    run_dir = _run_dir(ddp_run[0])
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed" and record["error"] is None and record["epochs_trained"] == 2
    events = [json.loads(line)["event"] for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert events == ["run_start", "epoch_end", "epoch_end", "test_end", "run_end"]
    for name in ("metrics.json", "submission.csv", "checkpoints/best.ckpt", "config_resolved.yaml"):
        assert (run_dir / name).is_file(), name


def test_metrics_and_predictions_equal_the_best_checkpoint_evaluated_alone(ddp_run):
    """Rebuild the model from the run's config, load best.ckpt, predict the test split in this one
    process and score it with `evaluate_predictions`: every planet once, the same metrics."""
    run_dir = _run_dir(ddp_run[0])
    cfg = OmegaConf.load(run_dir / "config_resolved.yaml")
    datamodule = instantiate(cfg.data)
    datamodule.setup("test")
    test = datamodule.splits["test"].tensors
    module = instantiate(cfg.model, loss=instantiate(cfg.loss))
    module.load_state_dict(
        torch.load(run_dir / "checkpoints/best.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    )
    module.eval()
    with torch.no_grad():
        mu, sigma = module(test["depth"], test["depth_err"])
    expected = evaluate_predictions(test["y"], mu, sigma, module.naive_mean, module.naive_std)

    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in REPORT_KEYS:
        assert metrics[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key
    val = datamodule.splits["val"].tensors  # 7 planets: each counted once, none padded in
    with torch.no_grad():
        val_expected = evaluate_predictions(
            val["y"], *module(val["depth"], val["depth_err"]), module.naive_mean, module.naive_std
        )
    for key in REPORT_KEYS:
        assert metrics[f"val_{key}"] == pytest.approx(val_expected[key], rel=1e-6, abs=1e-9), key

    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    assert len(test["planet_id"]) == 7
    assert sorted(predictions["planet_id"]) == sorted(test["planet_id"].tolist())  # each test planet once
    by_id = predictions.set_index("planet_id").loc[test["planet_id"].tolist()]
    mu_columns = [f"mu_{i}" for i in range(1, 284)]
    assert by_id[mu_columns].to_numpy() == pytest.approx(mu.double().numpy(), rel=1e-6, abs=1e-12)


def test_the_command_line_starts_a_ddp_run_too(tmp_path, tiny_data_dir):
    """`spectramind train trainer=ddp`: Lightning starts rank 1 from the program the command line
    names, which must be the training (not the CLI, which would not understand the overrides)."""
    result = run_module(
        [
            "spectramind",
            "train",
            *tiny_overrides(tiny_data_dir),
            "training.epochs=1",
            "trainer=ddp",
            "trainer.accelerator=cpu",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "completed"
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (tmp_path / "run" / "train_ddp_process_1.log").read_text()


def test_every_command_of_the_multi_gpu_page_composes():
    """docs/multi-gpu.md's training lines compose as written, each with the ddp strategy."""
    import re
    import shlex
    from pathlib import Path

    from hydra import compose, initialize_config_module

    page = Path(__file__).resolve().parents[1] / "docs" / "multi-gpu.md"
    lines = [
        line.split("#")[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.DOTALL)
        for line in block.splitlines()
        if line.strip().startswith(("python -m spectramind.train", "spectramind train"))
    ]
    assert len(lines) >= 3
    for line in lines:
        words = shlex.split(line)
        overrides = words[3:] if words[0] == "python" else words[2:]
        with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
        assert cfg.trainer.strategy == "ddp", line
