"""Work run in a second Python process beside this one: reads of a whole archive that would keep this
process's one core busy in Python (`agree` and `report` on tens of thousands of documents), on a
machine that has more cores.

`Elsewhere(function, *arguments)` starts the process at once; `result()` waits for what the function
returned there. The process imports from where this one does (its `sys.path`), gets the function (a
module's, pickled by name) and its arguments as a pickle in its own arguments, and gives back the
result as a pickle on its standard output. What it reads, it opens itself (`store.open_read_only`).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from annotator.errors import AnnotatorError

T = TypeVar("T")

_PROGRAM = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); from annotator.elsewhere import _run; _run()"


def cores() -> int:
    """How many cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Elsewhere(Generic[T]):
    """`function(*arguments)` in a second process, started at once; `what` names the work in an error."""

    def __init__(self, what: str, function: Callable[..., T], *arguments: Any) -> None:
        self.what = what
        task = base64.b64encode(pickle.dumps((function, arguments))).decode()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROGRAM, json.dumps(sys.path), task],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    def result(self) -> T:
        """What the function returned; AnnotatorError, with the last line of the process's errors, if it failed."""
        output, errors = self.process.communicate()
        if self.process.returncode:
            last = errors.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {self.process.returncode}"]
            raise AnnotatorError(f"{self.what} in a second process failed: {last[0]}")
        return pickle.loads(output)

    def stop(self) -> None:
        """End the process if it still runs (the work failed here, or was interrupted)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def _run() -> None:
    """The second process: call the function its arguments give, write what it returns to standard output."""
    function, arguments = pickle.loads(base64.b64decode(sys.argv[2]))
    sys.stdout.buffer.write(pickle.dumps(function(*arguments), pickle.HIGHEST_PROTOCOL))
