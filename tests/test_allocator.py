"""glibc's allocator keeps what a training step freed, so the next step does not fault the same
pages back in (spectramind/allocator.py); a user's own glibc settings win."""

from __future__ import annotations

import os
import subprocess
import sys

from spectramind.allocator import MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES

# training steps of the default backbone on one thread, counting the page faults they take
TRAINING_STEPS = """
import resource, sys
import torch
from spectramind.allocator import keep_freed_memory
from spectramind.models.backbones import CNN1dBackbone
print(keep_freed_memory() if sys.argv[1] == "keep" else None)
torch.set_num_threads(1)
model, batch = CNN1dBackbone(), torch.randn(64, 2, 283)
optimizer = torch.optim.AdamW(model.parameters())
model(batch).square().mean().backward()  # the first step's allocations are new either way
optimizer.step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    optimizer.zero_grad()
    model(batch).square().mean().backward()
    optimizer.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str, **env: str) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", TRAINING_STEPS, mode],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    setting, faults = result.stdout.split("\n")[:2]
    return setting, int(faults)


def test_training_steps_reuse_freed_memory_instead_of_faulting_it_back_in():
    setting, kept = _page_faults("keep")
    assert setting == str({"mmap_threshold": MMAP_THRESHOLD_BYTES, "trim_threshold": TRIM_THRESHOLD_BYTES})
    _, default = _page_faults("default")
    assert kept * 5 < default, (kept, default)


def test_a_users_own_glibc_setting_wins():
    setting, faults = _page_faults("keep", MALLOC_TRIM_THRESHOLD_="131072")
    _, kept = _page_faults("keep")
    assert setting == "None" and faults > 5 * kept, (faults, kept)
