"""The `annotator` command line: a thin layer over the core.

Every command opens the store through `open_db()`; bad input ends in one line on stderr that
names the file and the problem, and a non-zero exit.
"""

from __future__ import annotations

import getpass
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from annotator import __version__
from annotator.errors import AnnotatorError
from annotator.canonical import STATUSES
from annotator.store import DEFAULT_DB, Store, open_db

if TYPE_CHECKING:
    from annotator.config import Settings

app = typer.Typer(
    name="annotator",
    help="Turn news articles into reviewed, trustworthy training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True, highlight=False, soft_wrap=True)

# Each option below is also a setting (annotator/config.py): a flag typed on the command line wins,
# else the environment, else the config file, else the default shown here, which is the setting's.
DbOption = Annotated[Path, typer.Option("--db", help="The SQLite gold store.", show_default=True)]
EngineOption = Annotated[
    str, typer.Option("--engine", help="auto (llm if a key or base URL is set, else rules), rules, llm or local.")
]
ModelOption = Annotated[Optional[str], typer.Option("--model", help="Model name.")]
BaseUrlOption = Annotated[
    Optional[str],
    typer.Option("--base-url", help="An OpenAI-compatible server (Ollama, vLLM, llama.cpp)."),
]
GgufOption = Annotated[Optional[str], typer.Option("--gguf", help="GGUF model file for --engine local.")]
PromptsOption = Annotated[
    Optional[Path],
    typer.Option(
        "--prompts",
        help="Folder of <kind>.md prompt files (default: $ANNOTATOR_PROMPTS, else the prompts shipped in the package).",
    ),
]
TimeoutOption = Annotated[
    Optional[float],
    typer.Option(
        "--timeout",
        help="Seconds one request to a model server may take, start to last byte (default 120); "
        "a document gets twice that in all, retries included.",
    ),
]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight at once.")]
MaxSizeOption = Annotated[str, typer.Option("--max-size", help="Skip files larger than this.")]
KindOption = Annotated[
    Optional[list[str]],
    typer.Option("--kind", help="Only this kind (quote, figure, stance, …); repeat for several."),
]


PROPOSE_FAILED = 3
"""`propose`'s exit code when some documents got no answer from the engine."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line on stderr and return the exit to raise."""
    errors.print(f"error: {message}", markup=False)
    return typer.Exit(code)


SETTING_OF_FLAG = {"annotator": "name"}
"""A flag whose setting has another name (the others are named alike)."""


def settings_of(ctx: typer.Context, **flags: Any) -> Settings:
    """The command's settings: the flags typed on its command line over the environment over the config file.

    `flags` are the command's parameters by name. Only those typed are passed on, so an option's
    shown default never hides a value from the environment or the config file.
    """
    from annotator.config import load_settings

    typed = {
        SETTING_OF_FLAG.get(name, name): value for name, value in flags.items()
        if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    }
    try:
        return load_settings(**typed)
    except AnnotatorError as error:
        raise fail(str(error)) from None


def require_db(db: Path) -> None:
    """AnnotatorError unless `db` exists: a command that only reads never creates a database."""
    if not db.is_file():
        raise AnnotatorError(f"{db}: no such database (commands that only read never create one)")


@contextmanager
def store_at(db: Path, must_exist: bool = False) -> Iterator[Store]:
    """Open the store for one command, turning bad input into a one-line error.

    A command that only reads (`must_exist`) never creates a database: a mistyped `--db` fails.
    """
    try:
        if must_exist:
            require_db(db)
        store = open_db(db)
    except AnnotatorError as error:
        raise fail(str(error)) from None
    try:
        yield store
    except AnnotatorError as error:
        raise fail(str(error)) from None
    finally:
        store.close()


def _check_kinds(kinds: list[str] | None) -> list[str] | None:
    from annotator.schemas import ANNOTATION_KINDS

    for kind in kinds or []:
        if kind not in ANNOTATION_KINDS:
            raise fail(f"unknown kind {kind!r} (known: {', '.join(ANNOTATION_KINDS)})")
    return kinds or None


def _version(value: bool) -> None:
    if value:
        console.print(f"annotator {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Turn news articles into reviewed, trustworthy training data."""


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt .md .html .jsonl), read recursively.")],
    db: DbOption = Path(DEFAULT_DB),
    max_size: MaxSizeOption = "5MB",
) -> None:
    """Store articles as documents; re-ingesting the same text is a no-op.

    Example: annotator ingest seeds/
    """
    from annotator.ingest import iter_documents, store_documents

    settings = settings_of(ctx, db=db, max_size=max_size)
    skipped: list[str] = []

    def report(message: str) -> None:
        skipped.append(message)
        # Messages name files as they are (escaped only where unprintable): no `:name:` emoji either.
        errors.print(f"error: {message}", markup=False, emoji=False)

    with store_at(settings.db) as store:
        stored = store_documents(store, iter_documents(paths, settings.size_limit(), report))
    console.print(f"ingested {stored.new}, duplicates {stored.duplicates}, skipped {len(skipped)}")
    if skipped:
        raise typer.Exit(1)


@app.command()
def propose(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to propose for; they are ingested first.")],
    engine: EngineOption = "auto",
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    kind: KindOption = None,
    concurrency: ConcurrencyOption = 8,
    timeout: TimeoutOption = None,
    gguf: GgufOption = None,
    prompts: PromptsOption = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Also write the proposals as contract JSONL (status proposed).")
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
    max_size: MaxSizeOption = "5MB",
) -> None:
    """Propose annotations for documents with an engine; the run is recorded with its provenance.

    Exit codes: 0 every document was answered; 1 bad input or options; 3 some documents failed (a
    request brought no usable answer: their proposals are missing; a request that got no answer at
    all is asked again on the next run); 130 interrupted (finished documents are kept).

    Example: annotator propose seeds/ --base-url http://localhost:11434/v1 --model qwen2.5:7b
    """
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from annotator.export import proposals_jsonl
    from annotator.ingest import read_paths, store_documents
    from annotator.propose import choose_engine, propose_documents

    kinds = _check_kinds(kind)
    settings = settings_of(ctx, engine=engine, model=model, base_url=base_url, concurrency=concurrency, timeout=timeout,
                           prompts=prompts, db=db, max_size=max_size)
    api_key = settings.secret_key()
    try:
        report = read_paths(paths, settings.size_limit())
        for message in report.errors:
            errors.print(f"error: {message}", markup=False)
        if not report.documents:
            raise fail("no documents to propose for")
        choice = choose_engine(
            settings.engine, model=settings.model, base_url=settings.base_url, api_key=api_key, kinds=kinds,
            concurrency=settings.concurrency, gguf=gguf, prompts=settings.prompts, timeout=settings.timeout,
        )
    except AnnotatorError as error:
        raise fail(_redacted(str(error), api_key)) from None
    errors.print(choice.reason, markup=False)
    with store_at(settings.db) as store:
        store_documents(store, report.documents)  # the run needs them all; stored a batch at a time
        columns = [TextColumn("proposing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
                   TimeElapsedColumn()]
        with Progress(*columns, console=errors, transient=False, disable=len(report.documents) < 2) as bar:
            task = bar.add_task("propose", total=len(report.documents), detail="")

            def show(progress) -> None:
                bar.update(task, completed=progress.done, detail=(
                    f"failures {progress.failures}  tokens {progress.tokens:,}  cached {progress.cached}  "
                    f"{progress.rate:.1f} docs/s"))

            try:
                summary = asyncio.run(propose_documents(store, report.documents, choice.engine, show))
            except KeyboardInterrupt:
                raise fail("interrupted: finished documents are stored; run again to resume", 130) from None
        if out is not None:
            with out.open("w", encoding="utf-8") as stream:
                proposals_jsonl(stream, report.documents, summary.results)
    progress = summary.progress
    console.print(
        f"proposed {progress.proposals} items for {progress.done} documents "
        f"({progress.cached} from cache), failures {progress.failures}, run {summary.run_id}"
    )
    # A document failed when a request for it brought no usable answer (not one unplaceable proposal).
    failed = [[f for f in result.failures if f.claimed is None] for result in summary.results.values()]
    failed = [failures for failures in failed if failures]
    if failed:
        last = failed[-1][-1]
        again = "; run again to retry them" if any(f.retryable for failures in failed for f in failures) else ""
        raise fail(
            f"{len(failed)} of {progress.done} documents failed (last: {_redacted(last.reason, api_key)[:200]}){again}",
            PROPOSE_FAILED,
        )
    for document_id, result in summary.results.items():
        for failure in result.failures[:3]:
            errors.print(f"failed: {document_id[:19]} {failure.kind or ''}: {failure.reason}", markup=False)


def _redacted(message: str, api_key: str | None) -> str:
    from annotator.propose.llm import redact

    return redact(message, api_key)


@app.command()
def review(
    ctx: typer.Context,
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Files or folders to review; they are ingested first. None: every document in the store."),
    ] = None,
    engine: EngineOption = "auto",
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    timeout: TimeoutOption = None,
    gguf: GgufOption = None,
    annotator: Annotated[
        Optional[str], typer.Option("--annotator", help="Your name on every decision (default: OS user).")
    ] = None,
    keys: Annotated[
        Optional[Path],
        typer.Option(
            "--keys",
            help="TOML file of key bindings: a keys table of binding id = \"keys\" (see the README).",
        ),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
    max_size: MaxSizeOption = "5MB",
) -> None:
    """Review proposals in the terminal; documents without proposals get them in the background.

    Example: annotator review seeds/ (with no paths: every document in the store)
    """
    from annotator.propose import choose_engine

    settings = settings_of(ctx, engine=engine, model=model, base_url=base_url, timeout=timeout, annotator=annotator,
                           keys=keys, db=db, max_size=max_size)
    api_key = settings.secret_key()
    ids: list[str] | None = None
    if paths:
        from annotator.ingest import iter_documents, store_documents

        documents = iter_documents(paths, settings.size_limit(), lambda message: errors.print(
            f"error: {message}", markup=False))
        first = next(documents, None)  # read before the store is opened: no documents, no store
        if first is None:
            raise fail("no documents to review")
    with store_at(settings.db) as store:
        if paths:  # stored a batch at a time as the folder is read: only the ids are kept
            named: list[str] = []
            store_documents(store, itertools.chain([first], documents), lambda document, _: named.append(document.id))
            ids = list(dict.fromkeys(named))
        pending = store.documents_without_proposals(ids)
        if ids is None and not store.document_count():
            raise fail(f"{settings.db}: no documents in the store; name files or folders to review")
        who = settings.name or getpass.getuser()
        if store.overlap() > 1:
            ids = _assigned(store, who, unproposed=ids is not None and bool(pending))
            pending = []
    try:
        from annotator.tui.app import create_app
        from annotator.tui.keymap import load_keymap

        choice = choose_engine(
            settings.engine, model=settings.model, base_url=settings.base_url, api_key=api_key, gguf=gguf,
            timeout=settings.timeout,
        ) if pending else None
        keymap = load_keymap(settings.keys)
    except AnnotatorError as error:
        raise fail(_redacted(str(error), api_key)) from None
    create_app(settings.db, ids, who, engine=choice.engine if choice else None, pending=pending, keymap=keymap).run()


CLAIMED_DOCUMENTS = 20
"""How many documents a reviewer takes at a time when each document needs several reviewers."""


def _assigned(store: Store, who: str, unproposed: bool) -> list[str]:
    """The documents `who` reviews in a store with several reviewers per document: their claims (see
    `Store.claim_documents`); documents named on the command line are only ingested (`unproposed`: some of
    them have no proposals yet)."""
    allowed = [name for name in (store.setting("annotators") or "").split(",") if name]
    if allowed and who not in allowed:
        raise fail(f"{store.path}: {who!r} is not one of this store's annotators ({', '.join(allowed)}); "
                   "give --annotator NAME, or add them with annotator assign --annotators")
    if unproposed:
        errors.print("some of the named documents have no proposals yet: run annotator propose for them first",
                     markup=False)
    claimed = store.claim_documents(who, CLAIMED_DOCUMENTS)
    if not claimed:
        raise fail(f"{store.path}: nothing left for {who} to review: every document with proposals has its "
                   f"{store.overlap()} reviewers, or {who} reviewed it already")
    return claimed


@app.command()
def assign(
    ctx: typer.Context,
    overlap: Annotated[
        Optional[int], typer.Option("--overlap", min=1, help="How many reviewers each document needs (1: one, as by default).")
    ] = None,
    annotators: Annotated[
        Optional[str], typer.Option("--annotators", help="Comma-separated names of who may review ('' : anyone).")
    ] = None,
    claim_minutes: Annotated[
        Optional[float],
        typer.Option("--claim-minutes", min=1, help="How long a reviewer keeps a document without a decision on it."),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Say how many reviewers each document needs (stored in the db), and show where the reviews stand.

    With an overlap above 1, `annotator review --annotator NAME` gives NAME documents that still need a
    reviewer, each reviewer's decisions are their own, and an item is gold when every reviewer of its
    document agrees or an adjudicator decided it (`annotator adjudicate`).

    Example: annotator assign --overlap 2 --annotators alice,bob,carol
    """
    with store_at(settings_of(ctx, db=db).db, must_exist=True) as store:
        names = None if annotators is None else ",".join(n.strip() for n in annotators.split(",") if n.strip())
        store.set_settings({
            **({"overlap": str(overlap)} if overlap is not None else {}),
            **({"annotators": names or None} if names is not None else {}),
            **({"claim_minutes": str(claim_minutes)} if claim_minutes is not None else {}),
        })
        if store.overlap() > 1:
            for name in store.annotator_names():  # labels made before count towards the overlap
                store.claim_reviewed(name)
        reviewers = store.reviewer_documents()
        counts = Counter(len(names) for names in reviewers.values())
        counts[0] = store.document_count() - len(reviewers)
        console.print(
            f"overlap {store.overlap()}  annotators {store.setting('annotators') or 'anyone'}  "
            f"claims last {store.claim_minutes():g} minutes"
        )
        table = Table("reviewers", "documents", title="documents by how many reviewers decided all their proposals")
        for number in sorted(counts):
            table.add_row(str(number), str(counts[number]))
        console.print(table)


@app.command()
def adjudicate(
    ctx: typer.Context,
    annotator: Annotated[
        Optional[str], typer.Option("--annotator", help="Your name on every adjudication (default: OS user).")
    ] = None,
    keys: Annotated[Optional[Path], typer.Option("--keys", help="TOML file of key bindings (see the README).")] = None,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Settle what reviewers disagree on: the variants side by side, the majority's highlighted.

    A digit (or enter on the highlighted one) picks a variant, e edits, x rejects, m merges the items
    the reviewers agree on, u undoes. Each is an adjudicate decision in your name.

    Example: annotator adjudicate --annotator dana
    """
    settings = settings_of(ctx, annotator=annotator, keys=keys, db=db)
    with store_at(settings.db, must_exist=True) as store:
        if store.overlap() < 2:
            raise fail(f"{settings.db}: each document has one reviewer (overlap 1): nothing to adjudicate; "
                       "annotator assign --overlap 2 asks for more")
    try:
        from annotator.tui.app import create_adjudication_app
        from annotator.tui.keymap import load_keymap

        keymap = load_keymap(settings.keys)
    except AnnotatorError as error:
        raise fail(str(error)) from None
    create_adjudication_app(settings.db, settings.name or getpass.getuser(), keymap).run()


@app.command("eval")
def eval_(
    ctx: typer.Context,
    engine: EngineOption = "auto",
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    kind: KindOption = None,
    prompts: PromptsOption = None,
    concurrency: ConcurrencyOption = 8,
    timeout: TimeoutOption = None,
    gold: Annotated[
        Optional[Path],
        typer.Option("--gold", help="Score against this contract JSONL instead of the store's gold (no db needed)."),
    ] = None,
    pred: Annotated[
        Optional[Path], typer.Option("--pred", help="Score these predictions (contract JSONL) instead of running an engine.")
    ] = None,
    baseline: Annotated[
        Optional[str],
        typer.Option("--baseline", help="last (default: the last stored run of the same engine and model), none, "
                                        "a run id, or a report file from --report."),
    ] = None,
    fail_under: Annotated[
        Optional[list[str]],
        typer.Option("--fail-under", help="METRIC=VALUE: exit 1 if the metric is under VALUE (repeatable)."),
    ] = None,
    max_drop: Annotated[
        Optional[float], typer.Option("--max-drop", min=0, help="Exit 1 if any metric drops more than this from the baseline.")
    ] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Run the engine N times: the spread and the items that flip.")] = 1,
    tolerance: Annotated[
        float, typer.Option("--tolerance", min=0, help="Relative tolerance for a figure's value.")
    ] = 0.01,
    report: Annotated[
        Optional[Path], typer.Option("--report", help="Also write the whole result (metrics, every example) as JSON.")
    ] = None,
    examples: Annotated[int, typer.Option("--examples", min=0, help="How many items to list per diff section.")] = 10,
    db: Annotated[
        Optional[Path],
        typer.Option("--db", help="The SQLite gold store (default labels.db; with --gold: none)."),
    ] = None,
) -> None:
    """Score an engine (or predictions) against the gold; store the run; compare with a baseline.

    Example: annotator eval --engine rules --max-drop 0.02
    """
    from annotator import evaluate
    from annotator.propose import choose_engine

    kinds = _check_kinds(kind)
    settings = settings_of(ctx, engine=engine, model=model, base_url=base_url, prompts=prompts, concurrency=concurrency,
                           timeout=timeout, tolerance=tolerance, db=db)
    api_key = settings.secret_key()
    # With --gold no store is needed, unless one is named (flag, environment or config file).
    db = settings.db if gold is None or "db" in settings.model_fields_set else None
    store = None
    try:
        limits = evaluate.parse_fail_under(fail_under or [], kinds)
        if db is not None:
            require_db(db)
            store = open_db(db)
        scored = evaluate.load_gold(store, gold, kinds)
        if scored.under_review:
            errors.print(f"note: {scored.under_review} documents still under review are left out", markup=False)
        choice = None
        if pred is None:
            choice = choose_engine(settings.engine, model=settings.model, base_url=settings.base_url, api_key=api_key,
                                   kinds=kinds, concurrency=settings.concurrency, gguf=gguf, prompts=settings.prompts,
                                   timeout=settings.timeout)
            errors.print(choice.reason, markup=False)
        done = evaluate.run_evaluation(
            store, scored, choice.engine if choice else None, predictions=pred, baseline=baseline,
            fail_under=limits, max_drop=max_drop, repeat=repeat, kinds=kinds, tolerance=settings.value_tolerance(),
            report_path=report,
        )
    except AnnotatorError as error:
        raise fail(_redacted(str(error), api_key)) from None
    finally:
        if store is not None:
            store.close()
    _print_eval(done.report, done.comparison, examples)
    if done.report.failures:
        errors.print(f"warning: {done.report.failures} proposals or requests failed; they score as if nothing had "
                     "been proposed", markup=False)
    for line in done.failed:
        errors.print(f"fail: {line}", markup=False)
    if done.failed:
        raise typer.Exit(1)


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _print_eval(result, comparison, limit: int) -> None:
    """The metrics table, and with a baseline the items that changed."""
    where = f"run {result.id}" if result.id is not None else "not stored"
    console.print(
        f"eval ({where}): {result.engine}{' ' + result.model if result.model else ''} on {result.documents} documents "
        f"({result.gold}), prompts {result.prompt_name or '-'}", markup=False, highlight=False,
    )
    columns = ["metric", "value"]
    if result.spread:
        columns += ["stdev", "min", "max"]
    if comparison is not None:
        columns += [f"baseline (run {comparison.baseline.id})" if comparison.baseline.id else "baseline", "delta"]
    table = Table(*columns)
    for name, value in result.metrics.items():
        row = [name, _number(value)]
        if result.spread:
            spread = result.spread.get(name, {})
            row += [_number(spread.get("stdev")), _number(spread.get("min")), _number(spread.get("max"))]
        if comparison is not None:
            before, _, delta = comparison.deltas[name]
            row += [_number(before), _number(delta, signed=True)]
        table.add_row(*row)
    console.print(table)
    counts = "  ".join(f"{kind} tp {c['tp']} fp {c['fp']} fn {c['fn']}"
                       + (f" (rejected again {c['rejected_again']})" if c["rejected_again"] else "")
                       for kind, c in result.counts.items())
    console.print(counts, markup=False, highlight=False)
    flips = result.flips()
    if flips:
        console.print(f"items that flip between the {result.repeat} runs ({len(flips)}):", markup=False)
        for flip in flips[:limit]:
            what = "proposed" if flip.example.outcome == "fp" else "found"
            console.print(f"  {what} {flip.times}/{flip.repeat}  {_example_line(flip.example)}", markup=False,
                          highlight=False)
    if comparison is None:
        return
    if comparison.gold_changed:
        console.print("note: the gold changed since the baseline; part of any change is the gold's", markup=False)
    for title, items in (("newly missed", comparison.newly_missed), ("newly found", comparison.newly_found),
                         ("new false positives", comparison.new_false_positives)):
        if items:
            console.print(f"{title} ({len(items)}):", markup=False)
            for example in items[:limit]:
                console.print(f"  {_example_line(example)}", markup=False, highlight=False)


def _example_line(example) -> str:
    start = example.gold_start if example.gold_start is not None else example.pred_start
    end = example.gold_end if example.gold_end is not None else example.pred_end
    text = example.text if len(example.text) <= 70 else example.text[:67] + "..."
    return f"{example.kind} {example.document_id[7:19]} {start}:{end} {text!r}"


@app.command()
def stats(ctx: typer.Context, db: DbOption = Path(DEFAULT_DB)) -> None:
    """Documents, proposals and decisions, items by status and kind, percent reviewed.

    Example: annotator stats
    """
    with store_at(settings_of(ctx, db=db).db, must_exist=True) as store:
        figures = store.stats()
        run_states = store.run_counts()
        overlap = store.overlap()
    # A run still going, or one whose process died (killed, crashed) before it finished, is worth a look.
    unusual = ", ".join(f"{count} {state}" for state, count in run_states.items() if count and state != "finished")
    console.print(
        f"documents {figures['documents']}  runs {figures['runs']}{f' ({unusual})' if unusual else ''}  "
        f"proposals {figures['proposals']}  "
        f"decisions {figures['decisions']}  reviewed {figures['percent_reviewed']:.1f}%"
    )
    by = figures["by_status_kind"]
    kinds = sorted({kind for _, kind in by})
    table = Table("status", *kinds, "total", title="items by status and kind")
    for status in STATUSES:
        counts = [by.get((status, kind), 0) for kind in kinds]
        table.add_row(status, *map(str, counts), str(sum(counts)))
    console.print(table)
    if overlap > 1:
        console.print(f"{overlap} reviewers per document: these count anyone's latest decision; annotator assign "
                      "shows how many reviewers each document has, annotator agree how far they agree, "
                      "annotator adjudicate what they disagree on")


@app.command()
def agree(
    ctx: typer.Context,
    kind: KindOption = None,
    annotators: Annotated[
        Optional[str], typer.Option("--annotators", help="Comma-separated reviewers to compare (default: all).")
    ] = None,
    engines: Annotated[
        bool, typer.Option("--engines", help="Add each engine run (engine/model@prompt) as a rater: its proposals as proposed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")] = False,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """How far reviewers agree, per kind: span F1 per pair, Cohen's kappa and Krippendorff's alpha per field.

    Needs documents with two raters or more (annotator assign --overlap 2, or --engines).

    Example: annotator agree --kind quote --annotators alice,bob
    """
    from annotator.agreement import agreement

    kinds = _check_kinds(kind)
    names = [name.strip() for name in annotators.split(",") if name.strip()] if annotators is not None else None
    with store_at(settings_of(ctx, db=db).db, must_exist=True) as store:
        result = agreement(store, kinds, names, engines).to_dict()
    if as_json:
        import json

        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    _print_agreement(result)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_agreement(result: dict[str, Any]) -> None:
    """A table of span agreement per pair and one of field agreement, for each kind."""
    console.print(f"raters: {', '.join(result['annotators'])}")
    for kind, figures in result["kinds"].items():
        span = figures["span"]
        table = Table("raters", "documents", "items", "F1", "exact F1", title_justify="left",
                      title=f"{kind}: spans ({figures['documents']} documents; "
                            f"found by all raters {_figure(span['found_by_all'])} of {span['units']} items)")
        for pair, counts in span["pairs"].items():
            table.add_row(pair.replace("|", " · "), str(counts["documents"]), "/".join(map(str, counts["items"])),
                          _figure(span["f1"][pair]), _figure(span["exact_f1"][pair]))
        console.print(table)
        fields = Table("field", "alpha", "agreement", "items used / total", "Cohen's kappa per pair (used/total)",
                       title_justify="left", title=f"{kind}: fields of matched items")
        for name, field in figures["fields"].items():
            kappas = ", ".join(f"{pair.replace('|', ' · ')} {_figure(value)} ({field['kappa_used'][pair]}/"
                               f"{field['kappa_total'][pair]})" for pair, value in field["kappa"].items())
            fields.add_row(f"{name} ({field['metric']})", _figure(field["alpha"]), _figure(field["agreement"]),
                           f"{field['used']}/{field['total']}", kappas)
        console.print(fields)


@app.command()
def report(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON instead of a table.")] = False,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """How good each engine run is as an annotator: what reviewers made of its proposals, per prompt and kind.

    Accepted unchanged, edited, rejected, missed, how often each field was corrected, and the median
    seconds a reviewer spent per decision.

    Example: annotator report --json
    """
    from annotator.report import engine_report, report_dict

    with store_at(settings_of(ctx, db=db).db, must_exist=True) as store:
        rows = engine_report(store)
    if as_json:
        import json

        sys.stdout.write(json.dumps(report_dict(rows), ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        console.print("no proposals in the store yet")
        return
    from annotator.agreement import engine_rater

    # One table per engine run, its kinds side by side: it reads at 80 columns.
    runs: dict[str, list[Any]] = {}
    for row in rows:
        runs.setdefault(engine_rater(row.to_dict()), []).append(row)
    for run, kinds in runs.items():
        table = Table("", *(row.kind for row in kinds), title=run, title_justify="left")
        for label, measure in (("proposed", "proposed"), ("reviewer decisions", "decisions"),
                               ("accepted unchanged", "accepted"), ("edited", "edited"), ("rejected", "rejected"),
                               ("missed (added by reviewers)", "missed")):
            table.add_row(label, *(str(getattr(row, measure)) for row in kinds))
        table.add_row("span changed", *("-" if row.span_changed is None else f"{row.span_changed:.0%}" for row in kinds))
        for name in dict.fromkeys(name for row in kinds for name in row.field_correction):
            table.add_row(f"{name} corrected", *(
                "" if name not in row.field_correction else
                "-" if row.field_correction[name] is None else f"{row.field_correction[name]:.0%}" for row in kinds))
        table.add_row("median seconds per decision",
                      *("-" if row.median_seconds is None else f"{row.median_seconds:.1f}" for row in kinds))
        console.print(table)
    console.print("one decision per reviewer and proposal; rates are shares of the decisions that kept the proposal "
                  "(accepted or edited)")


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f",
            help="jsonl (the v1 contract), csv, openai-chat (chat fine-tuning JSONL) or spans (text + labelled spans).",
        ),
    ] = "jsonl",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status", help="gold (accepted, edited, added), all, proposed, or one status; openai-chat and spans: gold."
        ),
    ] = "gold",
    kind: KindOption = None,
    split: Annotated[
        Optional[str],
        typer.Option(
            "--split",
            help="Split by document, e.g. train=0.8,dev=0.1,test=0.1: -o gold.jsonl writes gold.train.jsonl, …",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --split assignment.")] = 0,
    include_partial: Annotated[
        bool,
        typer.Option(
            "--include-partial",
            help="With --status gold (and the training formats): also documents still under review, whose "
            "undecided items are then missing from their gold.",
        ),
    ] = False,
    prompts: PromptsOption = None,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Write annotations as contract JSONL, CSV, chat fine-tuning JSONL or labelled spans, whole or split.

    Gold (the default status, and the only one the training formats take) comes from fully reviewed
    documents only; how many documents still under review were left out is said on stderr.

    Example: annotator export --format openai-chat --split train=0.8,dev=0.1,test=0.1 -o gold.jsonl
    """
    from annotator.export import Export, export_split, parse_split, write_files

    kinds = _check_kinds(kind)
    settings = settings_of(ctx, prompts=prompts, db=db)
    try:
        job = Export.of(format, status, kinds, settings.prompts, include_partial)
        ratios = parse_split(split) if split is not None else None
    except AnnotatorError as error:
        raise fail(str(error)) from None
    if ratios is not None and output is None:
        raise fail("--split needs -o FILE: each split is written beside it as <stem>.<split><suffix>")
    unit = {"csv": "rows", "openai-chat": "examples"}.get(format, "documents")
    with store_at(settings.db, must_exist=True) as store:
        left_out = job.left_out(store)
        if left_out and store.overlap() > 1:
            from annotator.teams import left_out as team_left_out

            _, disputed = team_left_out(store)
            errors.print(
                f"left out {left_out} documents that do not have all their reviewers yet or whose reviewers disagree "
                f"({disputed} items to adjudicate: annotator adjudicate; --include-partial to export what is agreed)",
                markup=False,
            )
        elif left_out:
            errors.print(
                f"left out {left_out} documents still under review (--include-partial to export their partial gold)",
                markup=False,
            )
        if output is None:
            job.write(store, sys.stdout)
            return
        if ratios is None:
            [count] = write_files([(output, lambda out: job.write(store, out))])
            errors.print(f"wrote {count} {unit} to {output}", markup=False)
            return
        for written in export_split(store, job, output, ratios, seed):
            counted = "" if unit == "documents" else f" ({written.count} {unit})"
            errors.print(f"wrote {written.documents} documents{counted} to {written.path}", markup=False)


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A contract JSONL file, as `export --format jsonl` writes.")],
    db: DbOption = Path(DEFAULT_DB),
    annotator: Annotated[
        Optional[str], typer.Option("--annotator", help="Who the imported decisions are recorded for.")
    ] = None,
) -> None:
    """Read contract JSONL into the store: all of it, or nothing if any line is bad.

    Example: annotator import gold.jsonl --db other.db
    """
    from annotator.export import import_contract

    settings = settings_of(ctx, db=db, annotator=annotator)
    with store_at(settings.db) as store:
        report = import_contract(store, path, settings.name or getpass.getuser())
    console.print(
        f"imported {report.documents} documents ({report.new_documents} new), "
        f"{report.proposals} proposals, {report.decisions} decisions"
    )


@app.command()
def qa(
    ctx: typer.Context,
    file: Annotated[
        Optional[Path], typer.Option("--file", help="Check this contract JSONL file instead of the store (no db).")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="all (every item), gold (accepted, edited, added), proposed, or one status.")
    ] = "all",
    kind: KindOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON instead of the report.")] = False,
    event_threshold: Annotated[
        Optional[float],
        typer.Option("--event-threshold", min=0, max=1, help="Least overlap of proper names for one event (0.15)."),
    ] = None,
    subject_threshold: Annotated[
        Optional[float],
        typer.Option("--subject-threshold", min=0, max=100, help="Least similarity of two figures' subjects (70)."),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Check spans, speakers, figure values and names; list figures that disagree across documents.

    Exits 1 when there are errors (with --strict, warnings too). Rejected items get only the span checks.

    Example: annotator qa --status gold
    """
    from annotator import qa as checks

    from annotator.contract import status_filter

    kinds = _check_kinds(kind)
    # Thresholds left unset keep the core's defaults, which say why they are what they are.
    thresholds = {"event_threshold": event_threshold, "subject_threshold": subject_threshold}
    chosen = {name: value for name, value in thresholds.items() if value is not None}
    try:
        status_filter(status)
        # The documents stream through the checks: a bad line of a file fails when reading reaches it.
        if file is not None:
            report = checks.check_documents(checks.documents_from_file(file, status, kinds), **chosen)
        else:
            with store_at(settings_of(ctx, db=db).db, must_exist=True) as store:
                report = checks.check_documents(checks.documents_from_store(store, status, kinds), **chosen)
    except AnnotatorError as error:
        raise fail(str(error)) from None
    if as_json:
        import json

        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_qa(report)
    if report.failed(strict):
        raise typer.Exit(1)


SHOWN_DISAGREEMENTS = 50
"""Disagreeing figures drawn as tables by `qa`; an archive can have tens of thousands (`--json` has them all)."""


def _print_qa(report) -> None:
    """The findings grouped by document (errors first), the figures that disagree side by side, the summary."""
    from rich.markup import escape
    from rich.table import Column
    from rich.text import Text

    by_document: dict[str, list] = {}
    for finding in report.findings:
        by_document.setdefault(finding.document_id, []).append(finding)
    for document_id, findings in by_document.items():
        console.print(Text(f"{findings[0].source}  {document_id[:19]}", style="bold"))
        for finding in findings:
            span = f"{finding.start}:{finding.end}" if finding.start is not None else "-"
            line = Text("  ")
            line.append(f"{finding.severity:<8}", style="bold red" if finding.severity == "error" else "yellow")
            line.append(f"{finding.check}  {finding.kind or '-'} {finding.item_id or '-'} {span}  ")
            line.append(f"“{finding.excerpt}”", style="dim")
            console.print(line)
            console.print(Text(f"          {finding.message}"))
    for event in report.events:
        console.print(Text(
            f"event {event.number}: {', '.join(event.sources)} (name overlap {event.similarity:.2f}; "
            f"shared: {', '.join(event.shared_names[:12])})"
        ))
    for pair in report.disagreements[:SHOWN_DISAGREEMENTS]:
        table = Table(
            "", *(Column(escape(side.source), overflow="fold") for side in (pair.first, pair.second)),
            title_justify="left",
            title=f"disagreeing figures, event {pair.event} (subjects {pair.subject_similarity:.0f}% alike)",
        )
        for label, read in (
            ("value", lambda side: f"{side.value:,.10g} {side.unit or ''}".strip()),
            ("qualifier", lambda side: side.qualifier or "-"),
            ("subject", lambda side: side.subject or "-"),
            ("said by", lambda side: side.said_by),
            ("span", lambda side: f"{side.start}:{side.end}"),
            ("text", lambda side: side.text),
        ):
            table.add_row(label, Text(read(pair.first)), Text(read(pair.second)))
        console.print(table)
    if len(report.disagreements) > SHOWN_DISAGREEMENTS:
        console.print(f"… and {len(report.disagreements) - SHOWN_DISAGREEMENTS:,} more disagreeing figures "
                      "(--json lists every one)")
    if not report.findings:
        console.print("no findings")
    console.print(Text(report.summary(), style="bold red" if report.errors else "bold"))


if __name__ == "__main__":
    app()
