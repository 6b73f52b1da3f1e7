"""Training losses over normalised μ/σ; each also says which σ the model finally predicts.

Losses work in label-normalised units (``(y - mean) / std`` per wavelength): the Gaussian NLL
there differs from the physical one only by a constant, so gradients are identical while values
stay O(1). ``predictive_sigma`` lets a loss that does not train σ (MSE) replace it by a fixed
value, which is what "MSE with fixed σ" means when ablated against the Gaussian NLL.
"""

from __future__ import annotations

import torch
from torch import nn

from spectramind.errors import ConfigurationError


class GaussianNLLLoss(nn.Module):
    """Mean Gaussian negative log-likelihood (without the constant ½·log 2π); trains μ and σ."""

    def forward(self, mu: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = (y - mu) / sigma
        return (0.5 * z.square() + torch.log(sigma)).mean()

    def predictive_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        return sigma


class FixedSigmaMSELoss(nn.Module):
    """Mean squared error on μ only; the predicted σ is the constant ``sigma`` (transit-depth units)."""

    def __init__(self, sigma: float = 1e-4) -> None:
        super().__init__()
        if not sigma > 0:
            raise ConfigurationError(f"loss.sigma must be > 0, got {sigma!r}")
        self.sigma = float(sigma)

    def forward(self, mu: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y - mu).square().mean()

    def predictive_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        return torch.full_like(sigma, self.sigma)
