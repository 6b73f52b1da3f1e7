"""spectramind's benchmark suite: ``.venv/bin/python -m bench`` from the repository root.

Every figure is a ratio of two things measured side by side in the same run (the machines are
shared and noisy, so absolute times alone prove little). Each measurement runs in fresh
subprocesses so that one measurement's imports and threads cannot leak into another's; this
process itself never imports torch. Results are merged into ``bench/results.json`` (git-ignored)
and into the generated block of ``docs/performance.md``. Benchmarks are not part of the test
suite's pass/fail: a missed target is reported, not raised.
"""
