"""Every command in docs/trackers.md works as written: each `spectramind train|ablate run` line
(also behind a `VAR=value` prefix) composes with Hydra, study and overrides as given, and each
tracker tool's command exists with the options the page uses."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from spectramind.cli.ablate import split_study, study_names

PAGE = Path(__file__).resolve().parents[2] / "docs" / "trackers.md"
BLOCKS = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), re.DOTALL)
LINES = [line.strip() for block in BLOCKS for line in block.splitlines() if line.strip()]
ENV = re.compile(r"^[A-Z_]+=\S+$")


def _words(line: str) -> list[str]:
    words = shlex.split(line)
    while words and ENV.match(words[0]):
        words = words[1:]
    return words


SPECTRAMIND = [line for line in LINES if _words(line)[:1] == ["spectramind"]]
TOOLS = [line for line in LINES if _words(line)[:1] in (["mlflow"], ["tensorboard"])]


def test_the_page_has_commands():
    assert len(SPECTRAMIND) >= 8 and len(TOOLS) >= 2
    assert len(SPECTRAMIND) + len(TOOLS) == len(LINES), "a command the test does not check"


@pytest.mark.parametrize("line", SPECTRAMIND)
def test_spectramind_command_composes(line):
    words = _words(line)[1:]
    options_with_values = {"--sweep-dir", "--config-dir", "--jobs", "-j"}
    args, skip = [], False
    for word in words[2:] if words[0] == "ablate" else words[1:]:
        if skip:
            skip = False
        elif word in options_with_values:
            skip = True
        else:
            args.append(word)
    overrides = args
    if words[0] == "ablate":
        assert words[1] == "run"
        study, overrides = split_study(args)
        assert study in study_names()
        overrides = [f"ablation={study}", *overrides]
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        compose(config_name="config", overrides=overrides, return_hydra_config=True)


@pytest.mark.parametrize("line", TOOLS)
def test_tool_command_exists_with_its_options(line):
    words = _words(line)
    tool = str(Path(sys.executable).with_name(words[0]))
    subcommands = [w for w in words[1:2] if not w.startswith("-")]
    result = subprocess.run([tool, *subcommands, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    for option in (w.split("=")[0] for w in words[1:] if w.startswith("--")):
        assert option in result.stdout + result.stderr, f"{line}: {option} is not an option of {words[0]}"
