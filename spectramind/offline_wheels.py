"""Wheels for an offline install on Kaggle: spectramind and every package it needs that the Kaggle
image lacks (``spectramind kaggle wheels DIR``; docs/kaggle.md).

Kaggle notebooks that submit run without internet, so ``pip install --no-index --find-links DIR
spectramind`` must find in DIR whatever the image does not already hold. A hand-written list goes
stale as soon as a dependency is added (it did: ``hydra-joblib-launcher``). Here the list is
derived: spectramind's own requirements (its pyproject.toml, as installed here), followed through
each requirement's requirements, stopping at the packages of the image (``KAGGLE_IMAGE_PACKAGES``);
each wheel is of the version installed on this machine, the one spectramind was tried with.
Packages published as source only (``batman-package`` needs a C compiler) are built here, so
nothing is compiled on Kaggle. Build with the image's Python version.
"""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

from spectramind.errors import ConfigurationError

# What Kaggle's Python image provides, by name: the packages spectramind's requirements reach, and
# the `backbones` extra's timm with the torchvision made for the image's torch.
KAGGLE_IMAGE_PACKAGES = frozenset(
    {
        "torch",
        "torchvision",
        "timm",
        "pytorch-lightning",
        "lightning-utilities",
        "torchmetrics",
        "numpy",
        "scipy",
        "pandas",
        "pyarrow",
        "plotly",
        "joblib",
        "pyyaml",
        "packaging",
        "typing-extensions",
        "click",
        "rich",
        "pydantic",
        "fsspec",
        "tqdm",
        "threadpoolctl",  # scikit-learn's
    }
)


def _requirements(distribution: str) -> list[str]:
    """Names of the distributions ``distribution`` requires, without extras' requirements, for this
    machine's platform and Python."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    names = []
    for line in metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(canonicalize_name(requirement.name))
    return names


def offline_requirements(image: frozenset[str] = KAGGLE_IMAGE_PACKAGES) -> list[str]:
    """``name==version`` of every distribution spectramind needs, directly or not, that ``image``
    lacks: versions as installed here. One line naming a requirement that is not installed."""
    needed: dict[str, str] = {}
    pending = _requirements("spectramind")
    while pending:
        name = pending.pop()
        if name in image or name in needed or name == "spectramind":
            continue
        try:
            needed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise ConfigurationError(
                f"{name}: required by spectramind but not installed here; install spectramind first"
            ) from None
        pending.extend(_requirements(name))
    return [f"{name}=={version}" for name, version in sorted(needed.items())]


def project_root() -> Path:
    """The checkout spectramind is installed from (an editable install): what its wheel is built from."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise ConfigurationError(f"{root}: not a spectramind checkout (no pyproject.toml); build the wheels from one")
    return root


def build_wheels(out_dir: Path) -> list[Path]:
    """Build spectramind's wheel and those of ``offline_requirements()`` into ``out_dir``; the wheels."""
    requirements = offline_requirements()
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out_dir), str(project_root())]
    result = subprocess.run([*command, *requirements], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigurationError(f"pip wheel failed for {' '.join(requirements)}: {last}")
    return sorted(out_dir.glob("*.whl"))
