"""Kaggle-format submissions: round trip, scoring by planet_id, and the validation errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from spectramind.errors import ConfigurationError, DatasetError
from spectramind.metrics.submission import (
    read_submission,
    score_submission,
    score_submission_files,
    write_submission,
)

N_WL = 283
WL = [f"wl_{i}" for i in range(1, N_WL + 1)]
SIGMA = [f"sigma_{i}" for i in range(1, N_WL + 1)]


def independent_adc2025(y, mu, sigma, naive_mean, naive_std):
    """The official formula, written here with scipy and numpy only."""
    sigma_true = np.broadcast_to(np.concatenate([[1e-6], np.full(N_WL - 1, 1e-5)]), y.shape)
    gll_pred = norm.logpdf(y, mu, np.clip(sigma, 1e-15, None))
    gll_ideal = norm.logpdf(y, y, sigma_true)
    gll_naive = norm.logpdf(y, naive_mean, naive_std)
    weights = np.broadcast_to(np.concatenate([[57.846], np.ones(N_WL - 1)]), y.shape)
    return float(np.average((gll_pred - gll_naive) / (gll_ideal - gll_naive), weights=weights))


@pytest.fixture
def case(tmp_path):
    rng = np.random.default_rng(0)
    planet_ids = rng.choice(np.arange(10_000, 99_999), size=12, replace=False)
    y = rng.uniform(1e-3, 1e-2, size=(12, N_WL))
    sigma = 10 ** rng.uniform(-5, -3, size=y.shape)
    mu = y + rng.normal(size=y.shape) * sigma
    train = rng.uniform(1e-3, 1e-2, size=(30, N_WL))
    solution_csv = tmp_path / "solution.csv"
    train_csv = tmp_path / "train.csv"
    pd.DataFrame(y, columns=WL).assign(planet_id=planet_ids)[["planet_id", *WL]].to_csv(solution_csv, index=False)
    pd.DataFrame(train, columns=WL).assign(planet_id=np.arange(30))[["planet_id", *WL]].to_csv(train_csv, index=False)
    return {
        "ids": planet_ids,
        "y": y,
        "mu": mu,
        "sigma": sigma,
        "train": train,
        "solution": solution_csv,
        "train_csv": train_csv,
    }


def test_round_trip_write_read_score(case, tmp_path):
    mu32 = torch.from_numpy(case["mu"]).float()
    path = write_submission(tmp_path / "out" / "submission.csv", torch.from_numpy(case["ids"]), mu32, case["sigma"])
    frame = read_submission(path)
    assert list(frame.columns) == ["planet_id", *WL, *SIGMA]
    np.testing.assert_array_equal(frame["planet_id"].to_numpy(), case["ids"])
    np.testing.assert_array_equal(frame[WL].to_numpy(), case["mu"].astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(frame[SIGMA].to_numpy(), case["sigma"])

    result = score_submission_files(case["solution"], path, case["train_csv"])
    naive = (case["train"].mean(), case["train"].std())
    expected = independent_adc2025(case["y"], frame[WL].to_numpy(), case["sigma"], *naive)
    assert set(result) == {"score", "unclipped"}
    assert result["unclipped"] == pytest.approx(expected, rel=1e-9)
    assert result["score"] == pytest.approx(min(max(expected, 0.0), 1.0), rel=1e-9)
    assert 0.0 < result["score"] < 1.0


def test_rows_are_matched_by_planet_id(case, tmp_path):
    order = np.random.default_rng(1).permutation(len(case["ids"]))
    in_order = write_submission(tmp_path / "a.csv", case["ids"], case["mu"], case["sigma"])
    shuffled = write_submission(tmp_path / "b.csv", case["ids"][order], case["mu"][order], case["sigma"][order])
    for variant in ("adc2025", "adc2024"):
        first = score_submission_files(case["solution"], in_order, case["train_csv"], variant)
        second = score_submission_files(case["solution"], shuffled, case["train_csv"], variant)
        assert first["unclipped"] == pytest.approx(second["unclipped"], rel=1e-12)
    wrong = write_submission(tmp_path / "c.csv", case["ids"], case["mu"][order], case["sigma"][order])
    assert score_submission_files(case["solution"], wrong, case["train_csv"])["unclipped"] < first["unclipped"]


@pytest.mark.parametrize("bad_sigma", [-1e-5, 0.0])
def test_nonpositive_sigma_names_file_column_and_planet(case, tmp_path, bad_sigma):
    path = tmp_path / "submission.csv"
    write_submission(path, case["ids"], case["mu"], case["sigma"])
    frame = pd.read_csv(path)
    frame.loc[3, "sigma_17"] = bad_sigma
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError) as error:
        read_submission(path)
    message = str(error.value)
    assert "submission.csv" in message and "sigma_17" in message and str(case["ids"][3]) in message


def test_non_finite_value_is_named(case, tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, case["ids"], case["mu"], case["sigma"])
    frame = pd.read_csv(path)
    frame.loc[5, "wl_200"] = np.nan
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError, match=rf"wl_200.*{case['ids'][5]}"):
        read_submission(path)


def test_wrong_columns_are_named(case, tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, case["ids"], case["mu"], case["sigma"])
    frame = pd.read_csv(path)
    extra = pd.DataFrame({"extra_column": np.ones(len(frame))})
    pd.concat([frame.drop(columns=["sigma_283"]), extra], axis=1).to_csv(path, index=False)
    with pytest.raises(DatasetError, match=r"missing columns sigma_283.*unexpected columns extra_column"):
        read_submission(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.csv"):
        read_submission(tmp_path / "nowhere.csv")


def test_missing_and_extra_planets_are_named(case):
    solution = pd.read_csv(case["solution"])
    submission = pd.DataFrame(np.concatenate([case["mu"], case["sigma"]], axis=1), columns=[*WL, *SIGMA])
    submission.insert(0, "planet_id", case["ids"])
    naive = (case["train"].mean(), case["train"].std())
    with pytest.raises(DatasetError, match=rf"lacks 2 planet_id.*{min(case['ids'][:2])}"):
        score_submission(solution, submission.iloc[2:], *naive)
    with pytest.raises(DatasetError, match=r"not in the solution: 7"):
        renamed = submission.assign(planet_id=submission["planet_id"].where(submission.index != 0, 7))
        score_submission(solution.iloc[1:], renamed, *naive)


def test_labels_file_with_wrong_columns_is_named(case, tmp_path):
    bad_train = tmp_path / "train_bad.csv"
    pd.read_csv(case["train_csv"]).drop(columns=["wl_5"]).to_csv(bad_train, index=False)
    submission = write_submission(tmp_path / "s.csv", case["ids"], case["mu"], case["sigma"])
    with pytest.raises(DatasetError, match=r"train_bad.csv.*wl_5"):
        score_submission_files(case["solution"], submission, bad_train)


def test_unknown_variant_is_named(case, tmp_path):
    submission = write_submission(tmp_path / "s.csv", case["ids"], case["mu"], case["sigma"])
    with pytest.raises(ConfigurationError, match="adc1999"):
        score_submission_files(case["solution"], submission, case["train_csv"], variant="adc1999")


def test_write_refuses_an_invalid_submission(case, tmp_path):
    sigma = case["sigma"].copy()
    sigma[2, 0] = -1.0
    path = tmp_path / "s.csv"
    with pytest.raises(DatasetError, match=rf"sigma_1 .*{case['ids'][2]}"):
        write_submission(path, case["ids"], case["mu"], sigma)
    assert not path.exists()
    with pytest.raises(ValueError, match="shape"):
        write_submission(path, case["ids"][:3], case["mu"], case["sigma"])


def test_non_numeric_value_is_named(case, tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, case["ids"], case["mu"], case["sigma"])
    text = path.read_text().splitlines()
    cells = text[4].split(",")
    cells[9] = "oops"  # wl_9 of the fourth planet
    text[4] = ",".join(cells)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DatasetError, match=r"submission.csv: non-numeric values in columns wl_9"):
        read_submission(path)
