"""``--help`` of every command: it works, shows the command's usage and names every parameter."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from cli_support import spectramind

from spectramind.cli.app import app


def _commands(group, path=()):
    """(path, click command) for the root, every group and every command, walked from the app."""
    yield path, group
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_the_tree_has_the_documented_commands():
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {
        "ablate run",
        "ablate resume",
        "ablate status",
        "ablate leaderboard",
        "ablate export",
        "train",
        "predict",
        "data simulate",
        "data calibrate",
        "score",
    } <= paths


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "spectramind" for p, _ in COMMANDS])
def test_help_shows_usage_and_every_parameter(tmp_path, path, command):
    result = spectramind(*path, "--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    text = result.stdout
    assert text.startswith(f"Usage: spectramind {' '.join(path)}".rstrip())
    summary = " ".join(command.help.split("\n\n")[0].split())
    assert summary and summary in " ".join(text.split())
    for parameter in command.params:
        if parameter.name == "help":
            continue
        names = (
            parameter.opts if parameter.param_type_name == "option" else [parameter.metavar or parameter.name.upper()]
        )
        for name in names:
            assert name in text, f"{name} missing from `spectramind {' '.join(path)} --help`"
        assert parameter.help, f"{names[0]} of `{' '.join(path)}` has no help text"
    for name in getattr(command, "commands", {}):
        assert f"  {name} " in text


def test_bare_groups_print_their_help(tmp_path):
    for path in ((), ("ablate",), ("data",)):
        result = spectramind(*path, cwd=tmp_path)
        assert result.returncode == 0 and result.stdout.startswith("Usage:") and result.stderr == ""


def test_python_dash_m_runs_the_same_app(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "spectramind", "ablate", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "resume" in result.stdout and "leaderboard" in result.stdout


def test_the_data_commands_choices_are_the_calibration_modules_own():
    """The CLI spells its choices out (so that --help imports no numpy); they must not drift."""
    from spectramind.cli import data as cli_data
    from spectramind.data.raw import backends, extraction
    from spectramind.data.raw import layout as raw_layout
    from spectramind.data.raw import simulate as raw_simulate
    from spectramind.data.sim import population

    assert [e.value for e in cli_data.Extraction] == list(extraction.METHODS)
    assert [e.value for e in cli_data.Backend] == list(backends.BACKENDS)
    assert [e.value for e in cli_data.Split] == list(raw_layout.SPLITS)
    assert {e.value for e in cli_data.DataFormat} == {"light-curves", *raw_simulate.FORMATS}
    assert [e.value for e in cli_data.PopulationName] == list(population.POPULATIONS)


HEAVY_MODULES = ("numpy", "pandas", "torch", "pytorch_lightning", "hydra", "omegaconf")


def test_help_imports_no_heavy_module():
    """`--help` of every command stays fast: the heavy libraries load inside the commands only."""
    code = (
        "import sys\n"
        "from spectramind.cli import main\n"
        f"for path in {[list(path) for path, _ in COMMANDS]!r}:\n"
        "    try:\n"
        "        main([*path, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print('loaded:', sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "loaded: []"
