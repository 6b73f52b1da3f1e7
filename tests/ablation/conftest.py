"""Fixtures of the ablation sweeper tests (defined in sweep_helpers, shared with tests/ablation_ray)."""

from sweep_helpers import tiny_data_dir, train_overrides  # noqa: F401
