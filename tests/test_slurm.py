"""What a study asks of Slurm and makes of its answers (spectramind/slurm.py, spectramind/slurm_jobs.py):
`sinfo` and the one-line refusal, `squeue` states, the reason Slurm ended a job, without a cluster
(the cluster tests are in tests/ablation_slurm)."""

from __future__ import annotations

from spectramind.slurm import (
    GONE,
    PartitionLimits,
    ended_message,
    parse_sinfo,
    parse_squeue,
    stepd_line,
    submitit_stop_message,
    unsatisfiable,
)
from spectramind.tracking.record import error_record

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


SQUEUE = "19_0|CANCELLED|None|vm\n19_1|TIMEOUT|TimeLimit|vm\n20|RUNNING|None|vm\n21_[2-4]|PENDING|Resources|\n"
STDERR = (
    "train.log line\nslurmstepd-vm: error: *** JOB 19 ON vm CANCELLED AT 2026-12-05T07:37:08 DUE TO TIME LIMIT ***\n"
)


def test_squeue_states_as_submitit_keeps_them():
    states = parse_squeue(SQUEUE + "garbage\n")
    assert states["19_1"] == {"State": "TIMEOUT", "Reason": "TimeLimit", "NodeList": "vm"}
    assert states["20"]["State"] == "RUNNING" and states["21_[2-4]"]["State"] == "PENDING"
    assert len(states) == 4


def test_why_slurm_ended_a_job_in_one_line():
    assert stepd_line(STDERR) == "*** JOB 19 ON vm CANCELLED AT 2026-12-05T07:37:08 DUE TO TIME LIMIT ***"
    assert stepd_line("no such line") is None
    timed_out = ended_message("19_1", parse_squeue(SQUEUE)["19_1"], STDERR)
    assert timed_out == (
        "Slurm ended job 19_1 at its time limit (hydra.launcher.timeout_min) before it returned: "
        "TIMEOUT (TimeLimit) on vm: "
        "*** JOB 19 ON vm CANCELLED AT 2026-12-05T07:37:08 DUE TO TIME LIMIT ***"
    )
    assert (
        ended_message("19_0", parse_squeue(SQUEUE)["19_0"], "")
        == "Slurm ended job 19_0 before it returned: CANCELLED on vm"
    )
    gone = ended_message("7_1", {"State": GONE, "Reason": "no longer known to slurmctld", "NodeList": ""}, "")
    assert gone == "Slurm ended job 7_1 before it returned: ENDED (no longer known to slurmctld)"
    assert ended_message("8", {}, "") == "Slurm ended job 8 before it returned: UNKNOWN"


def test_submitits_stop_at_the_time_limit_is_said_as_such_in_the_run_record():
    from submitit.core.utils import UncompletedJobError

    stopped = error_record(UncompletedJobError("Job not requeued because: timed-out too many times."))
    assert stopped["type"] == "UncompletedJobError"  # a stop from outside: the resume continues the run
    assert stopped["message"] == submitit_stop_message("Job not requeued because: timed-out too many times.")
    assert stopped["message"].startswith("stopped at its Slurm time limit (hydra.launcher.timeout_min)")
    other = error_record(UncompletedJobError("Job not requeued because: preempted and not checkpointable."))
    assert other["message"] == "Job not requeued because: preempted and not checkpointable."


def test_the_squeue_watcher_ends_a_job_slurmctld_forgot_and_survives_a_missing_squeue(tmp_path, monkeypatch):
    """squeue, here a script printing what the file `listing` holds (a real cluster forgets an
    ended job MinJobAge after it ended): a job listed once and then no longer is ended."""
    from spectramind.slurm_jobs import SqueueWatcher

    listing = tmp_path / "listing"
    script = tmp_path / "bin" / "squeue"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ncat {listing}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    watcher = SqueueWatcher()
    listing.write_text("7_0|RUNNING|None|vm\n7_1|RUNNING|None|vm\n")
    watcher.register_job("7_0")
    watcher.register_job("7_1")
    watcher.update()
    assert watcher.get_state("7_0", mode="cache") == "RUNNING" and not watcher.is_done("7_0", mode="cache")
    listing.write_text("7_1|COMPLETING|None|vm\n")
    watcher.update()
    assert watcher.get_state("7_0", mode="cache") == GONE and watcher.is_done("7_0", mode="cache")
    assert not watcher.is_done("7_1", mode="cache")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    watcher.update()  # no squeue at all: the states stay, nothing raises
    assert watcher.get_state("7_1", mode="cache") == "COMPLETING"
