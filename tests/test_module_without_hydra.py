"""SpectraModule and ArielDataModule used as in a notebook: plain Python arguments, no Hydra."""

from __future__ import annotations

import functools

import pytest
import pytorch_lightning as pl
import torch

from spectramind.data.datamodule import ArielDataModule
from spectramind.errors import ConfigurationError
from spectramind.models.backbones import CNN1dBackbone, MLPBackbone
from spectramind.models.losses import FixedSigmaMSELoss, GaussianNLLLoss
from spectramind.models.module import SpectraModule


def _fit(module, data_dir, epochs=3):
    pl.seed_everything(0, verbose=False)
    datamodule = ArielDataModule(str(data_dir), batch_size=16)
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(module, datamodule=datamodule)
    trainer.test(module, datamodule=datamodule, verbose=False)
    return module, datamodule


@pytest.mark.parametrize("backbone", [MLPBackbone(hidden=32), CNN1dBackbone(channels=8)])
def test_trains_and_scores_without_hydra(tiny_data_dir, backbone):
    module, datamodule = _fit(SpectraModule(backbone=backbone, lr=3e-3), tiny_data_dir)
    results = module.test_results
    assert set(results) >= {"adc2025", "gll", "rmse_ppm"}
    # The module took the training-split statistics from the datamodule.
    stats = datamodule.label_statistics()
    assert float(module.naive_mean) == pytest.approx(stats["naive_mean"])
    assert torch.allclose(module.label_mean.double(), torch.as_tensor(stats["label_mean"]), rtol=1e-6)


def test_sigma_is_strictly_positive_and_mse_loss_fixes_it(tiny_data_dir):
    batch = next(iter(ArielDataModule(str(tiny_data_dir)).test_dataloader()))
    gll = SpectraModule(loss=GaussianNLLLoss())
    mse = SpectraModule(loss=FixedSigmaMSELoss(sigma=2e-4))
    for module in (gll, mse):
        module.set_statistics(batch["y"].mean(0), batch["y"].std(0) + 1e-6, 0.01, 0.005)
    mu, sigma = gll(batch["depth"], batch["depth_err"] * 1e-12)  # extreme input still gives σ > 0
    assert torch.all(sigma > 0) and torch.isfinite(mu).all()
    _, fixed = mse(batch["depth"], batch["depth_err"])
    assert torch.all(fixed == 2e-4)


def test_untrained_module_starts_from_the_measured_depth(tiny_data_dir):
    """Zero-initialised heads: μ is the measured depth and σ its measured error before training."""
    batch = next(iter(ArielDataModule(str(tiny_data_dir)).test_dataloader()))
    module = SpectraModule()
    module.set_statistics(batch["y"].mean(0), batch["y"].std(0) + 1e-6, 0.01, 0.005)
    mu, sigma = module(batch["depth"], batch["depth_err"])
    assert torch.allclose(mu, batch["depth"], rtol=1e-4, atol=1e-7)
    assert torch.allclose(sigma, batch["depth_err"], rtol=1e-4)


def test_custom_optimizer_factory_is_used():
    module = SpectraModule(optimizer=functools.partial(torch.optim.SGD, lr=0.1))
    assert isinstance(module.configure_optimizers(), torch.optim.SGD)


@pytest.mark.parametrize("kwargs", [{"lr": -1e-3}, {"lr": 0.0}])
def test_bad_learning_rate_is_rejected(kwargs):
    with pytest.raises(ConfigurationError, match="learning rate"):
        SpectraModule(**kwargs)


def test_split_is_deterministic_and_disjoint(tiny_data_dir):
    def ids(seed):
        dm = ArielDataModule(str(tiny_data_dir), split_seed=seed)
        dm.setup()
        return {k: set(v.tensors["planet_id"].tolist()) for k, v in dm.splits.items()}

    first, again, other = ids(0), ids(0), ids(1)
    assert first == again and first != other
    assert not (first["train"] & first["val"]) and not (first["train"] & first["test"])
    assert sum(len(v) for v in first.values()) == 40


def test_normalisation_uses_the_training_split_only(tiny_data_dir):
    dm = ArielDataModule(str(tiny_data_dir))
    dm.setup()
    train_y = dm.splits["train"].tensors["y"].double()
    stats = dm.label_statistics()
    assert stats["naive_mean"] == pytest.approx(float(train_y.mean()))
    assert stats["naive_std"] == pytest.approx(float(train_y.std(unbiased=False)))
