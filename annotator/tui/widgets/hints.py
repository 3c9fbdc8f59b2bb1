"""The hint bar: a footer that shows the most important keys first, and only the ones that fit whole."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class HintBar(Footer):
    """Shown bindings ranked by `order` (binding ids; the rest after, as declared), cut where the width ends."""

    def __init__(self, order: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(show_command_palette=False, id=id)
        self.order = {binding_id: rank for rank, binding_id in enumerate(order)}
        self._shown: tuple | None = None

    async def recompose(self) -> None:
        """Compose the keys again only when what they would show changed: every focus change and binding refresh
        asks for it, and mounting a row of keys costs a few milliseconds of the next frame."""
        if not self._bindings_ready:
            return
        shown = (self.size.width, tuple((binding.key, binding.description, enabled) for binding, enabled, _ in self.hints()))
        if shown == self._shown:
            return
        self._shown = shown
        await super().recompose()

    def hints(self) -> list[tuple[Binding, bool, str]]:
        """(binding, enabled, tooltip) of each action to show, most important first, before cutting to the width."""
        shown: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                shown.setdefault(binding.action, (binding, enabled, tooltip))
        return sorted(shown.values(), key=lambda hint: self.order.get(hint[0].id or "", len(self.order)))

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        room = self.size.width or self.app.size.width
        for binding, enabled, tooltip in self.hints():
            key = self.app.get_key_display(binding)
            width = cell_len(key) + cell_len(binding.description) + 3  # the key's padding, one space after
            if width > room:
                break  # a later, less important key does not jump ahead of one that did not fit
            room -= width
            yield FooterKey(
                binding.key, key, binding.description, binding.action, disabled=not enabled, tooltip=tooltip
            ).data_bind(compact=Footer.compact)

    def on_resize(self, event: events.Resize) -> None:
        """Another width fits other keys."""
        self.refresh(recompose=True)
