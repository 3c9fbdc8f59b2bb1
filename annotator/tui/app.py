"""The review app: built by `create_app()`, which the CLI and the tests both use."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from annotator.propose import DocumentResult, Engine, RunProgress, propose_documents
from annotator.review import ReviewQueue
from annotator.store import Store, open_db
from annotator.tui.commands import ScreenActions
from annotator.tui.keymap import APP_BINDINGS
from annotator.tui.messages import EngineStatusChanged, ProposalsArrived
from annotator.tui.screens.review import ReviewScreen

YOUNG_OBJECTS = 20_000
"""New objects between two collections of the youngest generation while reviewing (Python's default: 700)."""


class ReviewApp(App[None], inherit_bindings=False):
    """Review proposals document by document; an engine proposes in the background meanwhile."""

    CSS_PATH = "app.tcss"
    TITLE = "annotator"
    # The app's own keys and commands, not Textual's defaults (ctrl+q; the palette's theme, screenshot…).
    BINDINGS = [Binding("ctrl+c", "help_quit", show=False, system=True), *APP_BINDINGS]  # ctrl+c: "press q to quit"
    COMMANDS = {ScreenActions}

    def __init__(
        self,
        store: Store,
        document_ids: Sequence[str] | None,
        annotator: str,
        *,
        engine: Engine | None = None,
        pending: Sequence[str] = (),
        keymap: dict[str, str] | None = None,
        start_index: int = 0,
    ) -> None:
        super().__init__()
        self.store = store
        self.queue = ReviewQueue(store, document_ids, annotator)
        self.engine = engine
        self.pending = list(pending)
        self.start_index = start_index
        self._gc_threshold: tuple[int, ...] | None = None
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        self.queue.open(self.start_index)
        if self.queue.current is not None and self.queue.current.status != "proposed":
            self.queue.next_unreviewed()  # resume where the review stopped
        proposing = self.engine is not None and bool(self.pending)
        starting = f"{self.engine.name}: starting on {len(self.pending)} documents…" if proposing else ""  # type: ignore[union-attr]
        self.review_screen = ReviewScreen(self.queue, starting)
        self.push_screen(self.review_screen)
        self.call_after_refresh(self.freeze_loaded)
        if proposing:
            self.propose_in_background()

    def freeze_loaded(self) -> None:
        """Keep the collector's pauses out of the review's frames, once the first screen is drawn.

        A full collection walks every live object: with a 10,000-document store open one took ~57 ms, and one
        falling inside a key's frame missed its 16 ms. What the app loaded to start is frozen after a first
        collection (`gc.freeze`: never walked again), and the youngest generation is collected after 20,000
        new objects rather than 700: Textual makes thousands of short-lived objects a frame, which set off ~15
        young collections a key and, every few keys, a full one. Measured on the bench's 10,000-document store:
        full collections went from 17 (57 ms each) to 2 (22 ms) over its run. `on_unmount` puts both back.
        """
        if not self.is_running:  # closed before its first frame (a test): nothing to put back later
            return
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(YOUNG_OBJECTS, *self._gc_threshold[1:])

    def on_unmount(self) -> None:
        """Hand the frozen objects back to the collector, with its usual threshold (tests run many apps in one process)."""
        if self._gc_threshold is not None:
            gc.unfreeze()
            gc.set_threshold(*self._gc_threshold)
            self._gc_threshold = None

    def tell_review(self, message: ProposalsArrived | EngineStatusChanged) -> None:
        """Post a worker's news to the App (thread-safe); its handlers hand it to the review screen."""
        self.post_message(message)

    def on_proposals_arrived(self, event: ProposalsArrived) -> None:
        """Proposals stored in the background reach the review screen, even while a form or list is open above it."""
        self.review_screen.proposals_arrived(event)

    def on_engine_status_changed(self, event: EngineStatusChanged) -> None:
        """The engine's news reaches the review screen, whatever screen is on top."""
        self.review_screen.show_engine_status(event.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def propose_in_background(self) -> None:
        """Run the engine over documents without proposals, with its own connection to the store."""
        engine, path = self.engine, self.store.path
        assert engine is not None
        documents_by_id = {}
        with open_db(path) as store:
            for document_id in self.pending:
                document = store.document(document_id)
                if document is not None:
                    documents_by_id[document_id] = document
            documents = [documents_by_id[i] for i in self.pending if i in documents_by_id]
            self.tell_review(EngineStatusChanged(f"{engine.name}: proposing for {len(documents)} documents"))
            last_failure = ""

            def arrived(document_id: str, result: DocumentResult) -> None:
                nonlocal last_failure
                if result.failures:
                    last_failure = result.failures[-1].reason
                self.tell_review(ProposalsArrived(document_id, len(result.proposals), len(result.failures)))

            def status(counts: RunProgress, state: str) -> str:
                failures = f", {counts.failures} failures" if counts.failures else ""
                last = f"\nlast failure: {last_failure[:120]}" if last_failure else ""
                return f"{engine.name}: {state} {counts.done}/{counts.total} documents{failures}{last}"

            def progress(counts: RunProgress) -> None:
                self.tell_review(EngineStatusChanged(status(counts, "proposed")))

            try:
                summary = asyncio.run(propose_documents(store, documents, engine, progress, arrived))
            except Exception as error:  # noqa: BLE001 - shown to the reviewer, the review goes on
                self.tell_review(EngineStatusChanged(f"{engine.name} stopped: {error}"[:200]))
                return
        self.tell_review(EngineStatusChanged(status(summary.progress, "done,")))


def create_app(
    db: str | Path,
    document_ids: Sequence[str] | None,
    annotator: str,
    *,
    engine: Engine | None = None,
    pending: Sequence[str] = (),
    keymap: dict[str, str] | None = None,
) -> ReviewApp:
    """The review app over the store at `db` for these documents, in this order (None: all, in the order added)."""
    store = open_db(db)
    return ReviewApp(store, document_ids, annotator, engine=engine, pending=pending, keymap=keymap)


class AdjudicationApp(App[None], inherit_bindings=False):
    """Settle what the reviewers of a store with several reviewers per document disagree on."""

    CSS_PATH = "app.tcss"
    TITLE = "annotator adjudicate"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+c", "help_quit", show=False, system=True)]

    def __init__(self, store: Store, adjudicator: str, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.store = store
        self.adjudicator = adjudicator
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        from annotator.teams import Adjudication
        from annotator.tui.screens.adjudicate import AdjudicationScreen

        self.push_screen(AdjudicationScreen(Adjudication(self.store, self.adjudicator)))


def create_adjudication_app(db: str | Path, adjudicator: str, keymap: dict[str, str] | None = None) -> AdjudicationApp:
    """The adjudication app over the store at `db`, deciding as `adjudicator`."""
    return AdjudicationApp(open_db(db), adjudicator, keymap)
