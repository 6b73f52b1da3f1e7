"""What the deep backbones read: a planet's light curves as one small image, time bins x 283
channels, and its star's parameters as a short vector.

Why an image: the networks over the light curves (``model=resnet18``, ``resnet50``, ``vit``) see the
transit itself, not the per-channel depths a classical fit measured from it. Each visit's flux is
divided, channel by channel, by its out-of-transit level (the median of the visit's first and last
``OUT_OF_TRANSIT_EDGE`` of samples: the transit stays clear of both ends, in the simulator's
windows and in the competition's visits); the flux deficit ``1 - f / f_out`` is averaged over
``time_bins`` equal blocks of samples (which is what makes a 2-core CPU run of a deep backbone
practical) and over the planet's visits.

The images are made on demand from the data set's own ``light_curves/<id>.npy``, memory-mapped:
no second copy on disk, and a data loader worker holds only the planets of its batch.

The star vector (:func:`star_vector`) gives the network what the light curves cannot: the star's
radius, mass and temperature, the planet's mass and the orbit, on scales of order one; a
calibrated ADC 2024 folder has no star information, and its planets get zeros and a flag saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from spectramind.data.layout import LIGHT_CURVE_DIR, load_light_curve, read_dataset_info
from spectramind.errors import DatasetError

# Share of a visit's samples at each end that measures the out-of-transit level.
OUT_OF_TRANSIT_EDGE = 0.15


def bin_edges(n_time: int, time_bins: int) -> np.ndarray:
    """Start indices of ``time_bins`` blocks of nearly equal length over ``n_time`` samples, and
    ``n_time`` last (``np.add.reduceat`` sums the blocks)."""
    return np.linspace(0, n_time, time_bins + 1).round().astype(np.int64)


def light_curve_image(flux: np.ndarray, time_bins: int) -> np.ndarray:
    """(time_bins, n_channels) float32 flux deficit of one planet from its (n_time, n_channels) or
    (n_visits, n_time, n_channels) flux."""
    visits = np.asarray(flux, dtype=np.float64)
    visits = visits[None] if visits.ndim == 2 else visits
    n_time = visits.shape[1]
    edge = max(1, round(OUT_OF_TRANSIT_EDGE * n_time))
    out_of_transit = np.median(np.concatenate([visits[:, :edge], visits[:, -edge:]], axis=1), axis=1, keepdims=True)
    deficit = 1.0 - visits / out_of_transit
    edges = bin_edges(n_time, time_bins)
    binned = np.add.reduceat(deficit, edges[:-1], axis=1) / np.diff(edges)[None, :, None]
    return binned.mean(axis=0).astype(np.float32)


def star_vector(star: np.ndarray) -> np.ndarray:
    """(n, 8) float32 from the features' (n, 7) star columns (Rs, Ms, Ts, Mp, P, sma, i, in the
    competition's units; NaN where the data has none): log10 of the six scales (Ts in 5000 K),
    (90 - i) / 5 degrees, then 0 for a missing value and a last column 1 where all are known."""
    star = np.asarray(star, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        scales = np.log10(star[:, :6] / np.array([1.0, 1.0, 5000.0, 1.0, 1.0, 1.0]))
    vector = np.column_stack([scales, (90.0 - star[:, 6]) / 5.0, np.isfinite(star).all(axis=1)])
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def check_time_bins(time_bins: int, n_time: int, source: str) -> None:
    """One line when the image would have more time bins than the light curves have samples."""
    if time_bins > n_time:
        raise DatasetError(f"{source}: light curves of {n_time} time samples cannot fill {time_bins} time bins")


def check_has_light_curves(data_dir: str | os.PathLike) -> None:
    """One line when a data folder holds features only (no ``light_curves/`` with a planet in it)."""
    folder = Path(data_dir) / LIGHT_CURVE_DIR
    if not folder.is_dir() or next(folder.glob("*.npy"), None) is None:
        raise DatasetError(
            f"{folder}: no light curves in this data set (features only), and the model reads them: "
            "choose a model over per-channel depths (model=spectral_prior, cnn1d, mlp, transit_fit)"
        )


class LightCurveImages:
    """``images[i]``: the (time_bins, 283) float32 tensor of the i-th of ``planet_ids``, read from
    ``data_dir`` (a data set with light curves, whose dataset.json gives their length) when asked for."""

    def __init__(self, data_dir: str | os.PathLike, planet_ids: np.ndarray, time_bins: int) -> None:
        check_has_light_curves(data_dir)
        self.n_time = int(read_dataset_info(data_dir)["n_time"])
        check_time_bins(time_bins, self.n_time, str(data_dir))
        self.data_dir = Path(data_dir)
        self.planet_ids = np.asarray(planet_ids, dtype=np.int64)
        self.time_bins = int(time_bins)

    def __len__(self) -> int:
        return len(self.planet_ids)

    def __getitem__(self, index: int) -> torch.Tensor:
        flux = load_light_curve(self.data_dir, int(self.planet_ids[index]), mmap=True, n_time=self.n_time)
        return torch.from_numpy(light_curve_image(flux, self.time_bins))
