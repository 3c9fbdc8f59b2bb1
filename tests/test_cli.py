"""The command line as a user meets it, and the layering rules of the code."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import annotator
from annotator.cli import app
from conftest import SEEDS

runner = CliRunner()


def _commands() -> dict:
    return dict(typer.main.get_command(app).commands)


def test_every_command_has_help_text() -> None:
    commands = _commands()
    assert {"ingest", "stats", "export", "import"} <= set(commands)
    for name, command in commands.items():
        assert command.help and len(command.help.strip()) > 20, name
        result = runner.invoke(app, [name, "--help"], catch_exceptions=False)
        assert result.exit_code == 0 and "Example: annotator" in result.stdout, name
        for param in command.params:
            if isinstance(param, typer.core.TyperOption) and param.name != "help":
                assert param.help, f"{name} {param.name}"


def test_version() -> None:
    result = runner.invoke(app, ["--version"], catch_exceptions=False)
    assert result.stdout.strip() == f"annotator {annotator.__version__}"


def test_stats_on_the_seeds(seeds: Path) -> None:
    runner.invoke(app, ["ingest", str(seeds)], catch_exceptions=False)
    result = runner.invoke(app, ["stats"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "documents 2" in result.stdout and "reviewed 0.0%" in result.stdout


def test_db_option_and_environment(tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(app, ["ingest", str(seeds), "--db", "a.db"], catch_exceptions=False)
    assert (tmp_path / "a.db").exists() and not (tmp_path / "labels.db").exists()
    monkeypatch.setenv("ANNOTATOR_DB", str(tmp_path / "b.db"))
    runner.invoke(app, ["ingest", str(seeds)], catch_exceptions=False)
    assert (tmp_path / "b.db").exists() and not (tmp_path / "labels.db").exists()


def test_bad_database_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "labels.db").write_text("plain text, not sqlite" * 50)
    result = runner.invoke(app, ["stats"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: labels.db: not an annotator database")
    assert len(result.stderr.strip().splitlines()) == 1
    result = runner.invoke(app, ["ingest", str(SEEDS), "--db", "no/such/folder/x.db"], catch_exceptions=False)
    assert result.exit_code == 1 and "folder no/such/folder does not exist" in result.stderr


def _core_modules() -> list[str]:
    names = []
    for module in pkgutil.walk_packages(annotator.__path__, "annotator."):
        if not module.name.startswith(("annotator.tui", "annotator.cli")):
            names.append(module.name)
    return names


def test_the_core_never_imports_textual() -> None:
    modules = _core_modules()
    assert "annotator.store" in modules and "annotator.export" in modules
    code = "import sys\n" + "".join(f"import {name}\n" for name in modules) + (
        "assert 'textual' not in sys.modules, [m for m in sys.modules if m.startswith('textual')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_cli_loads_without_textual() -> None:
    code = "import sys, annotator.cli\nassert 'textual' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_sql_outside_the_store_and_no_print_outside_the_cli() -> None:
    package = Path(annotator.__file__).parent
    for path in package.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(package).as_posix()
        if not relative.startswith("store/"):
            assert not re.search(r"\.execute\(|\bSELECT\b", source), relative
        if relative != "cli.py":
            assert not re.search(r"(?<![\w.])print\(", source), relative


def test_review_ingests_then_opens_with_the_engine_for_new_documents(seeds: Path, monkeypatch) -> None:
    from annotator.tui.app import ReviewApp

    opened: list[tuple[list[str], list[str], str | None]] = []
    monkeypatch.setattr(
        ReviewApp, "run",
        lambda self: opened.append((self.queue.document_ids, self.pending, self.engine and self.engine.name)),
    )
    result = runner.invoke(app, ["review", str(seeds)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [(ids, pending, engine)] = opened
    assert len(ids) == 2 and pending == ids and engine == "rules"  # no key, no server: rules, offline
    runner.invoke(app, ["propose", str(seeds)], catch_exceptions=False)
    result = runner.invoke(app, ["review"], catch_exceptions=False)  # no paths: every document in the store
    assert result.exit_code == 0, result.output
    assert opened[1][0] == ids and opened[1][1] == [] and opened[1][2] is None


def test_review_of_an_empty_store_is_one_line_error() -> None:
    result = runner.invoke(app, ["review"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "no documents" in result.output


def test_review_reads_key_bindings_from_a_toml_file(seeds: Path, tmp_path: Path, monkeypatch) -> None:
    from annotator.tui.app import ReviewApp

    keymaps: list[dict] = []
    monkeypatch.setattr(ReviewApp, "set_keymap", lambda self, keymap: keymaps.append(dict(keymap)))
    monkeypatch.setattr(ReviewApp, "run", lambda self: None)
    keys = tmp_path / "keys.toml"
    keys.write_text('[keys]\naccept = "y,space"\nreject = "delete"\n', encoding="utf-8")
    result = runner.invoke(app, ["review", str(seeds), "--keys", str(keys)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert keymaps == [{"accept": "y,space", "reject": "delete"}]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('[keys]\naccept = "y"\nexplode = "z"\n', "unknown binding 'explode'"),
        ("[keys\naccept = 'y'\n", "cannot read key bindings"),
        ('[keys]\naccept = ""\n', "must be a non-empty string"),
    ],
)
def test_a_bad_key_bindings_file_is_one_line_error(seeds: Path, tmp_path: Path, content: str, problem: str) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["review", str(seeds), "--keys", str(keys)])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and str(keys) in line and problem in line


def test_every_binding_of_every_screen_can_be_rebound() -> None:
    from annotator.tui.keymap import ALL_BINDINGS, load_keymap
    from annotator.tui.screens.documents import DocumentsModal
    from annotator.tui.screens.edit import EditModal
    from annotator.tui.screens.help import HelpModal
    from annotator.tui.screens.review import ReviewScreen
    from annotator.tui.screens.span import SpanModal

    ids = {binding.id for binding in ALL_BINDINGS}
    for screen in (ReviewScreen, SpanModal, EditModal, DocumentsModal, HelpModal):
        assert {binding.id for binding in screen.BINDINGS} <= ids, screen.__name__
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert all(f"`{binding_id}`" in readme for binding_id in ids)  # the README lists every id
    keys = Path("keys.toml")
    keys.write_text("[keys]\n" + "".join(f'{binding_id} = "f9"\n' for binding_id in sorted(ids)), encoding="utf-8")
    assert set(load_keymap(keys)) == ids
