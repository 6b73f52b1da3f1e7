"""The Ray launcher tests reuse the ablation tests' helpers and fixtures (tests/ablation/sweep_helpers.py).

These tests need the optional `ray` extra (hydra-ray-launcher, ray), which `.ci/setup --test`
installs next to the `test` extra.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ablation"))

from sweep_helpers import tiny_data_dir, train_overrides  # noqa: E402,F401
