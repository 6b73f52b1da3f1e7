"""Wrong usage: one line ``error: ...`` on stderr, exit status 2, no traceback, no usage box."""

from __future__ import annotations

import pytest
from cli_support import single_error_line, spectramind

# (arguments, a word the one-line message must contain so the user knows what to fix)
WRONG_USAGE = [
    (["frobnicate"], "frobnicate"),
    (["ablate", "frobnicate"], "frobnicate"),
    (["ablate", "run", "--dryrun"], "--dryrun"),
    (["ablate", "run", "--jobs", "0"], "--jobs"),
    (["ablate", "run", "--jobs", "many"], "--jobs"),
    (["ablate", "run", "no_such_study"], "no_such_study"),
    (["ablate", "run", "default", "model"], "'model'"),
    (["ablate", "status"], "SWEEP_DIR"),
    (["ablate", "status", "does/not/exist"], "does/not/exist"),
    (["ablate", "resume", "does/not/exist"], "does/not/exist"),
    (["ablate", "leaderboard", "does/not/exist"], "does/not/exist"),
    (["ablate", "export", "does/not/exist", "--top", "2"], "does/not/exist"),
    (["predict", "missing.ckpt", "--data", "."], "missing.ckpt"),
    (["predict"], "CHECKPOINT"),
    (["score", "solution.csv"], "solution.csv"),
    (["data", "simulate", "--n-planets", "-3"], "--n-planets"),
]


@pytest.mark.parametrize("args, culprit", WRONG_USAGE, ids=[" ".join(a) for a, _ in WRONG_USAGE])
def test_wrong_usage_is_one_line_and_status_2(tmp_path, args, culprit):
    result = spectramind(*args, cwd=tmp_path)
    assert culprit in single_error_line(result)
    assert result.stdout == ""


def test_bad_score_variant_names_the_choices(tmp_path):
    for name in ("solution.csv", "submission.csv", "train.csv"):
        (tmp_path / name).write_text("planet_id\n")
    message = single_error_line(
        spectramind(
            "score",
            "solution.csv",
            "submission.csv",
            "--train-labels",
            "train.csv",
            "--variant",
            "adc2030",
            cwd=tmp_path,
        )
    )
    assert "adc2030" in message and "adc2025" in message and "adc2024" in message


def test_a_directory_without_a_sweep_is_named(tmp_path):
    message = single_error_line(spectramind("ablate", "status", tmp_path, cwd=tmp_path))
    assert "sweep.json" in message
    message = single_error_line(spectramind("ablate", "resume", tmp_path, cwd=tmp_path))
    assert "multirun.yaml" in message
    (tmp_path / "notes.txt").write_text("mine")
    for command in ("leaderboard", "export"):
        message = single_error_line(spectramind("ablate", command, tmp_path, cwd=tmp_path))
        assert f"{tmp_path}: not a sweep directory" in message
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # nothing written into it


def test_unknown_config_option_lists_the_available_ones(tmp_path):
    message = single_error_line(spectramind("train", "model=transformer", cwd=tmp_path))
    assert "model/transformer" in message and "cnn1d" in message and "mlp" in message


@pytest.mark.parametrize("override, culprit", [("nosuch.key=1", "nosuch.key"), ("optimizer.lr=[", "optimizer.lr")])
def test_bad_override_in_a_sweep_is_one_line_and_nothing_runs(tmp_path, override, culprit):
    result = spectramind("ablate", "run", "model=mlp,cnn1d", override, "--sweep-dir", tmp_path / "sweep", cwd=tmp_path)
    assert culprit in single_error_line(result)
    assert not (tmp_path / "sweep" / "runs").exists()


def test_malformed_submission_is_an_expected_error(tmp_path, tiny_data_dir):
    (tmp_path / "submission.csv").write_text("planet_id,wl_1\n1,0.1\n")
    message = single_error_line(
        spectramind(
            "score",
            tiny_data_dir / "train.csv",
            "submission.csv",
            "--train-labels",
            tiny_data_dir / "train.csv",
            cwd=tmp_path,
        )
    )
    assert "submission.csv" in message
