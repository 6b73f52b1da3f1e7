"""``SpectraModule``: a LightningModule predicting a transit-depth spectrum μ and its σ.

Inputs are per-wavelength depth estimates measured from the light curves and their standard
errors (``depth``, ``depth_err``, physical units). The module normalises them with label
statistics it stores as buffers, so a checkpoint alone is enough to predict: no separate scaler
to ship. μ is predicted as a correction to the measured depth and σ as a multiplicative
correction to the measured error, which makes the untrained network already a sensible
baseline and training short.

Usable without Hydra::

    module = SpectraModule(backbone=CNN1dBackbone(), lr=1e-3)
    pl.Trainer(max_epochs=5).fit(module, datamodule=ArielDataModule("data/simulated"))
"""

from __future__ import annotations

from typing import Callable

import pytorch_lightning as pl
import torch
from torch import nn

from spectramind.data.layout import N_WAVELENGTHS
from spectramind.errors import ConfigurationError, TrainingDiverged
from spectramind.metrics.diagnostics import SpectrumMetrics
from spectramind.models.backbones import CNN1dBackbone
from spectramind.models.losses import GaussianNLLLoss

_LOG_SIGMA_CLAMP = 8.0


class SpectraModule(pl.LightningModule):
    def __init__(
        self,
        backbone: nn.Module | None = None,
        loss: nn.Module | None = None,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        n_wavelengths: int = N_WAVELENGTHS,
    ) -> None:
        super().__init__()
        if optimizer is None and not lr > 0:
            raise ConfigurationError(f"learning rate must be > 0, got {lr!r}")
        self.backbone = backbone if backbone is not None else CNN1dBackbone()
        self.loss_fn = loss if loss is not None else GaussianNLLLoss()
        self.optimizer_factory = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        width = self.backbone.out_channels
        self.mu_head = nn.Conv1d(width, 1, kernel_size=1)
        self.log_sigma_head = nn.Conv1d(width, 1, kernel_size=1)
        for head in (self.mu_head, self.log_sigma_head):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        self.register_buffer("label_mean", torch.zeros(n_wavelengths))
        self.register_buffer("label_std", torch.ones(n_wavelengths))
        self.register_buffer("naive_mean", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("naive_std", torch.tensor(1.0, dtype=torch.float64))
        self.val_metrics: SpectrumMetrics | None = None
        self.test_metrics: SpectrumMetrics | None = None
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

    # ------------------------------------------------------------------ forward
    def normalised_forward(self, depth: torch.Tensor, depth_err: torch.Tensor):
        """μ and σ in label-normalised units (what the loss sees)."""
        depth_n = (depth - self.label_mean) / self.label_std
        log_err_n = torch.log(depth_err.clamp_min(1e-12) / self.label_std)
        features = self.backbone(torch.stack([depth_n, log_err_n], dim=1))
        mu_n = depth_n + self.mu_head(features).squeeze(1)
        log_sigma = (log_err_n + self.log_sigma_head(features).squeeze(1)).clamp(
            -_LOG_SIGMA_CLAMP * 4, _LOG_SIGMA_CLAMP)
        return mu_n, torch.exp(log_sigma)

    def forward(self, depth: torch.Tensor, depth_err: torch.Tensor):
        """Physical μ (transit depth) and σ, strictly positive."""
        mu_n, sigma_n = self.normalised_forward(depth, depth_err)
        mu = self.label_mean + mu_n * self.label_std
        sigma = self.loss_fn.predictive_sigma(sigma_n * self.label_std)
        return mu, sigma

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mu_n, sigma_n = self.normalised_forward(batch["depth"], batch["depth_err"])
        y_n = (batch["y"] - self.label_mean) / self.label_std
        return self.loss_fn(mu_n, sigma_n, y_n)

    # ------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step {self.global_step}"
            )
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(batch["y"]))
        return loss

    def on_validation_epoch_start(self) -> None:
        self.val_metrics = self._new_metrics()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val/loss", self._loss(batch), on_epoch=True, batch_size=len(batch["y"]))
        mu, sigma = self(batch["depth"], batch["depth_err"])
        self.val_metrics.update(batch["y"], mu, sigma)

    def on_validation_epoch_end(self) -> None:
        results = self.val_metrics.compute()
        for name in ("adc2025", "gll", "rmse_ppm", "coverage_1sigma"):
            self.log(f"val/{name}", float(results[name]))

    def on_test_epoch_start(self) -> None:
        self.test_metrics = self._new_metrics()

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        mu, sigma = self(batch["depth"], batch["depth_err"])
        self.test_metrics.update(batch["y"], mu, sigma)

    def on_test_epoch_end(self) -> None:
        self.test_results = {k: float(v) for k, v in self.test_metrics.compute().items()}
        for name, value in self.test_results.items():
            self.log(f"test/{name}", value)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        mu, sigma = self(batch["depth"], batch["depth_err"])
        out = {"planet_id": batch["planet_id"], "mu": mu, "sigma": sigma}
        if "y" in batch:
            out["y"] = batch["y"]
        return out

    def configure_optimizers(self) -> torch.optim.Optimizer:
        if self.optimizer_factory is not None:
            return self.optimizer_factory(params=self.parameters())
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return f"lr={self.lr}, n_params={self.n_parameters}"
