"""The Ray launcher tests reuse the ablation tests' helpers and fixtures (tests/ablation/sweep_helpers.py).

These tests need the optional `ray` extra (hydra-ray-launcher, ray): CI runs them with the
interpreter of a separate environment that has it installed, not as part of the main suite.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ablation"))

from sweep_helpers import tiny_data_dir, train_overrides  # noqa: E402,F401
