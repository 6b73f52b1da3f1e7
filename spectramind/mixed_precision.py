"""The mixed precision a CUDA device trains best in, as the config resolver ``${mixed_precision:}``.

bfloat16 where the device computes in it (Ampere and newer: no loss scaling needed, the range of
float32), float16 with Lightning's gradient scaling otherwise. A resolver, not a choice made in
the training code, so that the run's resolved config records the precision it trained in.
``conf/trainer/gpu.yaml`` uses it; ``spectramind.conf`` registers it when the configs load.
"""

from __future__ import annotations

from omegaconf import OmegaConf

RESOLVER = "mixed_precision"


def mixed_precision() -> str:
    """Lightning's ``precision`` for this machine's first CUDA device: ``bf16-mixed`` or ``16-mixed``."""
    import torch

    if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        return "16-mixed"
    return "bf16-mixed"  # also without CUDA, where trainer=gpu stops at Lightning's own check


def register_resolver() -> None:
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, mixed_precision)
