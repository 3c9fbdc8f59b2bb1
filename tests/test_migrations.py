"""A store made by the release before documents and items were keyed by number opens, migrates and keeps every label."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from annotator.cli import app
from annotator.store import open_db

FIXTURE = Path(__file__).parent / "fixtures" / "store_v5"


def _export(db: Path, status: str) -> str:
    result = CliRunner().invoke(app, ["export", "--db", str(db), "--status", status], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_store_of_the_previous_release_migrates_without_changing_a_byte_of_its_exports(tmp_path: Path) -> None:
    db = tmp_path / "labels.db"
    shutil.copy(FIXTURE / "labels.db", db)
    assert sqlite3.connect(db).execute("SELECT count(*) FROM proposals").fetchone()[0] == 54  # the old schema
    for status in ("all", "gold"):
        assert _export(db, status) == (FIXTURE / f"{status}.jsonl").read_text(encoding="utf-8")
    with open_db(db) as store:
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"items", "origins", "annotators", "sessions"} <= tables and not {"proposals", "item_state"} & tables
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == 16384  # compacted after the rebuild
        assert store.item_state() == store.derived_item_state()
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # The document that replaced an earlier text still names it.
        revised = [d for d in store.documents() if d.title == "revised"]
        assert revised and revised[0].previous_id == store.document_ids()[0]
        assert len(store.failures()) == 1
        # Undo and redo go on from the migrated log, per reviewer.
        undone = store.undo("bob")
        assert undone is not None and undone["action"] == "reject"
        assert store.redo("bob") is not None
        assert store.undo("alice")["item_id"] == "m_fixture_added_1"
        assert store.annotation("m_fixture_added_1") is None
        assert store.redo("alice")["item_id"] == "m_fixture_added_1"
        assert store.annotation("m_fixture_added_1").status == "added"
    assert _export(db, "all") == (FIXTURE / "all.jsonl").read_text(encoding="utf-8")
