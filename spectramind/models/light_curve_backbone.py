"""``LightCurveBackbone``: a deep image network (timm's ResNets, a vision transformer) over a planet's
light curves, giving the per-wavelength features that ``SpectraModule``'s μ and σ heads read.

Why this shape: the network sees the transit itself, time bins x 283 channels
(`spectramind.data.light_curve_images`), where the small backbones see only the depths a classical
fit measured. An image network pools the image into one embedding, the star's vector is appended
(what the light curves cannot tell: the star's size and temperature, the orbit), and a linear map
spreads it back over the 283 wavelengths, where it is added to a per-wavelength map of the
measured depths and errors. Since the heads start at zero, the untrained model predicts the measured depths (or, with
the spectral prior, their posterior mean), and training learns what the light curves add.

The networks are timm's (``timm.create_model``, random weights: ImageNet features do not describe
spectra), with one input channel, the flux deficit in parts per thousand. A vision transformer's
patches tile the image; the image is padded with zeros to a whole number of patches.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

from spectramind.errors import ConfigurationError
from spectramind.spectrum import N_WAVELENGTHS

# Short names of the model configs (conf/model/) for timm's architectures.
ARCHITECTURES = {"resnet18": "resnet18", "resnet50": "resnet50", "vit": "vit_small_patch16_224"}
# The image's one channel, 1 - f / f_out, in parts per thousand: transit depths of O(1).
INPUT_SCALE = 1e3
# Length of the star vector (spectramind.data.light_curve_images.star_vector).
STAR_FEATURES = 8


def _timm():
    """timm (the ``backbones`` extra), or one line on why it cannot load: not installed, or its
    torchvision fails beside a torch build it was not made for (PyPI's torchvision beside the
    CPU-only torch 2.13.0)."""
    try:
        import timm
    except (ImportError, RuntimeError, OSError) as exc:
        raise ConfigurationError(
            f"the light-curve backbones need timm, which failed to import ({type(exc).__name__}: {exc}): "
            "pip install 'spectramind[backbones]' beside a torch and torchvision that match, "
            "e.g. pip install torch==2.14.1 torchvision==0.29.1"
        ) from None
    return timm


def timm_name(architecture: str) -> str:
    """timm's model name for a short name of ARCHITECTURES, or a timm name itself; one line naming
    the choices otherwise."""
    timm = _timm()
    name = ARCHITECTURES.get(architecture, architecture)
    if not timm.is_model(name):
        raise ConfigurationError(
            f"unknown backbone architecture {architecture!r}: choose {', '.join(ARCHITECTURES)} "
            "or a timm model name (timm.list_models())"
        )
    return name


class LightCurveBackbone(nn.Module):
    """(B, C_in, W) per-wavelength inputs, a (B, time_bins, W) light-curve image and a (B, S) star
    vector → (B, F, W)."""

    extra_inputs = ("light_curve", "star")

    def __init__(
        self,
        architecture: str = "resnet18",
        time_bins: int = 8,
        out_channels: int = 8,
        in_channels: int = 2,
        patch_size: tuple[int, int] = (8, 16),
        n_wavelengths: int = N_WAVELENGTHS,
        star_features: int = STAR_FEATURES,
    ) -> None:
        super().__init__()
        for name, value in (("time_bins", time_bins), ("out_channels", out_channels), ("in_channels", in_channels)):
            if not (isinstance(value, int) and value >= 1):
                raise ConfigurationError(f"backbone {name} must be an integer >= 1, got {value!r}")
        name = timm_name(architecture)
        self.architecture = architecture
        self.time_bins = time_bins
        self.out_channels = out_channels
        self.n_wavelengths = n_wavelengths
        # one example's shape of each of extra_inputs, in their order (spectramind.models.training_cost)
        self.extra_input_shapes = {"light_curve": (time_bins, n_wavelengths), "star": (star_features,)}
        self.padded = (time_bins, n_wavelengths)
        options: dict = {}
        if "vit" in name:
            patch = tuple(int(p) for p in patch_size)
            self.padded = tuple(math.ceil(size / step) * step for size, step in zip(self.padded, patch))
            options = {"img_size": self.padded, "patch_size": patch}
        self.encoder = _timm().create_model(name, pretrained=False, in_chans=1, num_classes=0, **options)
        self.convolutional = not options
        self.to_wavelengths = nn.Linear(self.encoder.num_features + star_features, out_channels * n_wavelengths)
        self.per_channel = nn.Conv1d(in_channels, out_channels, kernel_size=1)
        self._channels_last = False

    def forward(self, x: torch.Tensor, light_curve: torch.Tensor, star: torch.Tensor) -> torch.Tensor:
        if light_curve.shape[-2:] != (self.time_bins, self.n_wavelengths):
            raise ConfigurationError(
                f"light-curve image of shape {tuple(light_curve.shape[-2:])}, the backbone expects "
                f"({self.time_bins}, {self.n_wavelengths}): data.light_curve_bins must equal model.backbone.time_bins"
            )
        image = (light_curve * INPUT_SCALE).unsqueeze(1).to(x.dtype)
        pad_time, pad_wavelength = (p - s for p, s in zip(self.padded, light_curve.shape[-2:]))
        if pad_time or pad_wavelength:
            image = functional.pad(image, (0, pad_wavelength, 0, pad_time))
        if image.is_cuda and self.convolutional:  # cuDNN's convolutions are fastest channels-last
            if not self._channels_last:
                self.encoder.to(memory_format=torch.channels_last)
                self._channels_last = True
            image = image.contiguous(memory_format=torch.channels_last)
        embedding = torch.cat([self.encoder(image), star.to(x.dtype)], dim=1)
        spread = self.to_wavelengths(embedding).view(x.shape[0], self.out_channels, self.n_wavelengths)
        return functional.gelu(self.per_channel(x) + spread)
