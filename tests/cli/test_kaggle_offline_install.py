"""docs/kaggle.md's offline install, as written: ``spectramind kaggle wheels DIR`` here, then
``pip install --no-index --find-links DIR spectramind`` into a fresh virtualenv that holds only
the Kaggle image's packages (pinned below, with the image's newer joblib), then a 1-epoch training
there (the default model: the deep backbones' timm is in the image, beside its own torch)."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest
from cli_support import spectramind
from packaging.utils import canonicalize_name
from training_support import tiny_overrides

from spectramind.offline_wheels import KAGGLE_IMAGE_PACKAGES

pytestmark = pytest.mark.slow  # builds wheels and a virtualenv with torch: the full loop only

# The image's packages that spectramind's requirements reach, but torchvision and timm (the
# `backbones` extra's, which the core install does not need): torch here is the CPU build on this
# machine's disk, and PyPI has no torchvision that imports beside it.
WITHOUT_A_CPU_BUILD = {"torchvision", "timm"}
IMAGE = [
    "torch==2.13.0",
    "pytorch-lightning==2.6.6",
    "torchmetrics==1.9.0",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "plotly",
    "joblib==1.6.0",
    "pydantic",
    "rich",
    "click",
    "pyyaml",
    "packaging",
    "typing-extensions",
    "fsspec",
    "tqdm",
    "threadpoolctl",
]


def _run(*command: str | os.PathLike, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def test_the_offline_recipe_installs_into_the_image_and_trains(tmp_path, tiny_data_dir):
    wheels = tmp_path / "wheels"
    result = spectramind("kaggle", "wheels", wheels, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    built = {canonicalize_name(name.split("-")[0]) for name in result.stdout.split()}
    assert {"spectramind", "hydra-core", "hydra-joblib-launcher", "batman-package"} <= built
    assert not built & KAGGLE_IMAGE_PACKAGES  # nothing the image already has

    image = tmp_path / "image"
    venv.EnvBuilder(with_pip=True).create(image)
    python = image / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", *IMAGE, cwd=tmp_path)
    listed = json.loads(_run(python, "-m", "pip", "list", "--format", "json", cwd=tmp_path).stdout)
    assert KAGGLE_IMAGE_PACKAGES - WITHOUT_A_CPU_BUILD <= {canonicalize_name(p["name"]) for p in listed}

    _run(python, "-m", "pip", "install", "-q", "--no-index", "--find-links", wheels, "spectramind", cwd=tmp_path)
    run_dir = tmp_path / "run"
    overrides = [o for o in tiny_overrides(tiny_data_dir) if not o.startswith("training.epochs=")]
    _run(python, "-m", "spectramind.train", *overrides, "training.epochs=1", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed" and record["epochs_trained"] == 1
