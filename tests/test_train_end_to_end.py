"""`python -m spectramind.train` as a user runs it: every artefact of a run, determinism, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from training_support import run_module, tiny_overrides

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

ARTEFACTS = (
    "config_resolved.yaml",
    "run.json",
    "events.jsonl",
    "metrics.json",
    "splits.json",
    "predictions.parquet",
    "submission.csv",
    "checkpoints/last.ckpt",
    "checkpoints/best.ckpt",
)


def _train(tmp_path: Path, data_dir: Path, *extra: str, name: str = "run", **env: str):
    run_dir = tmp_path / name
    result = run_module(
        ["spectramind.train", *tiny_overrides(data_dir), f"hydra.run.dir={run_dir}", *extra], cwd=tmp_path, **env
    )
    return result, run_dir


@pytest.fixture(scope="module")
def trained_result(tmp_path_factory, tiny_data_dir):
    """One run as a user beside a Slurm installation runs it: Python's default warning filters
    (the other tests silence warnings) and an ``srun`` on PATH, which Lightning notices."""
    tmp = tmp_path_factory.mktemp("train")
    slurm_bin = tmp / "bin"
    slurm_bin.mkdir()
    (slurm_bin / "srun").write_text("#!/bin/sh\nexit 1\n")
    (slurm_bin / "srun").chmod(0o755)
    path = f"{slurm_bin}{os.pathsep}{os.environ['PATH']}"
    result, run_dir = _train(tmp, tiny_data_dir, "seed=3", PYTHONWARNINGS="", PATH=path)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, run_dir


@pytest.fixture(scope="module")
def trained(trained_result):
    return trained_result[1]


def test_a_run_prints_no_warnings(trained_result):
    result, _ = trained_result
    said = result.stdout + result.stderr
    assert "Warning" not in said and "srun" not in said, said[-3000:]


def test_every_artefact_is_written(trained):
    for name in ARTEFACTS:
        assert (trained / name).is_file(), name


def test_run_json_records_identity_hashes_versions_and_status(trained):
    record = json.loads((trained / "run.json").read_text())
    assert record["status"] == "completed" and record["error"] is None
    assert record["seed"] == 3 and record["device"] == "cpu"
    assert "seed=3" in record["overrides"] and record["run_id"].endswith(record["run_id"][-8:])
    assert len(record["config_hash"]) == 16 and len(record["dataset_hash"]) == 64
    assert set(record["git"]) == {"commit", "dirty"}
    assert {"python", "torch", "pytorch-lightning", "hydra-core"} <= set(record["versions"])
    assert record["started"] < record["ended"]
    assert record["durations"]["total_s"] >= record["durations"]["fit_s"] > 0
    assert record["epochs_trained"] == 2 and record["n_params"] > 0
    # glibc's allocator keeps freed memory in the process (spectramind/allocator.py; CI runs glibc)
    assert record["allocator"] == {"mmap_threshold": 64 << 20, "trim_threshold": 128 << 20}


def test_config_snapshot_is_the_resolved_config(trained):
    config = yaml.safe_load((trained / "config_resolved.yaml").read_text())
    assert config["seed"] == 3 and config["trainer"]["max_epochs"] == 2
    assert "${" not in (trained / "config_resolved.yaml").read_text()


def test_events_cover_start_epochs_test_and_end(trained):
    events = [json.loads(line) for line in (trained / "events.jsonl").read_text().splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run_start" and names[-1] == "run_end"
    epochs = [e for e in events if e["event"] == "epoch_end"]
    assert [e["epoch"] for e in epochs] == [0, 1]
    assert all("train/loss" in e["metrics"] and "val/loss" in e["metrics"] for e in epochs)
    assert "test_end" in names and events[-1]["status"] == "completed"


def test_metrics_predictions_and_submission_agree(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    for key in (
        "adc2025",
        "adc2025_unclipped",
        "adc2024",
        "gll",
        "rmse_ppm",
        "coverage_1sigma",
        "violations_total",
        "best_val_loss",
        "epochs",
        "train_time_s",
    ):
        assert key in metrics
    predictions = pd.read_parquet(trained / "predictions.parquet")
    submission = pd.read_csv(trained / "submission.csv")
    assert list(submission.columns) == [
        "planet_id",
        *(f"wl_{i}" for i in range(1, 284)),
        *(f"sigma_{i}" for i in range(1, 284)),
    ]
    assert len(predictions) == len(submission) > 0
    assert (submission[[f"sigma_{i}" for i in range(1, 284)]] > 0).all().all()
    assert predictions["mu_5"].to_numpy() == pytest.approx(submission["wl_5"].to_numpy(), rel=1e-9)
    # The metric in metrics.json is the one recomputed from the saved predictions.
    from spectramind.metrics.diagnostics import evaluate_predictions

    y = predictions[[f"y_{i}" for i in range(1, 284)]].to_numpy()
    mu = predictions[[f"mu_{i}" for i in range(1, 284)]].to_numpy()
    sigma = predictions[[f"sigma_{i}" for i in range(1, 284)]].to_numpy()
    assert mu.shape == y.shape == (len(predictions), 283)
    assert json.loads((trained / "metrics.json").read_text())["rmse_ppm"] == pytest.approx(
        evaluate_predictions(y, mu, sigma, 0.0, 1.0)["rmse_ppm"], rel=1e-4
    )


def test_metrics_carry_the_test_splits_references(trained, tiny_data_dir):
    """ref_per_channel_adc2025 against numpy: E[log N(y; y + e, s)] = log N(0; 0, s) - 1/2 per cell
    (s² = depth_sigma² + jitter_sigma²), scored against the naive and ideal references on the run's
    own test planets and naive statistics; the pooled reference and both per-detector shares."""
    import numpy as np
    from scipy.stats import norm

    from spectramind.data.datamodule import ArielDataModule
    from spectramind.data.layout import DEPTH_SIGMA_COLUMNS, JITTER_SIGMA_COLUMNS, read_noise_truth

    metrics = json.loads((trained / "metrics.json").read_text())
    config = yaml.safe_load((trained / "config_resolved.yaml").read_text())["data"]
    statistics = ArielDataModule(
        str(tiny_data_dir),
        split_seed=config["split_seed"],
        val_fraction=config["val_fraction"],
        test_fraction=config["test_fraction"],
        features=config["features"],
    ).label_statistics()
    predictions = pd.read_parquet(trained / "predictions.parquet")
    y = predictions[[f"y_{i}" for i in range(1, 284)]].to_numpy()
    truth = read_noise_truth(tiny_data_dir).set_index("planet_id").loc[predictions["planet_id"]]
    s = np.hypot(truth[DEPTH_SIGMA_COLUMNS].to_numpy(), truth[JITTER_SIGMA_COLUMNS].to_numpy())
    gll_pred = norm.logpdf(0.0, scale=s) - 0.5
    gll_naive = norm.logpdf(y, loc=statistics["naive_mean"], scale=statistics["naive_std"])
    sigma_true = np.concatenate([[1e-6], np.full(282, 1e-5)])
    gll_ideal = norm.logpdf(y, loc=y, scale=sigma_true)
    weights = np.broadcast_to(np.concatenate([[57.846], np.ones(282)]), y.shape)
    expected = np.average((gll_pred - gll_naive) / (gll_ideal - gll_naive), weights=weights)
    assert metrics["ref_per_channel_adc2025"] == pytest.approx(expected, rel=1e-9)
    for reference in ("per_channel", "pooled"):
        fgs, airs = metrics[f"ref_{reference}_adc2025_fgs1"], metrics[f"ref_{reference}_adc2025_airs"]
        assert (57.846 * fgs + 282 * airs) / 339.846 == pytest.approx(metrics[f"ref_{reference}_adc2025"], rel=1e-9)
        assert 0 < metrics[f"ref_{reference}_adc2024"] < 1


def test_metrics_hold_the_best_checkpoints_scores_on_the_validation_split(trained):
    """val_<metric>: what the best checkpoint scores on the validation planets, evaluated here
    independently of the training's Trainer (one forward pass, SpectrumMetrics)."""
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from spectramind.metrics.diagnostics import SpectrumMetrics

    metrics = json.loads((trained / "metrics.json").read_text())
    cfg = OmegaConf.load(trained / "config_resolved.yaml")
    module = instantiate(cfg.model, loss=instantiate(cfg.loss))
    state = torch.load(trained / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    module.eval()
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    val = datamodule.splits["val"].tensors
    scores = SpectrumMetrics(float(module.naive_mean), float(module.naive_std))
    with torch.no_grad():
        scores.update(val["y"], *module(val["depth"], val["depth_err"]))
    expected = {f"val_{name}": float(value) for name, value in scores.compute().items()}
    assert {name for name in metrics if name.startswith("val_")} == set(expected)
    assert {name: metrics[name] for name in expected} == pytest.approx(expected, rel=1e-5, abs=1e-9)
    assert metrics["val_adc2025_unclipped"] != metrics["adc2025_unclipped"]  # other planets than the test's


def test_splits_file_lists_every_planet_in_exactly_one_split(trained, tiny_data_dir):
    from spectramind.data.layout import read_labels

    splits = json.loads((trained / "splits.json").read_text())
    assert list(splits) == ["train", "val", "test"]
    sets = {name: set(ids) for name, ids in splits.items()}
    assert all(len(sets[name]) == len(splits[name]) > 0 for name in splits)  # no planet twice in a split
    assert sum(len(ids) for ids in sets.values()) == len(set().union(*sets.values()))  # disjoint
    assert set().union(*sets.values()) == set(read_labels(tiny_data_dir)["planet_id"])
    assert sets["test"] == set(pd.read_parquet(trained / "predictions.parquet")["planet_id"])


def test_same_config_and_seed_give_identical_metrics(tmp_path, tiny_data_dir, trained):
    result, run_dir = _train(tmp_path, tiny_data_dir, "seed=3")
    assert result.returncode == 0, result.stderr[-3000:]
    first = json.loads((trained / "metrics.json").read_text())
    second = json.loads((run_dir / "metrics.json").read_text())
    first.pop("train_time_s"), second.pop("train_time_s")
    assert first == second


def test_runs_from_any_working_directory(tmp_path, tiny_data_dir):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    result, run_dir = _train(elsewhere, tiny_data_dir, "model=mlp", "loss=mse")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / "metrics.json").is_file()


def _one_line_error(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_missing_data_folder_is_one_line_error(tmp_path):
    missing = tmp_path / "nope"
    result = run_module(
        ["spectramind.train", f"data.data_dir={missing}", "data.simulation=null", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path,
    )
    assert str(missing) in _one_line_error(result)


def test_labels_with_wrong_columns_is_one_line_error(tmp_path, tiny_data_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, broken)
    labels = pd.read_csv(broken / "train.csv").rename(columns={"wl_7": "wavelength_7"})
    labels.to_csv(broken / "train.csv", index=False)
    result = run_module(
        ["spectramind.train", f"data.data_dir={broken}", "data.simulation=null", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path,
    )
    line = _one_line_error(result)
    assert "train.csv" in line and "wl_7" in line


def test_unknown_config_option_is_reported_without_traceback(tmp_path):
    result = run_module(["spectramind.train", "model=transformer"], cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "model/transformer" in result.stderr
