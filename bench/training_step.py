"""Training-step throughput: SpectraModule under Lightning vs a bare PyTorch loop.

Both sides build the project's default model, loss and optimizer from the composed config
(``hydra.utils.instantiate``, as ``run_training`` does), seed identically and iterate the same
DataLoader (default data, batch size 64, shuffled), with the config's torch thread count. Lightning
gets the project's trainer arguments (``conf/trainer/cpu.yaml``: deterministic, gradient clipping at
norm 1.0, 32-bit) with validation, checkpointing, logger and progress bar off, because the
comparison is of the step. The bare loop does what those arguments ask by hand: deterministic
algorithms, forward and loss (``SpectraModule.normalised_loss``, the computation ``training_step`` wraps),
``zero_grad``, ``backward``, ``clip_grad_norm_(1.0)``, ``step``. Steps per second are timed from the
end of the warm-up steps to the end of the last step (epoch boundaries included on both sides);
Lightning and bare runs alternate in one process, best of ``repeats`` each.

``python -m bench.training_step --data-dir DIR`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

WARMUP_STEPS = 10
SLOWDOWN_TARGET = 1.15


def _setup(data_dir: str, *overrides: str):
    """The composed config (the default one, plus ``overrides``) and its set-up data module; the
    config's thread count set after the data, as run_training does."""
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module("spectramind.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"data.data_dir={data_dir}", *overrides])
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    if cfg.get("num_threads"):
        import torch

        torch.set_num_threads(int(cfg.num_threads))
    return cfg, datamodule


def _build_module(cfg, datamodule):
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    pl.seed_everything(cfg.seed, verbose=False)
    module = instantiate(cfg.model, loss=instantiate(cfg.loss), optimizer=instantiate(cfg.optimizer))
    module.set_statistics(**datamodule.label_statistics())
    return module


def lightning_steps_per_s(cfg, datamodule, steps: int) -> float:
    import pytorch_lightning as pl
    from omegaconf import OmegaConf

    from spectramind.train import _quiet_lightning

    class StepClock(pl.Callback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_train_batch_end(self, *args) -> None:
            self.ends.append(time.perf_counter())

    _quiet_lightning()
    clock = StepClock()
    trainer_args = OmegaConf.to_container(cfg.trainer, resolve=True)
    trainer_args.update(
        max_steps=steps,
        max_epochs=-1,
        limit_val_batches=0,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer = pl.Trainer(**trainer_args, logger=False, callbacks=[clock])
    trainer.fit(_build_module(cfg, datamodule), datamodule=datamodule)
    assert len(clock.ends) == steps, len(clock.ends)
    return (steps - WARMUP_STEPS) / (clock.ends[-1] - clock.ends[WARMUP_STEPS - 1])


def bare_steps_per_s(cfg, datamodule, steps: int) -> float:
    import torch

    module = _build_module(cfg, datamodule)
    module.train()
    optimizer = module.configure_optimizers()
    torch.use_deterministic_algorithms(bool(cfg.trainer.deterministic))
    clip = cfg.trainer.gradient_clip_val
    ends: list[float] = []
    while len(ends) < steps:
        for batch in datamodule.train_dataloader():
            loss = module.normalised_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
            optimizer.step()
            ends.append(time.perf_counter())
            if len(ends) == steps:
                break
    return (steps - WARMUP_STEPS) / (ends[-1] - ends[WARMUP_STEPS - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Training steps/s: Lightning vs a bare PyTorch loop.")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    cfg, datamodule = _setup(args.data_dir)
    lightning, bare = [], []
    for _ in range(args.repeats):
        bare.append(bare_steps_per_s(cfg, datamodule, args.steps))
        lightning.append(lightning_steps_per_s(cfg, datamodule, args.steps))
    print(
        json.dumps(
            {
                "lightning_steps_per_s": lightning,
                "bare_steps_per_s": bare,
                "batch_size": datamodule.batch_size,
                "train_planets": len(datamodule.splits["train"]),
                "model": cfg.model.backbone._target_,
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


def training_step(work: Path, steps: int = 150, repeats: int = 3) -> dict:
    """Run the comparison in a fresh process on the default data set; the section's figures."""
    from bench.timing import python_command, timed_run
    from bench.workspace import DEFAULT_SIMULATION, ensure_data

    data_dir = ensure_data(work / "data-default", DEFAULT_SIMULATION)
    _, result = timed_run(
        python_command(
            "-m", "bench.training_step", "--data-dir", str(data_dir), "--steps", str(steps), "--repeats", str(repeats)
        )
    )
    run = json.loads(result.stdout.strip().splitlines()[-1])
    lightning, bare = max(run["lightning_steps_per_s"]), max(run["bare_steps_per_s"])
    slowdown = bare / lightning
    figures = {
        "lightning_steps_per_s": round(lightning, 2),
        "bare_steps_per_s": round(bare, 2),
        "lightning_slowdown": round(slowdown, 3),
        "lightning_samples": [round(v, 2) for v in run["lightning_steps_per_s"]],
        "bare_samples": [round(v, 2) for v in run["bare_steps_per_s"]],
        "steps": steps,
        "batch_size": run["batch_size"],
        "model": run["model"].rsplit(".", 1)[-1],
        "torch_threads": run["torch_threads"],
    }
    return {
        "title": "Training step: Lightning vs bare PyTorch loop",
        "what": f"default model ({figures['model']}, GLL, AdamW), default data, batch {run['batch_size']}, "
        f"{steps} steps ({WARMUP_STEPS} warm-up steps not timed), best of {repeats} alternating runs "
        f"each, torch threads: {run['torch_threads']}",
        "figures": figures,
        "headline": f"Lightning {lightning:.1f} steps/s vs bare {bare:.1f} steps/s: {slowdown:.3f}x slower",
        "target": f"<= {SLOWDOWN_TARGET}x slower",
        "met": slowdown <= SLOWDOWN_TARGET,
    }


if __name__ == "__main__":
    main()
