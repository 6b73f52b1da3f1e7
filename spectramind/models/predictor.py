"""``SpectrumPredictor``: what every model of the training entry point shares, learned or not.

A model maps a batch's measured depths and their errors to a predicted spectrum (μ, σ). The
entry point treats every model alike: it stores the training split's label statistics in it
(`set_statistics`), fits it, then tests and predicts with it, and the checkpoint callback watches
``val/loss``. This base class holds that contract (the statistics as buffers, so a checkpoint
alone predicts; the validation, test and predict steps; the metrics), so a learned network
(`SpectraModule`) and the classical transit fit (`TransitFitModule`) leave the same run record
and are scored by the same code. Subclasses implement ``forward(depth, depth_err) -> (μ, σ)``
and ``normalised_loss(batch)``.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from spectramind.metrics.diagnostics import SpectrumMetrics
from spectramind.spectrum import N_WAVELENGTHS


class SpectrumPredictor(pl.LightningModule):
    #: the batch entries ``forward`` takes, in order
    input_names: tuple[str, ...] = ("depth", "depth_err")

    def __init__(self, n_wavelengths: int = N_WAVELENGTHS) -> None:
        super().__init__()
        self.register_buffer("label_mean", torch.zeros(n_wavelengths))
        self.register_buffer("label_std", torch.ones(n_wavelengths))
        self.register_buffer("naive_mean", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("naive_std", torch.tensor(1.0, dtype=torch.float64))
        self.val_metrics: SpectrumMetrics | None = None
        self.test_metrics: SpectrumMetrics | None = None
        self.val_results: dict[str, float] = {}
        self.test_results: dict[str, float] = {}

    # ------------------------------------------------------------------ statistics
    def set_statistics(self, label_mean, label_std, naive_mean: float, naive_std: float) -> None:
        """Store the training-split label statistics (normalisation and the naive scoring baseline)."""
        self.label_mean.copy_(torch.as_tensor(label_mean, dtype=torch.float32))
        self.label_std.copy_(torch.as_tensor(label_std, dtype=torch.float32).clamp_min(1e-12))
        self.naive_mean.fill_(float(naive_mean))
        self.naive_std.fill_(float(naive_std))

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        if datamodule is not None and stage == "fit":
            self.set_statistics(**datamodule.label_statistics())

    def _new_metrics(self) -> SpectrumMetrics:
        return SpectrumMetrics(float(self.naive_mean), float(self.naive_std)).to(self.device)

    # ------------------------------------------------------------------ subclass interface
    def forward(self, depth: torch.Tensor, depth_err: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical μ (transit depth) and σ > 0 from the measured depths and errors."""
        raise NotImplementedError

    def normalised_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The batch's loss in label-normalised units (``val/loss``, which checkpoints follow)."""
        raise NotImplementedError

    def predict_spectrum(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical (μ, σ) of a batch: ``forward`` on the batch's ``input_names``."""
        return self(*(batch[name] for name in self.input_names))

    # ------------------------------------------------------------------ evaluation steps
    def on_validation_epoch_start(self) -> None:
        self.val_metrics = self._new_metrics()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        # averaged over a DDP run's ranks, so that every rank checkpoints on the same val/loss
        self.log("val/loss", self.normalised_loss(batch), on_epoch=True, batch_size=len(batch["y"]), sync_dist=True)
        mu, sigma = self.predict_spectrum(batch)
        self.val_metrics.update(batch["y"], mu, sigma)

    def on_validation_epoch_end(self) -> None:
        # every score of the pass, kept like test_results: after ``validate(ckpt_path=best)`` they
        # are the best checkpoint's scores on the validation split (what a run is selected on)
        self.val_results = {k: float(v) for k, v in self.val_metrics.compute().items()}
        for name in ("adc2025", "gll", "rmse_ppm", "coverage_1sigma"):
            # already over every rank (torchmetrics syncs its states in compute), so the same value
            # everywhere: averaging it over the ranks changes nothing and lets callbacks on any rank see it
            self.log(f"val/{name}", self.val_results[name], sync_dist=True)

    def on_test_epoch_start(self) -> None:
        self.test_metrics = self._new_metrics()

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        mu, sigma = self.predict_spectrum(batch)
        self.test_metrics.update(batch["y"], mu, sigma)

    def on_test_epoch_end(self) -> None:
        self.test_results = {k: float(v) for k, v in self.test_metrics.compute().items()}
        for name, value in self.test_results.items():
            self.log(f"test/{name}", value)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        mu, sigma = self.predict_spectrum(batch)
        out = {"planet_id": batch["planet_id"], "mu": mu, "sigma": sigma}
        if "y" in batch:
            out["y"] = batch["y"]
        return out

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
