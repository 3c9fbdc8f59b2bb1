"""The command palette's commands: every action of the screen it was opened on, by name, with its key."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from annotator.tui.screens.help import action_doc, app_bindings, describe


class ScreenActions(Provider):
    """The actions bound on the screen below the palette (the app's own, as help lists them), each run by name."""

    def commands(self) -> Iterator[tuple[str, str, partial]]:
        """(name, help, run) for each action: its description, its keys and docstring, and a call that runs it."""
        app = self.app
        for node, binding, keys in app_bindings(self.screen):
            if binding.action in ("command_palette", "app.command_palette"):
                continue
            name = describe(node, binding)
            doc = action_doc(node, binding.action)
            about = " / ".join(keys) + (f" · {doc}" if doc != name else "")
            yield name, about, partial(app.run_action, binding.action, node)

    async def discover(self) -> Hits:
        """Every action, in the order help lists them."""
        for name, about, run in self.commands():
            yield DiscoveryHit(name, run, help=about)

    async def search(self, query: str) -> Hits:
        """The actions whose name matches what was typed."""
        matcher = self.matcher(query)
        for name, about, run in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=about)
