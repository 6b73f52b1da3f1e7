"""The deep backbones over the light curves: shapes, the untrained model's starting point, and
one-line errors for a bad architecture or a mismatched image."""

from __future__ import annotations

import pytest
import torch

from spectramind.errors import ConfigurationError
from spectramind.models.light_curve_backbone import STAR_FEATURES, LightCurveBackbone
from spectramind.models.module import SpectraModule


def _batch(n: int = 3, time_bins: int = 8) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    depth = 2e-3 + 1e-4 * torch.rand(n, 283, generator=generator)
    return {
        "depth": depth,
        "depth_err": torch.full((n, 283), 5e-5),
        "light_curve": depth[:, None, :] * torch.ones(n, time_bins, 1),
        "star": torch.randn(n, STAR_FEATURES, generator=generator),
        "y": depth + 1e-5,
    }


@pytest.mark.parametrize("architecture", ["resnet18", "vit"])
def test_each_architecture_gives_per_wavelength_features(architecture):
    backbone = LightCurveBackbone(architecture, time_bins=6, out_channels=4)  # vit pads 6 bins to 8
    batch = _batch(time_bins=6)
    features = backbone(torch.randn(3, 2, 283), batch["light_curve"], batch["star"])
    assert features.shape == (3, 4, 283)
    features.sum().backward()
    assert backbone.encoder.parameters().__next__().grad is not None  # the image network learns too


def test_untrained_model_predicts_the_measured_depths_and_reads_the_light_curve():
    module = SpectraModule(backbone=LightCurveBackbone("resnet18", time_bins=8))
    assert module.input_names == ("depth", "depth_err", "light_curve", "star")
    batch = _batch()
    mu, sigma = module.predict_spectrum(batch)
    torch.testing.assert_close(mu, batch["depth"])  # zero-initialised heads: the starting point
    loss = module.normalised_loss(batch)
    loss.backward()
    assert module.mu_head.weight.grad.abs().sum() > 0


def test_unknown_architecture_is_one_line():
    with pytest.raises(
        ConfigurationError, match="unknown backbone architecture 'resnet51': choose resnet18, resnet50, vit"
    ):
        LightCurveBackbone("resnet51")


def test_an_image_of_another_size_is_one_line():
    backbone = LightCurveBackbone("resnet18", time_bins=8)
    with pytest.raises(ConfigurationError, match=r"shape \(4, 283\).*data.light_curve_bins must equal"):
        backbone(torch.zeros(2, 2, 283), torch.zeros(2, 4, 283), torch.zeros(2, STAR_FEATURES))
