"""Training throughput and peak memory of the deep backbones over the light curves, on the CPU.

Each model (``model=resnet18``, ``resnet50``, ``vit``, and ``spectral_prior`` beside them as the
small model they extend) trains in a fresh process, one after the other, on the default data set
with the training's own data loader (light-curve images read from disk as a run reads them) and
the config's thread count: forward, loss, backward, clipping, AdamW step. Samples per second are
timed after ``WARMUP_STEPS`` steps; peak memory is the process's maximum resident set size, and
the growth of it over the model's construction and steps. From the rates, the design's study
(``model=resnet50,vit optimizer.lr=0.001,0.01 training.epochs=10``: 4 runs, one after the other
as ``spectramind ablate run`` launches them) is estimated: the training and validation planets'
passes only.

``python -m bench.backbone_training --data-dir DIR --model resnet50`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

WARMUP_STEPS = 3
MODELS = ("spectral_prior", "resnet18", "resnet50", "vit")
DESIGN_STUDY_BUDGET_S = 20 * 60


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(data_dir: str, model: str, steps: int) -> dict:
    import torch

    from bench.training_step import _build_module, _setup

    cfg, datamodule = _setup(data_dir, f"model={model}")
    before = _peak_rss_mb()
    module = _build_module(cfg, datamodule)
    if module.prior is not None:
        train = datamodule.splits["train"].tensors
        module.prior.fit(*(train[k].double().numpy() for k in ("depth", "depth_err", "y")))
    module.train()
    optimizer = module.configure_optimizers()
    samples, ends = 0, []
    while len(ends) < steps:
        for batch in datamodule.train_dataloader():
            loss = module.normalised_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.trainer.gradient_clip_val)
            optimizer.step()
            ends.append(time.perf_counter())
            if len(ends) > WARMUP_STEPS:
                samples += len(batch["y"])
            if len(ends) == steps:
                break
    return {
        "model": model,
        "samples_per_s": samples / (ends[-1] - ends[WARMUP_STEPS - 1]),
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": _peak_rss_mb() - before,
        "n_params": module.n_parameters,
        "train_planets": len(datamodule.splits["train"]),
        "val_planets": len(datamodule.splits["val"]),
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Samples/s and peak memory of one model's training steps.")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    print(json.dumps(measure(args.data_dir, args.model, args.steps)))


def design_study_estimate_s(rates: dict[str, float], train: int, val: int, epochs: int = 10) -> float:
    """The design's 4 runs (resnet50 and vit, two learning rates each) one after the other; a
    validation pass costs about a third of a training step."""
    return sum(2 * epochs * (train + val / 3) / rates[model] for model in ("resnet50", "vit"))


def backbones(work: Path, steps: int = 12) -> dict:
    """Each model in a fresh process on the default data set; the section's figures."""
    from bench.timing import python_command, timed_run
    from bench.workspace import DEFAULT_SIMULATION, ensure_data

    data_dir = ensure_data(work / "data-default", DEFAULT_SIMULATION)
    runs = {}
    for model in MODELS:
        _, result = timed_run(
            python_command(
                "-m", "bench.backbone_training", "--data-dir", str(data_dir), "--model", model, "--steps", str(steps)
            )
        )
        runs[model] = json.loads(result.stdout.strip().splitlines()[-1])
    rates = {model: run["samples_per_s"] for model, run in runs.items()}
    first = runs["resnet50"]
    estimate = design_study_estimate_s(rates, first["train_planets"], first["val_planets"])
    figures = {
        **{f"{m}_samples_per_s": round(r["samples_per_s"], 1) for m, r in runs.items()},
        **{f"{m}_peak_rss_mb": round(r["peak_rss_mb"]) for m, r in runs.items()},
        **{f"{m}_rss_growth_mb": round(r["rss_growth_mb"]) for m, r in runs.items()},
        **{f"{m}_params": r["n_params"] for m, r in runs.items()},
        "resnet50_cost_vs_spectral_prior": round(rates["spectral_prior"] / rates["resnet50"], 1),
        "vit_cost_vs_spectral_prior": round(rates["spectral_prior"] / rates["vit"], 1),
        "design_study_estimate_s": round(estimate),
        "torch_threads": first["torch_threads"],
    }
    return {
        "title": "Deep backbones: CPU training throughput and memory",
        "what": f"training steps (batch 64, default data, {first['train_planets']} training planets) of each model "
        f"in a fresh process, {steps} steps ({WARMUP_STEPS} warm-up), torch threads: {first['torch_threads']}",
        "figures": figures,
        "headline": f"resnet50 {rates['resnet50']:.1f} samples/s, vit {rates['vit']:.1f} samples/s "
        f"(spectral_prior {rates['spectral_prior']:.0f}); the design's study ~{estimate / 60:.1f} min",
        "target": f"the design's 4-run study <= {DESIGN_STUDY_BUDGET_S // 60} min on 2 cores",
        "met": estimate <= DESIGN_STUDY_BUDGET_S,
    }


if __name__ == "__main__":
    main()
