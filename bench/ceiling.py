"""How much faster two CPU-bound processes finish than one, on this machine, right now.

The parallel speed-up of a sweep can be no better than the machine lets two processes run at
once. On a 2-vCPU VM that ceiling can be well under 2: vCPUs may be hyperthreads of one host
core (two vector-heavy threads then share one FPU), and other tenants take their share. So the
parallel section measures the ceiling side by side with the sweeps: a fixed workload run alone,
then two copies at once; ceiling = 2 x alone / mean(pair).

``python -m bench.ceiling torch`` — the default model's forward and backward on one torch thread
(what a training spends its time on); ``python -m bench.ceiling python`` — a pure-Python loop.
Each prints the workload's seconds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

WORKLOADS = ("torch", "python")


def _torch_workload() -> None:
    import torch

    from spectramind.models.backbones import CNN1dBackbone

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, batch = CNN1dBackbone(), torch.randn(64, 2, 283)
    for _ in range(60):
        model(batch).square().mean().backward()


def _python_workload() -> None:
    total = 0
    for i in range(40_000_000):
        total += i


def main() -> None:
    workload = sys.argv[1]
    if workload == "torch":
        import torch  # noqa: F401 - imported before the clock starts

        from spectramind.models.backbones import CNN1dBackbone  # noqa: F401
    started = time.perf_counter()
    _torch_workload() if workload == "torch" else _python_workload()
    print(f"{time.perf_counter() - started:.4f}")


def ceiling(workload: str, repeats: int = 2) -> dict:
    """Alone and pair timings of ``workload`` (best of ``repeats``) and the throughput ratio."""
    from bench.timing import bench_env, python_command

    command = python_command("-m", "bench.ceiling", workload)

    def run(copies: int) -> list[float]:
        processes = [
            subprocess.Popen(command, env=bench_env(), stdout=subprocess.PIPE, text=True) for _ in range(copies)
        ]
        return [float(p.communicate()[0].strip().splitlines()[-1]) for p in processes]

    alone = min(run(1)[0] for _ in range(repeats))
    pair = min(statistics.mean(run(2)) for _ in range(repeats))
    return {"alone_s": round(alone, 3), "pair_s": round(pair, 3), "ceiling": round(2 * alone / pair, 3)}


if __name__ == "__main__":
    main()
