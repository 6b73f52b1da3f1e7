"""An estimate of what a run's training costs, for ordering a study's runs (not for timing them).

The ablation sweeper launches the most expensive runs of a study first when its launcher runs
several at once (``spectramind.ablation.launch_order``), and asks this module for the estimate
(``hydra.sweeper.cost`` in ``conf/hydra/sweeper/spectramind.yaml``). The estimate is the number of
floating-point operations of one example's forward and backward pass through the model's
backbone, as ``torch.utils.flop_counter`` counts them (matrix products and convolutions), times
the run's epochs: what distinguishes a study's runs from each other (a CNN from an MLP, a ResNet-50
from a ResNet-18, 40 epochs from 10) while their data stay the same. Counting needs no data and no
timing, so it is the same on every machine and for every repetition of a study.

A model without a backbone (the classical transit fit) takes no gradient steps: its cost is 0.
A backbone that cannot be built or run from its config node alone (one whose module passes it
arguments, or takes inputs this module cannot make up) has no estimate: an order is a convenience,
never a reason to stop a study, and the sweeper keeps the plan's order then.
"""

from __future__ import annotations

import functools
import json
import logging

from omegaconf import DictConfig, OmegaConf

from spectramind.spectrum import N_WAVELENGTHS

log = logging.getLogger(__name__)

# SpectraModule stacks two input channels for its backbone: the normalised depth and its log error
_BACKBONE_INPUT_CHANNELS = 2


def estimated_cost(cfg: DictConfig) -> float | None:
    """Epochs x backbone FLOPs per example of the run ``cfg`` configures (a resolved task config);
    None when its epochs are not a number or its backbone cannot be counted alone."""
    epochs = OmegaConf.select(cfg, "trainer.max_epochs", default=None)
    if not isinstance(epochs, int) or isinstance(epochs, bool):
        return None
    backbone = OmegaConf.select(cfg, "model.backbone", default=None)
    if backbone is None:
        return 0.0
    flops = _backbone_flops(json.dumps(OmegaConf.to_container(backbone, resolve=True), sort_keys=True))
    return None if flops is None else float(epochs) * flops


@functools.lru_cache(maxsize=64)
def _backbone_flops(backbone_json: str) -> int | None:
    """Forward and backward FLOPs of one example through the backbone a config node describes
    (as JSON, so that a study's runs that share a backbone build and count it once); None when
    it cannot be built or run alone."""
    try:
        return _count_flops(backbone_json)
    except Exception as exc:  # noqa: BLE001 - any failure means no estimate (module docstring)
        log.debug(f"no cost estimate for backbone {backbone_json}: {type(exc).__name__}: {exc}")
        return None


def _count_flops(backbone_json: str) -> int:
    import torch
    from hydra.utils import instantiate
    from torch.utils.flop_counter import FlopCounterMode

    backbone = instantiate(json.loads(backbone_json)).eval()  # batch norm: one example is a batch
    extra = getattr(backbone, "extra_input_shapes", {})  # per example, for each of its extra_inputs
    inputs = (torch.zeros(1, _BACKBONE_INPUT_CHANNELS, N_WAVELENGTHS), *(torch.zeros(1, *s) for s in extra.values()))
    with FlopCounterMode(display=False) as counter:
        features = backbone(*inputs)
        if features.requires_grad:
            features.sum().backward()
    return int(counter.get_total_flops())
