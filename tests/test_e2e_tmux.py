"""End to end in a real terminal: review in tmux, kill -9 the app, restart it, and find every decision kept.

Runs the installed `annotator review` in a detached tmux session, types keys with send-keys, reads
the screen with capture-pane. Skipped when tmux is not installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotator.store import open_db

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
ANNOTATOR = str(Path(sys.executable).with_name("annotator"))


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def screen_text(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def decisions(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with open_db(db) as store:
        return [(row[0], row[1]) for row in store.conn.execute("SELECT i.id, d.action FROM decisions d JOIN items i ON i.n = d.item ORDER BY d.id")]


def start(session: str, folder: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI")}
    command = f"cd {folder} && exec {ANNOTATOR} review seeds/ --annotator e2e"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", command], check=True, env=env)
    wait_for(lambda: "Accept" in screen_text(session), what="the review screen")
    return int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())


def test_kill_9_loses_no_decision(tmp_path: Path, seeds: Path) -> None:
    shutil.copytree(seeds, tmp_path / "seeds")
    db = tmp_path / "labels.db"
    session = f"annotator-e2e-{os.getpid()}"
    try:
        pid = start(session, tmp_path)
        # Keys go to items, so both documents' proposals must be there (the engine works in the background).
        wait_for(lambda: "done, 2/2 documents" in screen_text(session), what="the engine to finish")
        for key in ["a", "a", "x", "a", "J", "a", "x"]:
            tmux("send-keys", "-t", session, key)
            time.sleep(0.15)
        made = wait_for(lambda: (rows := decisions(db)) and len(rows) == 6 and rows, what="six decisions in the store")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: session not in subprocess.run(["tmux", "ls"], capture_output=True, text=True).stdout,
                 what="the session to end")
        assert decisions(db) == made
        assert [action for _, action in made] == ["accept", "accept", "reject", "accept", "accept", "reject"]

        start(session, tmp_path)
        # The review resumes on the first item nobody has decided (the first document's fifth), and
        # the decisions made before the kill are shown as made.
        wait_for(lambda: all(s in screen_text(session) for s in ("proposed", "document 1/2", "item 5/", "reviewed 4/")),
                 what="the review to resume at the first undecided item")
        tmux("send-keys", "-t", session, "k")
        wait_for(lambda: "accepted" in screen_text(session) and "item 4/" in screen_text(session),
                 what="the fourth item shown as accepted")
        tmux("send-keys", "-t", session, "k")
        wait_for(lambda: "rejected" in screen_text(session) and "item 3/" in screen_text(session),
                 what="the third item shown as rejected")
        tmux("send-keys", "-t", session, "J")
        wait_for(lambda: "document 2/2" in screen_text(session) and "reviewed 2/" in screen_text(session),
                 what="the second document's two decisions")
        with open_db(db) as store:
            states = {item.id: item.status for item in store.annotations()}
        for item_id, action in made:
            assert states[item_id] == {"accept": "accepted", "reject": "rejected"}[action]
        tmux("send-keys", "-t", session, "q")
        wait_for(lambda: session not in subprocess.run(["tmux", "ls"], capture_output=True, text=True).stdout,
                 what="quit")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
