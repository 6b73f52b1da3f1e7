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
    with torch.no_grad():
        mu, sigma = module(torch.as_tensor(features["depth"]), torch.as_tensor(features["depth_err"]))
    return write_submission(out, features["planet_ids"], mu, sigma)
