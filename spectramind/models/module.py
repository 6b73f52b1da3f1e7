"""``SpectraModule``: a LightningModule predicting a transit-depth spectrum μ and its σ.

Inputs are per-wavelength depth estimates measured from the light curves and their standard
errors (``depth``, ``depth_err``, physical units); a backbone over the light curves themselves
(`spectramind.models.light_curve_backbone`) also reads each planet's ``light_curve`` image. The
module normalises them with label statistics it stores as buffers, so a checkpoint alone is
enough to predict: no separate scaler to ship. μ is predicted as a correction to the measured
depth and σ as a multiplicative correction to the measured error, which makes the untrained
network already a sensible baseline and training short.

Usable without Hydra::

    module = SpectraModule(backbone=CNN1dBackbone(), lr=1e-3)
    pl.Trainer(max_epochs=5).fit(module, datamodule=ArielDataModule("data/simulated"))
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from spectramind.errors import ConfigurationError, TrainingDiverged
from spectramind.models.backbones import CNN1dBackbone
from spectramind.models.losses import GaussianNLLLoss
from spectramind.models.predictor import SpectrumPredictor
from spectramind.models.spectral_prior import GaussianSpectralPrior
from spectramind.spectrum import N_WAVELENGTHS

_LOG_SIGMA_CLAMP = 8.0


class SpectraModule(SpectrumPredictor):
    def __init__(
        self,
        backbone: nn.Module | None = None,
        loss: nn.Module | None = None,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        n_wavelengths: int = N_WAVELENGTHS,
        prior: GaussianSpectralPrior | None = None,
    ) -> None:
        super().__init__(n_wavelengths)
        if optimizer is None and not lr > 0:
            raise ConfigurationError(f"learning rate must be > 0, got {lr!r}")
        self.backbone = backbone if backbone is not None else CNN1dBackbone()
        self.input_names = ("depth", "depth_err", *getattr(self.backbone, "extra_inputs", ()))
        self.loss_fn = loss if loss is not None else GaussianNLLLoss()
        self.optimizer_factory = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.prior = prior
        width = self.backbone.out_channels
        self.mu_head = nn.Conv1d(width, 1, kernel_size=1)
        self.log_sigma_head = nn.Conv1d(width, 1, kernel_size=1)
        for head in (self.mu_head, self.log_sigma_head):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def setup(self, stage: str) -> None:
        """Besides the label statistics, fit the spectral prior (if any) on the training split."""
        super().setup(stage)
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        if self.prior is not None and datamodule is not None and stage == "fit":
            train = datamodule.splits["train"].tensors
            self.prior.fit(*(train[k].double().numpy() for k in ("depth", "depth_err", "y")))

    # ------------------------------------------------------------------ forward
    def normalised_forward(self, depth: torch.Tensor, depth_err: torch.Tensor, *extra: torch.Tensor):
        """μ and σ in label-normalised units (what the loss sees).

        The network corrects its starting point: the measured depths and errors, or with a
        `prior` the spectrum's posterior mean and standard deviation given them. ``extra``: the
        backbone's further inputs (its ``extra_inputs``, e.g. the light-curve image)."""
        if self.prior is not None:
            depth, depth_err = (x.to(depth.dtype) for x in self.prior(depth, depth_err))
        depth_n = (depth - self.label_mean) / self.label_std
        log_err_n = torch.log(depth_err.clamp_min(1e-12) / self.label_std)
        features = self.backbone(torch.stack([depth_n, log_err_n], dim=1), *extra)
        mu_n = depth_n + self.mu_head(features).squeeze(1)
        log_sigma = (log_err_n + self.log_sigma_head(features).squeeze(1)).clamp(
            -_LOG_SIGMA_CLAMP * 4, _LOG_SIGMA_CLAMP
        )
        return mu_n, torch.exp(log_sigma)

    def forward(self, depth: torch.Tensor, depth_err: torch.Tensor, *extra: torch.Tensor):
        """Physical μ (transit depth) and σ, strictly positive."""
        mu_n, sigma_n = self.normalised_forward(depth, depth_err, *extra)
        mu = self.label_mean + mu_n * self.label_std
        sigma = self.loss_fn.predictive_sigma(sigma_n * self.label_std)
        return mu, sigma

    def normalised_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mu_n, sigma_n = self.normalised_forward(*(batch[name] for name in self.input_names))
        y_n = (batch["y"] - self.label_mean) / self.label_std
        return self.loss_fn(mu_n, sigma_n, y_n)

    # ------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.normalised_loss(batch)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step {self.global_step}"
            )
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(batch["y"]), sync_dist=True)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        if self.optimizer_factory is not None:
            return self.optimizer_factory(params=self.parameters())
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def extra_repr(self) -> str:
        return f"lr={self.lr}, n_params={self.n_parameters}"
