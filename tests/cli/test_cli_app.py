"""The CLI as a whole: every command and option documented, errors as one line, exit codes."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main

from trendcast.cli import _load_commands, main
from trendcast.cli.app import app


def _commands() -> dict[str, Any]:
    _load_commands()
    group = typer.main.get_command(app)  # Typer bundles its own click: duck-type it
    return dict(group.commands)


def _leaves(name: str, cmd: Any) -> list[tuple[str, Any]]:
    if hasattr(cmd, "commands"):
        return [leaf for sub, c in cmd.commands.items() for leaf in _leaves(f"{name} {sub}", c)]
    return [(name, cmd)]


def test_every_command_and_option_has_help() -> None:
    leaves = [leaf for name, cmd in _commands().items() for leaf in _leaves(name, cmd)]
    assert {"demo"} <= {n for n, _ in leaves}
    for name, cmd in leaves:
        assert (cmd.help or "").strip(), f"command '{name}' has no help text"
        for param in cmd.params:
            if getattr(param, "param_type_name", "") == "option" and param.name != "help":
                assert (param.help or "").strip(), f"option {param.opts} of '{name}' has no help text"


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["no-such-command"]) != 0
