"""A box over the review screen in a layer of its own: the review's pickers, questions and comment boxes.

A pushed screen is composited whole over the one beneath on every frame it shows (~12 ms a frame on a
120×36 terminal before any of our code runs); a box in the review screen's own layer repaints only
where it changed, so opening it, typing in it and closing it stay well inside a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from textual.containers import Vertical

ResultType = TypeVar("ResultType")


class Dialog(Vertical, Generic[ResultType]):
    """A modal box: while it is open only its own keys act; `dismiss(value)` closes it and hands `value` on.

    Opened by `ReviewScreen.open_dialog(dialog, answered)`, which mounts it in the screen's `#dialogs`
    layer; `answered` receives the value, as a pushed `ModalScreen`'s callback would.
    """

    can_focus = True
    KEPT: ClassVar[bool] = False
    """Mounted once with the screen and shown again for each use: no mount and no new layout, the cheapest frame."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.answered: Callable[[Any], None] | None = None

    def opened(self) -> None:
        """A kept box is shown again: the focus goes where its keys go."""
        self.focus()

    @property
    def is_modal(self) -> bool:
        """Keys stop here: the review's own keys do not act while the box is open."""
        return True

    def dismiss(self, result: ResultType | None = None) -> None:
        """Close the box and hand `result` to whoever opened it."""
        answered, self.answered = self.answered, None
        close = getattr(self.screen, "close_dialog", None)
        if close is not None:
            close(self)
        else:
            self.remove()
        if answered is not None:
            answered(result)
