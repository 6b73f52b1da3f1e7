"""What a study asks of a Slurm cluster, and what it makes of the answers (Hydra-free).

Why: a job that asks for more CPUs or memory than any node of its partition has is accepted by
``sbatch`` and then waits forever (``squeue`` reason ``PartitionConfig``); submitit waits with it,
so a study would hang silently until killed. The ablation sweeper asks ``sinfo`` for the
partition's largest node before submitting anything and refuses such a request in one line that
names the resource and the limit. Once jobs run, their states come from ``sacct`` or, where the
cluster keeps no accounting (common on small clusters), from ``squeue``; a job Slurm ended before
it returned is reported in one line with Slurm's state, reason and the line ``slurmstepd`` wrote
(``spectramind.slurm_jobs`` applies this to submitit's jobs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class PartitionLimits:
    """The largest node of a partition: its CPUs and memory (MB)."""

    partition: str
    cpus: int
    memory_mb: int


def partition_limits(partition: str | None) -> PartitionLimits | None:
    """``partition``'s (the default partition's if None) largest node, from ``sinfo``; None when
    ``sinfo`` is not here or does not answer (then nothing is checked: the cluster decides)."""
    if shutil.which("sinfo") is None:
        return None
    command = ["sinfo", "-h", "-N", "-o", "%P|%c|%m"] + (["-p", partition] if partition else [])
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_sinfo(output, partition)


def parse_sinfo(output: str, partition: str | None) -> PartitionLimits | None:
    """Parse ``sinfo -h -N -o '%P|%c|%m'`` (one line per node and partition; the default partition
    is marked ``*``) into the largest node of ``partition`` (the default one if None)."""
    nodes = []
    for line in output.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 3:
            continue
        name, cpus, memory = fields
        is_default = name.endswith("*")
        name = name.rstrip("*")
        if (partition is None and is_default) or name == partition:
            try:
                nodes.append((name, int(cpus), int(float(memory.rstrip("+")))))
            except ValueError:
                continue
    if not nodes:
        return None
    return PartitionLimits(nodes[0][0], max(n[1] for n in nodes), max(n[2] for n in nodes))


def unsatisfiable(cpus_per_node: int, mem_gb: float | None, limits: PartitionLimits) -> str | None:
    """Why no node of the partition can ever run a job asking for ``cpus_per_node`` CPUs and
    ``mem_gb`` GB per node, in one line naming the launcher option to change; None if one can."""
    if cpus_per_node > limits.cpus:
        return (
            f"hydra.launcher.cpus_per_task asks for {cpus_per_node} CPUs per node, more than any node of "
            f"partition {limits.partition} has ({limits.cpus}): the jobs would wait forever; e.g. "
            f"hydra.launcher.cpus_per_task={limits.cpus}"
        )
    if mem_gb is not None and mem_gb * 1024 > limits.memory_mb:
        return (
            f"hydra.launcher.mem_gb={mem_gb:g} is more memory per node than any node of partition "
            f"{limits.partition} has ({limits.memory_mb / 1024:.1f} GB): the jobs would wait forever; e.g. "
            f"hydra.launcher.mem_gb={int(limits.memory_mb // 1024)}"
        )
    return None


# what slurmstepd writes into a job's error stream when it kills the job, e.g.
# "slurmstepd-node1: error: *** JOB 19 ON node1 CANCELLED AT 2026-12-05T07:37:08 DUE TO TIME LIMIT ***"
_STEPD_LINE = re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ .*?\*\*\*")
GONE = "ENDED"  # the state given to a job slurmctld no longer knows: it ended (MinJobAge ago or more)


def sacct_available() -> bool:
    """Whether ``sacct`` answers (it fails where the cluster keeps no accounting)."""
    try:
        subprocess.run(["sacct", "-n", "-j", "1"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def squeue_command(array_ids: list[str]) -> list[str]:
    """One ``squeue`` call for the states of every task of ``array_ids``, the ended ones included
    (slurmctld keeps them for ``MinJobAge`` seconds)."""
    return ["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T|%r|%N", "-j", ",".join(array_ids)]


def parse_squeue(output: str) -> dict[str, dict[str, str]]:
    """:func:`squeue_command`'s output as submitit keeps job states: job id (``<array id>_<index>``
    for array tasks) → State, Reason, NodeList."""
    states = {}
    for line in output.splitlines():
        fields = line.strip().split("|")
        if len(fields) == 4 and fields[0]:
            states[fields[0]] = {"State": fields[1], "Reason": fields[2], "NodeList": fields[3]}
    return states


def stepd_line(stderr_text: str) -> str | None:
    """The last line in which slurmstepd says it killed the job, from its ``***`` on."""
    found = _STEPD_LINE.findall(stderr_text)
    return found[-1] if found else None


def ended_message(job_id: str, info: dict[str, str], stderr_text: str) -> str:
    """One line: which job Slurm ended before it returned, its state and reason, the node and
    slurmstepd's line, e.g. ``Slurm ended job 19_1 at its time limit (hydra.launcher.timeout_min)
    before it returned: TIMEOUT (TimeLimit) on node1: *** JOB 19 ON node1 CANCELLED AT
    2026-12-05T07:37:08 DUE TO TIME LIMIT ***``. A job normally stops itself at Slurm's warning
    before its time limit (:func:`submitit_stop_message`); Slurm kills it at the limit where that
    stop was lost (submitit raises it from a signal handler, and an exception raised while another
    handler is logging is swallowed by :mod:`logging`), so both are said as the time limit."""
    state = info.get("State") or "UNKNOWN"
    at_limit = " at its time limit (hydra.launcher.timeout_min)" if state == "TIMEOUT" else ""
    parts = [f"Slurm ended job {job_id}{at_limit} before it returned: {state}"]
    if info.get("Reason") and info["Reason"] != "None":
        parts.append(f" ({info['Reason']})")
    if info.get("NodeList"):
        parts.append(f" on {info['NodeList']}")
    line = stepd_line(stderr_text)
    if line:
        parts.append(f": {line}")
    return "".join(parts)


def submitit_stop_message(message: str) -> str | None:
    """What submitit's error means when it stopped a job at Slurm's warning before the job's time
    limit (``signal_delay_s`` early) and did not requeue it (``max_num_timeout``, 0 by default):
    submitit says "Job not requeued because: timed-out too many times" even the first time.
    None for any other message."""
    if "not requeued because: timed-out" not in message:
        return None
    return (
        "stopped at its Slurm time limit (hydra.launcher.timeout_min): submitit ended it at Slurm's "
        "warning, hydra.launcher.signal_delay_s before the limit, and did not requeue it "
        "(hydra.launcher.max_num_timeout); a resume continues it from its last checkpoint"
    )
