"""What users install: the wheel carries every file the package reads, and prompts come from inside it.

`.ci/run` goes further (installs the wheel into a fresh environment and smoke-tests it from outside
the checkout); this test is the fast half that runs with the suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from annotator.errors import AnnotatorError
from annotator.propose.prompts import load_prompts, packaged_prompts, prompted_kinds, prompts_dir
from annotator.schemas import ANNOTATION_KINDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "annotator"


def data_files() -> set[str]:
    """Every file in the package that is not Python source: what the wheel must carry as package data."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".py", ".pyc"}
    }


def test_the_wheel_ships_the_stylesheet_the_prompts_and_every_data_file(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "annotator", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("annotator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "annotator/tui/app.tcss" in names
    assert {f"annotator/prompts/{kind}.md" for kind in ANNOTATION_KINDS} <= names
    assert data_files() <= names, sorted(data_files() - names)


def test_prompts_come_from_the_package_unless_a_folder_is_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ANNOTATOR_PROMPTS", raising=False)
    assert prompts_dir() == packaged_prompts()
    assert prompted_kinds() == list(ANNOTATION_KINDS)
    packaged = load_prompts()
    assert packaged["quote"].text == (PACKAGE / "prompts" / "quote.md").read_text(encoding="utf-8")

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "quote.md").write_text("My own quote prompt.", encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_PROMPTS", str(mine))  # the environment wins over the package
    assert prompted_kinds() == ["quote"]
    assert load_prompts(["quote"])["quote"].text == "My own quote prompt."
    other = tmp_path / "other"  # and an explicit folder (--prompts) wins over both
    other.mkdir()
    (other / "quote.md").write_text("Given with --prompts.", encoding="utf-8")
    assert load_prompts(["quote"], other)["quote"].text == "Given with --prompts."
    with pytest.raises(AnnotatorError, match="cannot read the figure prompt"):
        load_prompts(["figure"])
