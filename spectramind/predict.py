"""Predict a Kaggle-format submission for a data folder from a trained run's checkpoint.

The model is rebuilt from the run's own ``config_resolved.yaml`` (two levels above the
checkpoint) and its weights loaded with ``weights_only=True``: a checkpoint is data, never code.
"""

from __future__ import annotations

from pathlib import Path

from spectramind.errors import DatasetError


def predict_folder(checkpoint: str | Path, data_dir: str | Path, out: str | Path) -> Path:
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from spectramind.data.features.cache import load_features, method_switch
    from spectramind.data.raw.calibrated_folder import check_same_calibration
    from spectramind.metrics.submission import write_submission
    from spectramind.sweep_layout import RESOLVED_CONFIG_FILE

    checkpoint = Path(checkpoint)
    config_path = checkpoint.resolve().parent.parent / RESOLVED_CONFIG_FILE
    if not checkpoint.is_file():
        raise DatasetError(f"checkpoint {checkpoint} does not exist")
    if not config_path.is_file():
        raise DatasetError(f"{config_path} not found: the checkpoint must sit in a run's checkpoints/ folder")
    cfg = OmegaConf.load(config_path)
    check_same_calibration(cfg.data.data_dir, data_dir)
    module = instantiate(cfg.model, loss=instantiate(cfg.loss))
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as exc:
        raise DatasetError(f"checkpoint {checkpoint} is unreadable ({type(exc).__name__})") from None
    module.load_state_dict(state)
    module.eval()
    # the run's own feature method (runs recorded before the option existed used windowed depths) and
    # switches (before `decorrelate` existed, `detrend` switched the transit fit's decorrelation too)
    method = cfg.data.get("features", "window")
    switch = method_switch(method, bool(cfg.data.detrend), bool(cfg.data.get("decorrelate", cfg.data.detrend)))
    features = load_features(data_dir, detrend=switch, method=method)
    inputs = model_inputs(features, data_dir, cfg.data.get("light_curve_bins"))
    with torch.no_grad():
        parts = [module.predict_spectrum(batch) for batch in _batches(inputs, PREDICT_BATCH)]
    mu, sigma = (torch.cat([part[i] for part in parts]) for i in (0, 1))
    return write_submission(out, features["planet_ids"], mu, sigma)


# Planets per forward pass: bounds the memory of a deep backbone's activations.
PREDICT_BATCH = 256


def model_inputs(features: dict, data_dir: str | Path, light_curve_bins: int | None) -> dict:
    """Every input a model may read, for all of a folder's planets: the depths and their errors, and
    for the models over the light curves (``light_curve_bins`` set) the images and star vectors."""
    import torch

    from spectramind.data.light_curve_images import LightCurveImages, star_vector

    inputs = {"depth": torch.as_tensor(features["depth"]), "depth_err": torch.as_tensor(features["depth_err"])}
    if light_curve_bins:
        images = LightCurveImages(data_dir, features["planet_ids"], int(light_curve_bins))
        inputs["light_curve"] = torch.stack([images[i] for i in range(len(images))])
        inputs["star"] = torch.from_numpy(star_vector(features["star"]))
    return inputs


def _batches(inputs: dict, size: int):
    n = len(inputs["depth"])
    for start in range(0, n, size):
        yield {name: values[start : start + size] for name, values in inputs.items()}
