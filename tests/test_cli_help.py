"""Every command's help shows what its options say in brackets ([default: ...], [env ...]):
rich markup used to read them as tags and print "Database URL or SQLite file ."."""

from __future__ import annotations

import re

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from truceline.cli import app

runner = CliRunner()


# typer 0.29 vendors click: its commands are typer's own classes, not click's.
Command = typer.core.TyperCommand | TyperGroup


def _commands(group: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Command]]:
    found: list[tuple[tuple[str, ...], Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, TyperGroup):
            found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))  # type: ignore[arg-type]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"check", "import", "serve", "party add", "log prove", "log export"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_shows_every_bracketed_note(path: tuple[str, ...], command: Command) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    for param in command.params:
        help_text = getattr(param, "help", None) or ""
        for note in re.findall(r"\[[^\]]*\]", help_text):
            assert _flat(note) in shown, f"{' '.join(path)} {param.name}: {note!r} is not in its help"


def test_the_database_default_is_shown() -> None:
    result = runner.invoke(app, ["import", "--help"], terminal_width=200)
    assert "[default: $TRUCELINE_DB or truceline-data/truceline.db]" in _flat(result.output)
    assert "file ." not in result.output
