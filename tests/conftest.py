"""Shared fixtures: every test runs in its own folder with its own database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

TESTS = Path(__file__).parent
ROOT = TESTS.parent
SEEDS = ROOT / "seeds"
sys.path.insert(0, str(TESTS))  # test helpers such as scripted_server import by name

# CI must pass or fail on the code, not on the examples a run happens to draw: property tests draw
# the same examples every run. HYPOTHESIS_PROFILE=explore draws new ones, to look for failures.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test in its own folder, with none of the developer's settings.

    The data directory is tmp_path, so no test touches a real labels.db; every `ANNOTATOR_*` and
    `OPENAI_*` variable is cleared; the config folder (`$XDG_CONFIG_HOME`, which wins over `~`) is
    an empty one in tmp_path, so no config.toml or keys.toml of the developer's applies.
    """
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("ANNOTATOR_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def store(tmp_path: Path):
    """A fresh, migrated store in tmp_path."""
    from annotator.store import open_db

    with open_db(tmp_path / "labels.db") as opened:
        yield opened


@pytest.fixture
def seeds() -> Path:
    """The folder of seed articles."""
    return SEEDS


@pytest.fixture
def seeded(tmp_path: Path, seeds: Path) -> tuple[Path, list[str]]:
    """A store with both seed articles and their rules proposals: its path and the documents' ids."""
    from annotator.ingest import read_paths
    from annotator.propose import RulesProposer, run_proposals
    from annotator.store import open_db

    path = tmp_path / "labels.db"
    documents = read_paths([seeds]).documents
    with open_db(path) as opened:
        opened.add_documents(documents)
        run_proposals(opened, documents, RulesProposer())
    return path, [d.id for d in documents]
