"""What a Slurm cluster can run, asked before a study submits to it (Hydra-free).

Why: a job that asks for more CPUs or memory than any node of its partition has is accepted by
``sbatch`` and then waits forever (``squeue`` reason ``PartitionConfig``); submitit waits with it,
so a study would hang silently until killed. The ablation sweeper asks ``sinfo`` for the
partition's largest node before submitting anything and refuses such a request in one line that
names the resource and the limit. And where the cluster keeps no accounting (``sacct`` disabled,
common on small clusters), submitit warns at every poll; :class:`SacctUnavailableOnce` says it once.
"""

from __future__ import annotations

import logging
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


class SacctUnavailableOnce(logging.Filter):
    """Lets submitit's first "Bypassing sacct error" warning through, reworded, and drops the
    rest: without accounting every poll fails the same way, and submitit still learns that a job
    ended from the job's own result file."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "Bypassing sacct error" not in record.getMessage():
            return True
        if self.said:
            return False
        self.said = True
        record.msg = "sacct is unavailable (accounting disabled?): job states come from the jobs' own files"
        record.args = ()
        return True
