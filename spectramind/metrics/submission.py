"""Kaggle-format submission CSVs: write them, read them back with validation, and score them.

A submission has one row per planet: `planet_id`, `wl_1..wl_283` (mu) and `sigma_1..sigma_283`.
Solutions and training labels have `planet_id` and `wl_1..wl_283`. Validation is deliberately
strict and local to this module so a bad file fails with one line naming the file, the column and
the planet, instead of a NaN score. Scoring goes through `spectramind.metrics.gll.ariel_score`,
the same definition training and the leaderboard use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectramind.data import layout
from spectramind.errors import DatasetError
from spectramind.metrics.gll import ArrayLike, ariel_score_sums, check_variant
from spectramind.spectrum import N_WAVELENGTHS

WL_COLUMNS = [f"wl_{i}" for i in range(1, N_WAVELENGTHS + 1)]
SIGMA_COLUMNS = [f"sigma_{i}" for i in range(1, N_WAVELENGTHS + 1)]
SUBMISSION_COLUMNS = ["planet_id", *WL_COLUMNS, *SIGMA_COLUMNS]
LABEL_COLUMNS = ["planet_id", *WL_COLUMNS]

_SHOWN = 5  # how many offending names or ids an error message lists


def _listed(items: Sequence[object]) -> str:
    shown = ", ".join(str(item) for item in list(items)[:_SHOWN])
    return shown + (f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def _check_columns(frame: pd.DataFrame, expected: list[str], source: str) -> pd.DataFrame:
    """Require exactly `expected` columns (any order); return the frame in canonical column order."""
    present = set(frame.columns)
    missing = [column for column in expected if column not in present]
    extra = [column for column in frame.columns if column not in set(expected)]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing columns {_listed(missing)}")
        if extra:
            problems.append(f"unexpected columns {_listed(extra)}")
        raise DatasetError(f"{source}: {'; '.join(problems)}")
    if frame.columns.duplicated().any():
        raise DatasetError(f"{source}: duplicated columns {_listed(list(frame.columns[frame.columns.duplicated()]))}")
    return frame[expected]


def _check_planet_ids(frame: pd.DataFrame, source: str) -> None:
    ids = frame["planet_id"]
    if not pd.api.types.is_integer_dtype(ids):
        raise DatasetError(f"{source}: planet_id must hold integers, got dtype {ids.dtype}")
    duplicated = ids[ids.duplicated()].unique().tolist()
    if duplicated:
        raise DatasetError(f"{source}: duplicated planet_id {_listed(duplicated)}")


def _first_bad_cell(frame: pd.DataFrame, columns: list[str], bad: np.ndarray) -> tuple[str, object]:
    row, col = np.argwhere(bad)[0]
    return columns[col], frame["planet_id"].iloc[row]


def _check_values(frame: pd.DataFrame, value_columns: list[str], sigma_columns: list[str], source: str) -> None:
    """Values must be numeric and finite, sigmas strictly positive; name the first offending cell."""
    columns = value_columns + sigma_columns
    non_numeric = [column for column in columns if not pd.api.types.is_numeric_dtype(frame[column])]
    if non_numeric:
        raise DatasetError(f"{source}: non-numeric values in columns {_listed(non_numeric)}")
    values = frame[columns].to_numpy(dtype=np.float64)
    non_finite = ~np.isfinite(values)
    if non_finite.any():
        column, planet = _first_bad_cell(frame, columns, non_finite)
        raise DatasetError(f"{source}: non-finite value in column {column} for planet_id {planet}")
    if sigma_columns:
        sigmas = frame[sigma_columns].to_numpy(dtype=np.float64)
        nonpositive = sigmas <= 0
        if nonpositive.any():
            column, planet = _first_bad_cell(frame, sigma_columns, nonpositive)
            value = sigmas[nonpositive][0]
            raise DatasetError(f"{source}: sigma must be > 0, got {value!r} in column {column} for planet_id {planet}")


def _read_csv(path: str | os.PathLike[str], role: str) -> pd.DataFrame:
    file = Path(path)
    if not file.is_file():
        raise DatasetError(f"{role} file not found: {file}")
    try:
        return layout.read_csv_exact(file)
    except (ValueError, UnicodeDecodeError) as error:  # ArrowInvalid is a ValueError
        raise DatasetError(f"{role} file {file} is not a readable CSV: {error}") from error


def read_submission(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a submission CSV; columns are returned in canonical order."""
    frame = _check_columns(_read_csv(path, "submission"), SUBMISSION_COLUMNS, str(path))
    _check_planet_ids(frame, str(path))
    _check_values(frame, WL_COLUMNS, SIGMA_COLUMNS, str(path))
    return frame


def read_labels(path: str | os.PathLike[str], role: str = "labels") -> pd.DataFrame:
    """Read and validate a labels CSV (`planet_id`, `wl_1..wl_283`): a solution or the train labels."""
    if not Path(path).is_file():
        raise DatasetError(f"{role} file not found: {path}")
    return layout.read_labels(path)


def naive_statistics(labels: pd.DataFrame) -> tuple[float, float]:
    """Mean and standard deviation (ddof=0) of all label cells, as the official metric computes them."""
    values = labels[WL_COLUMNS].to_numpy(dtype=np.float64)
    return float(values.mean()), float(values.std())


def score_submission(
    solution: pd.DataFrame,
    submission: pd.DataFrame,
    naive_mean: ArrayLike,
    naive_std: ArrayLike,
    variant: str = "adc2025",
) -> dict[str, float]:
    """Score a submission against a solution, rows matched by planet_id: {"score", "unclipped"}."""
    check_variant(variant)
    solution = _check_columns(solution, LABEL_COLUMNS, "solution")
    submission = _check_columns(submission, SUBMISSION_COLUMNS, "submission")
    _check_planet_ids(solution, "solution")
    _check_planet_ids(submission, "submission")
    _check_values(solution, WL_COLUMNS, [], "solution")
    _check_values(submission, WL_COLUMNS, SIGMA_COLUMNS, "submission")

    expected_ids = set(solution["planet_id"].tolist())
    submitted_ids = set(submission["planet_id"].tolist())
    missing = sorted(expected_ids - submitted_ids)
    if missing:
        raise DatasetError(f"submission lacks {len(missing)} planet_id(s) of the solution: {_listed(missing)}")
    extra = sorted(submitted_ids - expected_ids)
    if extra:
        raise DatasetError(f"submission has {len(extra)} planet_id(s) not in the solution: {_listed(extra)}")

    aligned = submission.set_index("planet_id").loc[solution["planet_id"]]
    numerator, denominator = ariel_score_sums(
        solution[WL_COLUMNS].to_numpy(dtype=np.float64),
        aligned[WL_COLUMNS].to_numpy(dtype=np.float64),
        aligned[SIGMA_COLUMNS].to_numpy(dtype=np.float64),
        naive_mean,
        naive_std,
        variant,
    )
    unclipped = float(numerator / denominator)
    return {"score": min(max(unclipped, 0.0), 1.0), "unclipped": unclipped}


def score_submission_files(
    solution_csv: str | os.PathLike[str],
    submission_csv: str | os.PathLike[str],
    train_labels_csv: str | os.PathLike[str],
    variant: str = "adc2025",
) -> dict[str, float]:
    """Score submission files; the naive model comes from the train labels' all-cell mean and std."""
    check_variant(variant)
    naive_mean, naive_std = naive_statistics(read_labels(train_labels_csv, "train labels"))
    return score_submission(
        read_labels(solution_csv, "solution"), read_submission(submission_csv), naive_mean, naive_std, variant
    )


def write_submission(
    path: str | os.PathLike[str], planet_ids: ArrayLike | Sequence[int], mu: ArrayLike, sigma: ArrayLike
) -> Path:
    """Write mu and sigma (n_planets, 283) in the Kaggle format; returns the path written.

    The file is validated like `read_submission` before it is written (a submission Kaggle would
    reject is never produced) and replaced atomically so readers never see half a file.
    """
    ids = np.asarray(planet_ids.detach().cpu() if isinstance(planet_ids, torch.Tensor) else planet_ids).reshape(-1)
    mu_np = torch.as_tensor(mu).detach().cpu().numpy().astype(np.float64)
    sigma_np = torch.as_tensor(sigma).detach().cpu().numpy().astype(np.float64)
    expected = (len(ids), N_WAVELENGTHS)
    if mu_np.shape != expected or sigma_np.shape != expected:
        raise ValueError(
            f"mu and sigma must have shape {expected} for {len(ids)} planet ids, got {mu_np.shape} and {sigma_np.shape}"
        )
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"planet_ids must be integers, got dtype {ids.dtype}")
    frame = pd.DataFrame(np.concatenate([mu_np, sigma_np], axis=1), columns=WL_COLUMNS + SIGMA_COLUMNS)
    frame.insert(0, "planet_id", ids.astype(np.int64))
    target = Path(path)
    _check_planet_ids(frame, str(target))
    _check_values(frame, WL_COLUMNS, SIGMA_COLUMNS, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    frame.to_csv(partial, index=False, float_format="%.17g")  # 17 significant digits: float64 round-trips
    os.replace(partial, target)
    return target
