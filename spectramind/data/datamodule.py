"""``ArielDataModule``: planets from an ADC-layout folder, split by planet, ready for Lightning.

The split is a seeded permutation of the sorted planet ids, so it depends only on the set of
planets and ``split_seed`` — never on file order or on the machine. Every statistic that could
leak the validation or test labels (normalisation, the naive scoring baseline) is computed on the
training split only and exposed through :meth:`label_statistics`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.accelerators import CUDAAccelerator
from torch.utils.data import DataLoader, Dataset

from spectramind.data.features.cache import check_method, load_features, method_switch
from spectramind.data.features.orbit import ORBIT_SOURCES
from spectramind.data.layout import (
    DATASET_INFO_FILE,
    DEPTH_SIGMA_COLUMNS,
    JITTER_SIGMA_COLUMNS,
    NOISE_TRUTH_FILE,
    WAVELENGTH_COLUMNS,
    read_dataset_info,
    read_labels,
    read_noise_truth,
)
from spectramind.data.light_curve_images import (
    LightCurveImages,
    check_has_light_curves,
    check_time_bins,
    star_vector,
)
from spectramind.errors import ConfigurationError, DatasetError


class PlanetDataset(Dataset):
    """In-memory per-planet tensors; items are dicts so optional labels stay optional. With
    ``images``, each item also holds the planet's ``light_curve`` image, read when asked for."""

    def __init__(self, tensors: dict[str, torch.Tensor], images: LightCurveImages | None = None) -> None:
        self.tensors = tensors
        self.images = images

    def __len__(self) -> int:
        return len(self.tensors["planet_id"])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = {name: values[index] for name, values in self.tensors.items()}
        if self.images is not None:
            item["light_curve"] = self.images[index]
        return item


class ArielDataModule(pl.LightningDataModule):
    def __init__(
        self,
        data_dir: str,
        simulation: dict[str, Any] | None = None,
        features: str = "transit_fit",
        detrend: bool = True,
        decorrelate: bool = False,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        light_curve_bins: int | None = None,
    ) -> None:
        """``light_curve_bins``: also give each planet's light curves, as an image of that many
        time bins, and its star vector (`spectramind.data.light_curve_images`), to the models that
        read them; the model configs set it (``conf/data/*.yaml`` follow ``model.backbone.time_bins``)."""
        super().__init__()
        for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0 < value < 0.5:
                raise ConfigurationError(f"data.{name} must be in (0, 0.5), got {value!r}")
        if int(batch_size) < 1:
            raise ConfigurationError(f"data.batch_size must be >= 1, got {batch_size!r}")
        self.data_dir = Path(data_dir).expanduser()
        self.simulation = dict(simulation) if simulation else None
        self.features = check_method(features)
        self.detrend = bool(detrend)
        self.decorrelate = bool(decorrelate)
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.batch_size = int(batch_size)
        self.num_workers = num_workers
        if light_curve_bins is not None and not (isinstance(light_curve_bins, int) and light_curve_bins >= 1):
            raise ConfigurationError(f"data.light_curve_bins must be an integer >= 1 or null, got {light_curve_bins!r}")
        self.light_curve_bins = light_curve_bins
        self.splits: dict[str, PlanetDataset] = {}
        self._statistics: dict[str, Any] | None = None
        self._orbit_source: np.ndarray | None = None
        # Without a simulation nothing will create the folder: a missing one is an error now, so a
        # sweep's pre-flight (which builds this object) rejects it before any run starts.
        self._check_folder()

    def _check_folder(self) -> None:
        if self.simulation is None and not self.data_dir.is_dir():
            raise DatasetError(f"data folder {self.data_dir} does not exist")
        if self.light_curve_bins is not None:
            self._check_light_curves()

    def _check_light_curves(self) -> None:
        """What the light-curve models need, checked before anything runs: light curves in the
        folder, with at least ``light_curve_bins`` samples (or a simulation that will write them)."""
        if (self.data_dir / DATASET_INFO_FILE).is_file():
            check_has_light_curves(self.data_dir)
            n_time, source = int(read_dataset_info(self.data_dir)["n_time"]), str(self.data_dir / DATASET_INFO_FILE)
        elif self.simulation is not None:
            from spectramind.data.sim.config import SimulationConfig

            n_time, source = int(self.simulation.get("n_time", SimulationConfig.n_time)), "data.simulation.n_time"
        else:
            check_has_light_curves(self.data_dir)
            return
        check_time_bins(self.light_curve_bins, n_time, f"data.light_curve_bins={self.light_curve_bins} ({source})")

    # ------------------------------------------------------------------ data
    def prepare_data(self) -> None:
        """Generate the simulated dataset on first use (no-op when it already exists)."""
        if self.simulation is not None:
            from spectramind.data.sim.config import SimulationConfig
            from spectramind.data.sim.writer import ensure_dataset

            try:
                config = SimulationConfig(**self.simulation)
            except TypeError as exc:
                raise ConfigurationError(f"data.simulation: {exc}") from None
            ensure_dataset(self.data_dir, config)
        else:
            self._check_folder()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        self.prepare_data()
        switch = method_switch(self.features, self.detrend, self.decorrelate)
        features = load_features(self.data_dir, detrend=switch, method=self.features)
        self._orbit_source = features["orbit_source"]
        labels = read_labels(self.data_dir).set_index("planet_id")
        planet_ids = np.asarray(features["planet_ids"])
        missing = np.setdiff1d(planet_ids, labels.index.to_numpy())
        if missing.size:
            raise DatasetError(f"{self.data_dir / 'train.csv'} has no labels for planet ids {missing[:5].tolist()}")
        y = labels.loc[planet_ids, WAVELENGTH_COLUMNS].to_numpy(np.float32)
        order = np.random.default_rng(self.split_seed).permutation(np.sort(planet_ids))
        n_test = max(1, round(self.test_fraction * len(order)))
        n_val = max(1, round(self.val_fraction * len(order)))
        if len(order) - n_test - n_val < 2:
            raise DatasetError(f"{self.data_dir} holds only {len(order)} planets: too few to split")
        parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
        position = {pid: i for i, pid in enumerate(planet_ids)}
        for split, ids in parts.items():
            rows = np.array([position[pid] for pid in np.sort(ids)])
            tensors = {
                "planet_id": torch.as_tensor(planet_ids[rows], dtype=torch.int64),
                "depth": torch.as_tensor(features["depth"][rows], dtype=torch.float32),
                "depth_err": torch.as_tensor(features["depth_err"][rows], dtype=torch.float32),
                "y": torch.as_tensor(y[rows]),
            }
            images = None
            if self.light_curve_bins is not None:  # the deep backbones read the light curves and the star
                tensors["star"] = torch.from_numpy(star_vector(features["star"][rows]))
                images = LightCurveImages(self.data_dir, planet_ids[rows], self.light_curve_bins)
            self.splits[split] = PlanetDataset(tensors, images)
        train_y = y[[position[pid] for pid in parts["train"]]].astype(np.float64)
        self._statistics = {
            "label_mean": train_y.mean(axis=0),
            "label_std": train_y.std(axis=0),
            "naive_mean": float(train_y.mean()),
            "naive_std": float(train_y.std()),
        }

    def noise_truth(self, split: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Each planet's irreducible depth errors per channel from the simulator's
        ``noise_truth.csv``, float64 (n_planets, 283) each in the split's row order: the white-noise
        limit (depth_sigma) and the jitter's share (jitter_sigma, shared by a planet's channels).
        None for data without noise truth."""
        if not (self.data_dir / NOISE_TRUTH_FILE).is_file():
            return None
        if not self.splits:
            self.setup()
        truth = read_noise_truth(self.data_dir).set_index("planet_id")
        planet_ids = self.splits[split].tensors["planet_id"].numpy()
        missing = np.setdiff1d(planet_ids, truth.index.to_numpy())
        if missing.size:
            raise DatasetError(f"{self.data_dir / NOISE_TRUTH_FILE} has no row for planet ids {missing[:5].tolist()}")
        rows = truth.loc[planet_ids]
        return rows[DEPTH_SIGMA_COLUMNS].to_numpy(np.float64), rows[JITTER_SIGMA_COLUMNS].to_numpy(np.float64)

    def label_statistics(self) -> dict[str, Any]:
        """Training-split label statistics: per-wavelength mean/std and the naive (mean, std) baseline."""
        if self._statistics is None:
            self.setup()
        return self._statistics

    def split_planet_ids(self) -> dict[str, list[int]]:
        """Each split's planet ids, sorted (``train``, ``val``, ``test``): what a run records so that
        which planets selected it and which measured it can be checked after the fact."""
        if not self.splits:
            self.setup()
        return {split: self.splits[split].tensors["planet_id"].tolist() for split in ("train", "val", "test")}

    def orbit_sources(self) -> dict[str, int]:
        """How many of the folder's planets took their transit geometry from each of
        features.ORBIT_SOURCES: the star info's orbit, or fitted to the white light (a calibrated
        ADC 2024 folder has no star info). What a run records, since the two differ in accuracy."""
        if not self.splits:
            self.setup()
        return {source: int(np.count_nonzero(self._orbit_source == source)) for source in ORBIT_SOURCES}

    # ------------------------------------------------------------------ loaders
    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if not self.splits:
            self.setup()
        # Shuffling draws from the global torch RNG, which the training seed sets. Pinned memory
        # speeds up the copies to a CUDA device, and only there.
        on_cuda = self.trainer is not None and isinstance(self.trainer.accelerator, CUDAAccelerator)
        return DataLoader(
            self.splits[split],
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=on_cuda,
            persistent_workers=self.num_workers > 0 and split == "train",
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
