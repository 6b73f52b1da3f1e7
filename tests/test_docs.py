"""The documentation cannot drift from the code: links resolve, and every `spectramind` command in
a shell block of docs/ or the README names real commands, options and studies."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from spectramind.cli.ablate import study_names
from spectramind.cli.app import app

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]
SHELL_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
ROOT_COMMAND = typer.main.get_command(app)


def _shell_commands(page: Path) -> list[str]:
    """Every `spectramind ...` invocation in the page's bash blocks (also after `&&`)."""
    commands = []
    for block in SHELL_BLOCK.findall(page.read_text()):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = part.strip()
                if words.startswith(("spectramind ", ".venv/bin/spectramind ")):
                    commands.append(words.split(" ", 1)[1].split(" #")[0])
    return commands


COMMANDS = [(page.name, command) for page in PAGES for command in _shell_commands(page)]


def _leaf(words: list[str]):
    """Walk the command tree; return (click command, remaining words, command path)."""
    command, path = ROOT_COMMAND, []
    while words and getattr(command, "commands", None) and words[0] in command.commands:
        path.append(words[0])
        command, words = command.commands[words[0]], words[1:]
    return command, words, path


def test_docs_show_commands_at_all():
    assert len(COMMANDS) > 30
    assert {page for page, _ in COMMANDS} >= {"quickstart.md", "cli.md", "studies.md", "launchers.md", "kaggle.md"}


@pytest.mark.parametrize("page, command", COMMANDS, ids=[f"{p}: {c[:60]}" for p, c in COMMANDS])
def test_documented_command_uses_existing_commands_options_and_studies(page, command):
    words = shlex.split(command)
    leaf, rest, path = _leaf(words)
    if getattr(leaf, "commands", None):  # a group: only `--help` makes sense there
        assert rest == ["--help"], f"{page}: `spectramind {command}` names no command"
        return
    known = {
        name
        for parameter in leaf.params
        for name in getattr(parameter, "opts", [])
        if parameter.param_type_name == "option"
    } | {"--help"}
    for word in rest:
        if word.startswith("--") or re.fullmatch(r"-[a-z]", word):
            assert word.split("=")[0] in known, f"{page}: {word} is not an option of `spectramind {' '.join(path)}`"
    if path == ["ablate", "run"] and rest and not rest[0].startswith("-") and "=" not in rest[0]:
        if not rest[0].startswith("["):  # a synopsis placeholder such as [STUDY]
            assert rest[0] in study_names(), f"{page}: study {rest[0]!r} does not exist"


def test_cli_page_covers_every_command():
    text = (REPO / "docs" / "cli.md").read_text()

    def leaves(command, path=()):
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                yield from leaves(sub, (*path, name))
        else:
            yield " ".join(path)

    for path in leaves(ROOT_COMMAND):
        assert f"spectramind {path}" in text, f"docs/cli.md does not document `spectramind {path}`"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name} links to missing {target}"


def test_every_guide_is_reachable_from_the_index():
    index = (REPO / "docs" / "index.md").read_text()
    for page in (REPO / "docs").glob("*.md"):
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"
    assert "(notebooks/quickstart.ipynb)" in index
