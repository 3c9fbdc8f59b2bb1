"""The hint bar: the most important keys first, and only the ones that fit whole, drawn as one line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class HintBar(Widget, can_focus=False):
    """Shown bindings ranked by `order` (binding ids; the rest after, as declared), cut where the width ends.

    One widget drawing one line of text, not a widget per key as Textual's `Footer`: the keys change
    each time a box opens or closes over the review, and mounting a row of widgets then took two
    frames. A click on a key presses it.
    """

    COMPONENT_CLASSES = {"hint-bar--key", "hint-bar--description"}
    DEFAULT_CSS = """
    HintBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .hint-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .hint-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, order: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.order = {binding_id: rank for rank, binding_id in enumerate(order)}
        self._hints: list[tuple[Binding, bool, str]] = []
        self.spans: list[tuple[int, int, str]] = []
        """(first column, column after, key) of each key drawn, as last drawn."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        """Draw again only when the keys to show changed: every focus change and binding refresh says so."""
        hints = self.hints()
        if _drawn(hints) != _drawn(self._hints):
            self._hints = hints
            self.refresh()

    def hints(self) -> list[tuple[Binding, bool, str]]:
        """(binding, enabled, tooltip) of each action to show, most important first, before cutting to the width."""
        shown: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                shown.setdefault(binding.action, (binding, enabled, tooltip))
        return sorted(shown.values(), key=lambda hint: self.order.get(hint[0].id or "", len(self.order)))

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        self.spans = []
        key_style = self.get_component_rich_style("hint-bar--key")
        description_style = self.get_component_rich_style("hint-bar--description")
        room = self.size.width
        for binding, enabled, _ in self._hints:
            key = self.app.get_key_display(binding)
            width = cell_len(key) + cell_len(binding.description) + 3  # the key's padding, one space after
            if width > room:
                break  # a later, less important key does not jump ahead of one that did not fit
            start = line.cell_len
            line.append(f" {key} ", key_style)
            line.append(f"{binding.description} ", description_style)
            if not enabled:
                line.stylize("dim", len(line.plain) - len(binding.description) - len(key) - 3)
            self.spans.append((start, start + width, binding.key))
            room -= width
        return line

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it."""
        for start, end, key in self.spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return


def _drawn(hints: list[tuple[Binding, bool, str]]) -> list[tuple[str, str, bool]]:
    """What the bar shows of `hints`: each key, its description and whether it is enabled."""
    return [(binding.key, binding.description, enabled) for binding, enabled, _ in hints]
