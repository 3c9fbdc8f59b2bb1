"""The one-line text field of the review's boxes and forms."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Input


class SteadyInput(Input):
    """A text field whose cursor does not blink. A blink is a frame twice a second (written to the terminal, over
    SSH too), and a key typed just after one waits for Textual's next frame slot, up to 17 ms."""

    cursor_blink = reactive(False, init=False)
