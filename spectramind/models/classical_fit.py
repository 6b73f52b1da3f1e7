"""``TransitFitModule``: the classical transit fit as a model of the training entry point.

Not learned: μ is the depth the classical fit measured (``data.features=transit_fit``, see
`spectramind.data.features.transit_fit`) and σ its covariance error, calibrated on the training split.
It runs through ``python -m spectramind.train model=transit_fit`` like any network, so it is a
row of every leaderboard and leaves the same run record, but its one "epoch" takes no gradient
step: it gathers the training split's depths, errors and labels, fits the calibration, and
stops. Validation and test then score it like any other model.

Calibration: per detector (FGS1, AIRS), σ² = (scale·error)² + floor²
(`spectramind.models.sigma_calibration`).
"""

from __future__ import annotations

from typing import Any

import torch

from spectramind.errors import ConfigurationError
from spectramind.models.losses import GaussianNLLLoss
from spectramind.models.predictor import SpectrumPredictor
from spectramind.models.sigma_calibration import detector_calibration
from spectramind.spectrum import N_WAVELENGTHS


class TransitFitModule(SpectrumPredictor):
    def __init__(
        self, loss: torch.nn.Module | None = None, optimizer: Any = None, n_wavelengths: int = N_WAVELENGTHS
    ) -> None:
        """`loss` gives ``val/loss`` (what checkpoints follow); `optimizer` is accepted because the
        entry point passes one to every model, and unused: nothing here is trained by gradients."""
        super().__init__(n_wavelengths)
        self.loss_fn = loss if loss is not None else GaussianNLLLoss()
        self.register_buffer("sigma_scale", torch.ones(n_wavelengths))
        self.register_buffer("sigma_floor", torch.zeros(n_wavelengths))
        self._gathered: list[dict[str, torch.Tensor]] = []

    def setup(self, stage: str) -> None:
        super().setup(stage)
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        method = getattr(datamodule, "features", "transit_fit")
        if method != "transit_fit":
            raise ConfigurationError(
                f"model=transit_fit predicts the classical fit's depths: it needs data.features=transit_fit, "
                f"got {method!r}"
            )

    def forward(self, depth: torch.Tensor, depth_err: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sigma = torch.sqrt((self.sigma_scale * depth_err) ** 2 + self.sigma_floor**2)
        return depth, sigma.clamp_min(1e-12)

    def normalised_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mu, sigma = self(batch["depth"], batch["depth_err"])
        return self.loss_fn(
            (mu - self.label_mean) / self.label_std,
            sigma / self.label_std,
            (batch["y"] - self.label_mean) / self.label_std,
        )

    # ------------------------------------------------------------------ the one calibration "epoch"
    def on_train_epoch_start(self) -> None:
        self._gathered = []

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """Gather the batch; returning None tells Lightning there is no gradient step to take."""
        self._gathered.append({k: batch[k].detach().cpu() for k in ("depth", "depth_err", "y")})

    def on_train_epoch_end(self) -> None:
        gathered = {k: torch.cat([b[k] for b in self._gathered]).double().numpy() for k in ("depth", "depth_err", "y")}
        scale, floor = detector_calibration(gathered["depth_err"], gathered["y"] - gathered["depth"])
        self.sigma_scale.copy_(torch.as_tensor(scale))
        self.sigma_floor.copy_(torch.as_tensor(floor))
        self._gathered = []
        self.trainer.should_stop = True  # calibrated once: further epochs would repeat it exactly

    def configure_optimizers(self) -> None:
        return None
