"""What a Slurm partition can run, read from `sinfo` (spectramind/slurm.py): parsing and the
one-line refusal, without a cluster (the cluster tests are in tests/ablation_slurm)."""

from __future__ import annotations

import logging

from spectramind.slurm import PartitionLimits, SacctUnavailableOnce, parse_sinfo, unsatisfiable

SINFO = "debug*|2|7000\ndebug*|8|64000+\ngpu|16|128000\nodd line\n"


def test_the_largest_node_of_the_partition_or_of_the_default_one():
    assert parse_sinfo(SINFO, None) == PartitionLimits("debug", 8, 64000)
    assert parse_sinfo(SINFO, "gpu") == PartitionLimits("gpu", 16, 128000)
    assert parse_sinfo(SINFO, "nope") is None and parse_sinfo("", None) is None


def test_a_request_beyond_the_largest_node_is_one_line_naming_resource_and_limit():
    limits = PartitionLimits("debug", 2, 7000)
    assert unsatisfiable(2, 6, limits) is None and unsatisfiable(1, None, limits) is None
    cpus = unsatisfiable(4, 1, limits)
    assert cpus.startswith("hydra.launcher.cpus_per_task asks for 4 CPUs per node") and "(2)" in cpus
    memory = unsatisfiable(2, 16, limits)
    assert memory.startswith("hydra.launcher.mem_gb=16 is more memory") and "(6.8 GB)" in memory
    assert "\n" not in cpus + memory


def test_the_sacct_warning_is_said_once():
    logger = logging.getLogger("test-sacct")
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    logger.addFilter(SacctUnavailableOnce())
    for call in range(3):
        logger.warning(f"Call #{call} - Bypassing sacct error boom, status may be inaccurate.")
    logger.warning("something else")
    assert len(seen) == 2 and seen[0].startswith("sacct is unavailable") and seen[1] == "something else"
