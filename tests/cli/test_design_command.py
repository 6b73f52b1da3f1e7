"""The founding design's own example, as its words say: ``spectramind ablate run model=resnet50,vit
optimizer.lr=0.001,0.01 training.epochs=10`` (2 x 2 x 1 = 4 runs), here on the tiny data set with
two epochs: every run completed, trained for the epochs asked, ranked on the leaderboard, and the
best exported to ablation_results/. Plus the backbones' bad input, one line before any run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_support import single_error_line, spectramind
from training_support import tiny_overrides

pytestmark = pytest.mark.slow  # trains deep networks in a sweep: the full loop only


def test_the_designs_command_runs_four_runs_to_a_leaderboard(tmp_path, tiny_data_dir):
    result = spectramind(
        "ablate",
        "run",
        "model=resnet50,vit",
        "optimizer.lr=0.001,0.01",
        *tiny_overrides(tiny_data_dir),  # ends with training.epochs=2: the design's 10 take longer
        "--sweep-dir",
        "sweep",
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sweep = tmp_path / "sweep"
    runs = json.loads((sweep / "sweep.json").read_text())["runs"]
    assert len(runs) == 4 and {run["status"] for run in runs} == {"completed"}
    configs = sorted((sweep / "runs").glob("*/config_resolved.yaml"))
    assert len(configs) == 4
    for config in configs:
        resolved = yaml.safe_load(config.read_text())
        assert resolved["trainer"]["max_epochs"] == resolved["training"]["epochs"] == 2
        assert resolved["data"]["light_curve_bins"] == resolved["model"]["backbone"]["time_bins"]
    leaderboard = (sweep / "leaderboard.md").read_text()
    assert "resnet50" in leaderboard and "vit" in leaderboard
    assert any(Path(sweep, "ablation_results").iterdir())
    # a model over the light curves predicts a data folder from its checkpoint, as any model does
    checkpoint = next((sweep / "runs").glob("*vit*/checkpoints/best.ckpt"))
    out = tmp_path / "submission.csv"
    predicted = spectramind("predict", checkpoint, "--data", tiny_data_dir, "--out", out, cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    submission = pd.read_csv(out)
    assert len(submission) == json.loads((tiny_data_dir / "dataset.json").read_text())["n_planets"]
    assert submission.drop(columns="planet_id").notna().all().all()


@pytest.mark.parametrize(
    "override, culprit",
    [
        ("model.backbone.architecture=resnet51", "unknown backbone architecture 'resnet51'"),
        ("model.backbone.time_bins=500", "cannot fill 500 time bins"),
    ],
)
def test_bad_backbone_input_is_one_line_before_any_run(tmp_path, tiny_data_dir, override, culprit):
    result = spectramind(
        "ablate",
        "run",
        "model=resnet18",
        *tiny_overrides(tiny_data_dir),
        override,
        "--sweep-dir",
        "sweep",
        cwd=tmp_path,
    )
    assert culprit in single_error_line(result)
    assert not (tmp_path / "sweep" / "runs").exists()
