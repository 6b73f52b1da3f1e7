"""The reliability battery reuses the sweeper tests' helpers, fixtures and fault callbacks
(tests/ablation/sweep_helpers.py, tests/ablation/faults.py), as tests/ablation_ray does, the CLI
tests' console-script runner (tests/cli/cli_support.py) and the leaderboard tests' synthetic sweep
writer (tests/leaderboard/synthetic_sweep.py)."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "ablation"))
sys.path.insert(0, str(TESTS / "cli"))
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from sweep_helpers import tiny_data_dir, train_overrides  # noqa: E402,F401

from .battery import fault_sweep  # noqa: E402,F401
