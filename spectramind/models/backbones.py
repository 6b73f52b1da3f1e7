"""Backbones map per-wavelength input channels ``(B, C_in, W)`` to features ``(B, F, W)``.

Both keep the wavelength axis so the μ and σ heads (1×1 convolutions in ``SpectraModule``) are
shared; they differ in how wavelengths talk to each other: the MLP mixes all wavelengths at once,
the CNN only neighbouring bins — which is exactly the inductive bias an ablation should test.
"""

from __future__ import annotations

import torch
from torch import nn

from spectramind.errors import ConfigurationError


def _check_positive(**values: int | float) -> None:
    for name, value in values.items():
        if value is None or value <= 0:
            raise ConfigurationError(f"backbone {name} must be positive, got {value!r}")


class MLPBackbone(nn.Module):
    """Fully connected network over the flattened spectrum (all wavelengths mixed)."""

    def __init__(
        self,
        in_channels: int = 2,
        n_wavelengths: int = 283,
        hidden: int = 256,
        layers: int = 2,
        out_channels: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_positive(
            in_channels=in_channels,
            n_wavelengths=n_wavelengths,
            hidden=hidden,
            layers=layers,
            out_channels=out_channels,
        )
        self.out_channels = out_channels
        self.n_wavelengths = n_wavelengths
        blocks: list[nn.Module] = [nn.Flatten()]
        width = in_channels * n_wavelengths
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        blocks.append(nn.Linear(width, out_channels * n_wavelengths))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(x.shape[0], self.out_channels, self.n_wavelengths)


class CNN1dBackbone(nn.Module):
    """1-D convolutions along wavelength (neighbouring bins share information)."""

    def __init__(
        self, in_channels: int = 2, channels: int = 32, layers: int = 3, kernel_size: int = 5, dropout: float = 0.0
    ) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, channels=channels, layers=layers, kernel_size=kernel_size)
        if kernel_size % 2 == 0:
            raise ConfigurationError(f"backbone kernel_size must be odd, got {kernel_size}")
        self.out_channels = channels
        blocks: list[nn.Module] = []
        width = in_channels
        for _ in range(layers):
            blocks += [
                nn.Conv1d(width, channels, kernel_size, padding=kernel_size // 2),
                nn.GELU(),
                nn.Dropout(dropout),
            ]
            width = channels
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
