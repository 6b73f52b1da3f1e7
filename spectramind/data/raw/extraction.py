"""Spatial extraction: from calibrated pixel frames to one flux per channel and time bin.

Both methods are the same estimator with different pixel weights ``w``::

    F = sum_r w_r D_r / sum_r w_r P_r          (per channel and time bin, over good pixels r)

where ``D`` is the calibrated frame and ``P`` the spatial profile (each channel's pixels sum to 1),
so ``F`` is the charge of the *whole* profile even where pixels are masked (dead, hot, saturated):
a masked pixel drops out of both sums instead of being averaged in as zero or as its neighbour.

- ``optimal`` (Horne 1986): ``w = P / V`` with ``V`` each pixel's variance (photon noise of its
  share of the signal, read noise of every read and dark current, through the flat field); the
  minimum-variance linear estimate when the profile is right.
- ``box``: ``w = 1`` inside the community's standard window (AIRS rows 10:22, FGS1 [10:22, 10:22]),
  the plain box sum it is measured against (docs/real-data.md).

The profile is measured from the visit itself: the mean of every good pixel over the visit's time
bins, with masked pixels filled from their neighbours (along the dispersion for AIRS, around it
for the FGS1 point source), negative noise clipped, normalised per channel.
"""

from __future__ import annotations

import numpy as np

from spectramind.errors import DatasetError

METHODS = ("optimal", "box")
BOX_ROWS = slice(10, 22)
BOX_COLUMNS_FGS = slice(10, 22)
_FILL_PASSES = 8


def _fill_masked(image: np.ndarray, missing: np.ndarray, offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Replace ``missing`` pixels of ``image`` (rows, cols) by the mean of their present neighbours
    at ``offsets``, repeating so that small clusters fill from their edges."""
    image = np.where(missing, np.nan, image)
    for _ in range(_FILL_PASSES):
        holes = np.isnan(image)
        if not holes.any():
            break
        total = np.zeros_like(image)
        count = np.zeros_like(image)
        padded = np.pad(image, 1, constant_values=np.nan)
        for dr, dc in offsets:
            neighbour = padded[1 + dr : 1 + dr + image.shape[0], 1 + dc : 1 + dc + image.shape[1]]
            present = ~np.isnan(neighbour)
            total += np.where(present, neighbour, 0.0)
            count += present
        fill = holes & (count > 0)
        image[fill] = total[fill] / count[fill]
    return np.nan_to_num(image, nan=0.0)


def spatial_profile(frames: np.ndarray, good: np.ndarray, point_source: bool) -> tuple[np.ndarray, np.ndarray]:
    """Measured profile (rows, cols) from binned frames (bins, rows, cols), each column summing to 1
    (AIRS) or the whole image (``point_source``, FGS1); and the mean frame, masked pixels filled."""
    count = good.sum(axis=0)
    mean = np.where(count > 0, np.where(good, frames, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan)
    offsets = ((0, -1), (0, 1), (-1, 0), (1, 0)) if point_source else ((0, -1), (0, 1))
    mean = np.clip(_fill_masked(mean, count == 0, offsets), 0.0, None)
    total = mean.sum() if point_source else mean.sum(axis=0, keepdims=True)
    return mean / np.where(total > 0, total, 1.0), mean


def pixel_weights(
    method: str,
    profile: np.ndarray,
    mean_frame: np.ndarray,
    flat: np.ndarray,
    read_noise: np.ndarray,
    dark_charge: np.ndarray,
    reads_per_bin: int,
    point_source: bool,
) -> np.ndarray:
    """Weights (rows, cols) of ``method``. ``mean_frame`` is the visit's mean binned frame (flat
    fielded), ``dark_charge`` each pixel's dark electrons per bin; both feed the variance."""
    if method == "box":
        weights = np.zeros_like(profile)
        weights[BOX_ROWS, BOX_COLUMNS_FGS if point_source else slice(None)] = 1.0
        return weights
    if method != "optimal":
        raise ValueError(f"unknown extraction method {method!r}")
    flat = np.where(np.abs(flat) > 1e-3, flat, 1.0)
    variance = mean_frame / flat + (reads_per_bin * read_noise**2 + np.clip(dark_charge, 0.0, None)) / flat**2
    return profile / variance


def extract(
    frames: np.ndarray,
    good: np.ndarray,
    profile: np.ndarray,
    weights: np.ndarray,
    point_source: bool,
    source: str,
) -> np.ndarray:
    """Flux of the whole profile per time bin and channel: (bins, cols), or (bins, 1) for FGS1."""
    w = np.where(good, weights[None], 0.0)
    numerator = w * np.where(good, frames, 0.0)
    denominator = w * profile[None]
    axes = (1, 2) if point_source else 1
    top, bottom = numerator.sum(axis=axes), denominator.sum(axis=axes)
    if (bottom <= 0).any():
        bins, channels = np.nonzero(np.atleast_2d(bottom.T).T <= 0)
        raise DatasetError(
            f"{source}: no usable pixels for channel column {int(channels[0])} in time bin "
            f"{int(bins[0])} (all masked: dead, hot, saturated or NaN)"
        )
    flux = top / bottom
    return flux[:, None] if point_source else flux
