"""The cost estimate the sweeper orders a parallel study's runs by: the backbone's FLOPs per
example, forward and backward, times the epochs; counted, not timed."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module

from spectramind.models.training_cost import estimated_cost


def _cost(*overrides: str) -> float | None:
    with initialize_config_module("spectramind.conf", version_base="1.3"):
        return estimated_cost(compose("config", overrides=list(overrides)))


def test_a_cnn_over_wavelength_costs_more_than_the_mlp_and_cost_follows_the_epochs():
    mlp, cnn = _cost("model=mlp", "training.epochs=10"), _cost("model=cnn1d", "training.epochs=10")
    assert 0 < mlp < cnn
    assert _cost("model=cnn1d", "training.epochs=30") == pytest.approx(3 * cnn)


def test_a_wider_backbone_costs_more_and_the_count_is_the_same_every_time():
    narrow = _cost("model=mlp", "model.backbone.hidden=64")
    wide = _cost("model=mlp", "model.backbone.hidden=512")
    assert narrow < wide == _cost("model=mlp", "model.backbone.hidden=512")


def test_a_light_curve_backbone_counts_its_image_input():
    small = _cost("model=resnet18", "model.backbone.time_bins=4")
    assert small > _cost("model=cnn1d")
    assert _cost("model=resnet18", "model.backbone.time_bins=16") > small  # a larger image


def test_a_model_without_gradient_steps_costs_nothing():
    assert _cost("model=transit_fit", "data.features=transit_fit") == 0.0


def test_no_estimate_without_a_number_of_epochs():
    assert _cost("trainer.max_epochs=null") is None


def test_a_backbone_that_cannot_be_built_alone_has_no_estimate():
    # the module would pass it what it lacks; a cost is a launch order, never a reason to fail
    assert _cost("model=cnn1d", "+model.backbone.no_such_argument=1") is None
    assert _cost("model=cnn1d", "~model.backbone._target_") is None
