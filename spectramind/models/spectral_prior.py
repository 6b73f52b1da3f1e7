"""``GaussianSpectralPrior``: a spectrum prior learned from the training labels, and the posterior
it gives for measured depths.

Why: a planet's 283 depths are not independent. The spectra that atmospheres produce (a level,
a Rayleigh slope, a few molecular bands, clouds) span a space of a few dozen dimensions, while
each channel's measurement error is independent noise of ~1.3x the depth's information limit
plus an error shared by every channel of a detector. A Gaussian prior over spectra (the training
labels' mean and leading principal components) combined with that noise model is the optimal
linear estimate (Wiener filter): it averages each channel with the channels that move with it,
which a per-channel estimate cannot, and its posterior standard deviation is a calibrated σ.

Model: y = mean + basis·a + r, a ~ N(0, diag(eigenvalues)), r ~ N(0, diag(residual_var)) (the
label variance outside the basis); depth = y + n, n ~ N(0, N) with
N = diag((scale·depth_err)²) + floor_FGS1²·e₀e₀ᵀ + floor_AIRS²·1ᵀ1 over the AIRS channels (the
shared error, `spectramind.models.sigma_calibration`). With the low-rank prior the posterior costs a
few (rank x rank) solves per planet (Woodbury), not a 283 x 283 one.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from spectramind.errors import ConfigurationError
from spectramind.models.sigma_calibration import DETECTOR_CHANNELS, detector_calibration
from spectramind.spectrum import N_WAVELENGTHS


def _principal_components(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(covariance, eigenvalues, eigenvectors) of the rows of ``y``, computed by torch.

    Why torch and not numpy: numpy's eigensolver gives other bits with another count of BLAS
    threads, and a joblib worker runs with one while a plain process runs with all the cores, so
    the same run trained in a sweep and alone would differ. torch's follows the thread count a run
    sets and records (``num_threads``), as the rest of the training does.
    """
    values = torch.as_tensor(y, dtype=torch.float64)
    centred = values - values.mean(dim=0)
    covariance = centred.T @ centred / (values.shape[0] - 1)
    eigenvalues, vectors = torch.linalg.eigh(covariance)
    return covariance.numpy(), eigenvalues.numpy(), vectors.numpy()


class GaussianSpectralPrior(nn.Module):
    def __init__(self, rank: int = 32, n_wavelengths: int = N_WAVELENGTHS) -> None:
        super().__init__()
        if not 1 <= int(rank) <= n_wavelengths:
            raise ConfigurationError(f"prior rank must be in 1..{n_wavelengths}, got {rank!r}")
        self.rank = int(rank)
        self.register_buffer("fitted", torch.tensor(False))
        self.register_buffer("mean", torch.zeros(n_wavelengths, dtype=torch.float64))
        self.register_buffer("basis", torch.zeros(n_wavelengths, self.rank, dtype=torch.float64))
        self.register_buffer("eigenvalues", torch.ones(self.rank, dtype=torch.float64))
        self.register_buffer("residual_var", torch.zeros(n_wavelengths, dtype=torch.float64))
        self.register_buffer("noise_scale", torch.ones(n_wavelengths, dtype=torch.float64))
        # Shared-error directions (one per detector, 0/1 over its channels) and their variances.
        self.register_buffer("shared", torch.zeros(n_wavelengths, len(DETECTOR_CHANNELS), dtype=torch.float64))
        self.register_buffer("shared_var", torch.zeros(len(DETECTOR_CHANNELS), dtype=torch.float64))

    def fit(self, depth: np.ndarray, depth_err: np.ndarray, y: np.ndarray) -> None:
        """Learn the prior from labelled planets (the training split) and calibrate the noise model."""
        depth, depth_err, y = (np.asarray(a, dtype=np.float64) for a in (depth, depth_err, y))
        if y.shape[0] < 2:
            raise ConfigurationError("the spectral prior needs at least 2 training planets")
        covariance, eigenvalues, vectors = _principal_components(y)
        top = np.argsort(eigenvalues)[::-1][: self.rank]
        basis, kept = vectors[:, top], np.clip(eigenvalues[top], 1e-30, None)
        self.mean.copy_(torch.as_tensor(y.mean(axis=0)))
        self.basis.copy_(torch.as_tensor(basis))
        self.eigenvalues.copy_(torch.as_tensor(kept))
        self.residual_var.copy_(torch.as_tensor(np.clip(np.diag(covariance) - (basis**2 * kept).sum(axis=1), 0, None)))
        scale, floor = detector_calibration(depth_err, y - depth)
        self.noise_scale.copy_(torch.as_tensor(scale))
        shared = torch.zeros_like(self.shared)
        for k, channels in enumerate(DETECTOR_CHANNELS):
            shared[channels, k] = 1.0
            self.shared_var[k] = float(floor[channels][0]) ** 2
        self.shared.copy_(shared)
        self.fitted.fill_(True)

    def forward(self, depth: torch.Tensor, depth_err: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation of the spectrum (float64, like the prior)."""
        if not bool(self.fitted):
            raise ConfigurationError("the spectral prior is not fitted: train the model (or load a checkpoint) first")
        d = depth.to(torch.float64) - self.mean
        diagonal = (self.noise_scale * depth_err.to(torch.float64)) ** 2 + self.residual_var  # (B, W)
        inv_diag = 1.0 / diagonal
        # N^-1 x = D^-1 x - D^-1 U (S^-1 + U^T D^-1 U)^-1 U^T D^-1 x  (Woodbury, U = shared directions)
        u = self.shared
        inner = torch.diag_embed(1.0 / self.shared_var.clamp_min(1e-30)) + torch.einsum("wk,bw,wl->bkl", u, inv_diag, u)

        def noise_solve(x: torch.Tensor) -> torch.Tensor:  # x: (B, W, m)
            dx = inv_diag.unsqueeze(-1) * x
            correction = torch.linalg.solve(inner, torch.einsum("wk,bwm->bkm", u, dx))
            return dx - inv_diag.unsqueeze(-1) * torch.einsum("wk,bkm->bwm", u, correction)

        basis = self.basis.expand(d.shape[0], -1, -1)
        n_inv_basis = noise_solve(basis)  # (B, W, R)
        precision = torch.diag_embed(1.0 / self.eigenvalues) + basis.transpose(1, 2) @ n_inv_basis
        posterior_cov = torch.linalg.inv(precision)  # (B, R, R)
        coefficients = posterior_cov @ (n_inv_basis.transpose(1, 2) @ d.unsqueeze(-1))
        mean = self.mean + (basis @ coefficients).squeeze(-1)
        variance = torch.einsum("bwr,brs,bws->bw", basis, posterior_cov, basis) + self.residual_var
        return mean, variance.sqrt()
