"""Smoke-test an installed annotator (a wheel, not the checkout) the way a user runs it.

    .ci/smoke_wheel.py TESTS_DIR        (run with the fresh environment's python, from outside the checkout)

1. The package data is there: `tui/app.tcss` and a prompt per kind, found through importlib.resources.
2. `annotator ingest` and `annotator propose --engine llm` (the installed console script) against the
   scripted loopback server from TESTS_DIR: the prompts the server receives are the packaged ones.
3. `annotator review` draws its first document headless (the stylesheet loads, the article is drawn).

Prints one line per check and a closing `smoke: N passed, N failed`; exits 1 if any check failed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

TESTS = Path(sys.argv[1]).resolve()
CHECKOUT = TESTS.parent
ARTICLE = (
    "Idlib offensive.\n\n"
    "“Khan Shaikhoun has become completely surrounded,” Suleiman Abdulqader told Al Jazeera.\n\n"
    "According to the United Nations, some 400,000 people have been forced to leave their homes.\n"
)
QUOTE = {"text": "Khan Shaikhoun has become completely surrounded", "speaker": "Suleiman Abdulqader",
         "cue": "told", "quote_type": "direct"}


def installed_package() -> str:
    """The package is the installed one, not the checkout."""
    import annotator

    where = Path(annotator.__file__).resolve()
    assert CHECKOUT not in where.parents, f"imported from the checkout: {where}"
    assert "site-packages" in where.parts, where
    return f"annotator {annotator.__version__} from {where.parent}"


def package_data() -> str:
    """The stylesheet and the prompts are inside the installed package."""
    from importlib import resources

    from annotator.propose.prompts import load_prompts
    from annotator.schemas import ANNOTATION_KINDS

    files = resources.files("annotator")
    assert (files / "tui" / "app.tcss").is_file(), "tui/app.tcss is missing"
    prompts = load_prompts()
    assert sorted(prompts) == sorted(ANNOTATION_KINDS), sorted(prompts)
    return f"app.tcss and prompts {', '.join(prompt.id for prompt in prompts.values())}"


def propose_with_llm(work: Path) -> str:
    """`annotator propose --engine llm` against the scripted server finds and sends the packaged prompts."""
    sys.path.insert(0, str(TESTS))
    from scripted_server import ScriptedServer, reply_for, request_text

    from annotator.propose.prompts import load_prompts

    def answer(request: dict):
        system = request_text(request, role="system")
        return reply_for(request, {"items": [QUOTE] if "QUOTATION" in system else []})

    (work / "article.txt").write_text(ARTICLE, encoding="utf-8")
    # None of this machine's settings may steer the smoke test: no ANNOTATOR_* or OPENAI_* variable,
    # and a config folder of its own (no config.toml or keys.toml of a developer's).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANNOTATOR_", "OPENAI_"))}
    env["XDG_CONFIG_HOME"] = str(work / "config")
    script = Path(sys.executable).with_name("annotator")
    with ScriptedServer(answer) as server:
        done = subprocess.run(
            [str(script), "propose", "article.txt", "--engine", "llm", "--base-url", server.base_url,
             "--db", "smoke.db"],
            cwd=work, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-1500:]}"
        systems = {request_text(request.body, role="system") for request in server.requests
                   if request.path.endswith("/chat/completions")}
    expected = {prompt.text for prompt in load_prompts().values()}
    assert systems == expected, "the server did not receive the packaged prompts"
    assert "proposed 1 items for 1 documents" in done.stdout, done.stdout
    return done.stdout.strip()


def review_draws_the_first_document(work: Path) -> str:
    """`annotator review` starts (its stylesheet loads) and draws the first document, headless."""
    from annotator.cli import app
    from annotator.tui.app import ReviewApp
    from annotator.tui.widgets.article import ArticleView

    drawn: list[str] = []

    async def first_document(pilot) -> None:
        await pilot.pause()
        view = pilot.app.screen.query_one(ArticleView)
        drawn.extend("".join(segment.text for segment in view.render_line(y)) for y in range(view.size.height))
        pilot.app.exit()

    run = ReviewApp.run
    ReviewApp.run = lambda self: run(self, headless=True, size=(120, 36), auto_pilot=first_document)
    try:
        os.chdir(work)
        app(["review", "--db", "smoke.db", "--annotator", "smoke"], standalone_mode=False)
    finally:
        ReviewApp.run = run
    text = " ".join(" ".join(drawn).split())
    assert "Khan Shaikhoun has become completely surrounded" in text, f"not drawn; the screen shows: {text[:300]!r}"
    return f"{len([line for line in drawn if line.strip()])} lines of the article drawn"


def main() -> int:
    """Run every check; the closing line counts them."""
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="annotator-smoke-") as folder:
        work = Path(folder)
        checks = [installed_package, package_data, lambda: propose_with_llm(work),
                  lambda: review_draws_the_first_document(work)]
        names = ["installed package", "package data", "propose --engine llm", "review draws"]
        for name, check in zip(names, checks):
            try:
                detail = check()
            except Exception:  # noqa: BLE001 - report every check, then fail the run
                failed += 1
                print(f"smoke FAILED {name}:\n{traceback.format_exc()}", flush=True)
            else:
                passed += 1
                print(f"smoke ok {name}: {detail}", flush=True)
    print(f"smoke: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
