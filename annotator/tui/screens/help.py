"""Every key of the screen below, read from its live bindings: those in the footer and those hidden from it."""

from __future__ import annotations

from rich.errors import MarkupError
from rich.text import Text
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label

from annotator.tui.keymap import HELP_BINDINGS


def key_help(screen: Screen) -> list[tuple[str, str]]:
    """(keys, what they do) for each of this app's bindings active on `screen` (see `app_bindings`)."""
    return [(" / ".join(keys), describe(node, binding)) for node, binding, keys in app_bindings(screen)]


def app_bindings(screen: Screen) -> list[tuple[DOMNode, Binding, list[str]]]:
    """(node, binding, keys as shown) for each binding active on `screen`: its own first, then its widgets', then the app's.

    Reads `screen.active_bindings`, so a user's keymap, bindings hidden from the footer and the focused
    widget's keys are all there; a key shadowed by another is listed once, under the one it runs.
    Only bindings this app's code declares count: Textual's own (ctrl+q, the palette's key, focus
    and scroll keys, ctrl+c) are left out, so help and the palette speak only of the app's actions.
    """
    app = screen.app
    grouped: dict[tuple[int, str], tuple[DOMNode, Binding, list[str]]] = {}
    for node, binding, _enabled, _tooltip in screen.active_bindings.values():
        if binding.system or not declared_by_app(node, binding):
            continue
        _, _, keys = grouped.setdefault((id(node), binding.action), (node, binding, []))
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)

    def place(row: tuple[DOMNode, Binding, list[str]]) -> tuple[int, int]:
        node, binding, _ = row
        where = 0 if node is screen else 2 if node is app else 1
        return where, declared_order(node).get(binding.action, len(grouped))

    return sorted(grouped.values(), key=place)


def declared_by_app(node: DOMNode, binding: Binding) -> bool:
    """Whether the binding's action is bound in the BINDINGS of one of the node's classes outside Textual."""
    for cls in type(node).__mro__:
        declared = cls.__dict__.get("BINDINGS", ())
        if any(b.action == binding.action for b in Binding.make_bindings(declared)):
            return not cls.__module__.startswith("textual.")
    return False


def declared_order(node: DOMNode) -> dict[str, int]:
    """Each action bound on the node's class, by where it is declared: the most derived class first.

    A keymap re-adds the keys it changes at the end of the live bindings; this keeps the order of the code.
    """
    order: dict[str, int] = {}
    for cls in type(node).__mro__:
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ())):
            order.setdefault(binding.action, len(order))
    return order


def describe(node: DOMNode, binding: Binding) -> str:
    """A binding's description, else its tooltip, else the first line of its action's docstring, else its name."""
    if binding.description:
        return binding.description
    if binding.tooltip:
        return binding.tooltip
    return action_doc(node, binding.action)


def action_doc(node: DOMNode, action: str) -> str:
    """The first line of the docstring of the method that runs `action` on `node`, else the action's name."""
    namespace, name, _ = parse(action)
    target = {"app": node.app, "screen": getattr(node, "screen", node)}.get(namespace, node)
    method = getattr(target, f"action_{name}", None)
    doc = (getattr(method, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else name.replace("_", " ")


def _description(text: str) -> Text:
    """A description as the footer would show it: markup when it parses, plain text otherwise."""
    try:
        return Text.from_markup(text)
    except MarkupError:
        return Text(text)


class HelpModal(ModalScreen[None]):
    """A table of every key of the screen below (or of `screen`); escape, q or ? closes it."""

    BINDINGS = HELP_BINDINGS


    def __init__(self, screen: Screen | None = None) -> None:
        super().__init__()
        self.described = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("Keys · escape, q or ? closes", id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        described = self.described or self._screen_below()
        table = self.query_one("#help-table", DataTable)
        table.add_columns("key(s)", "action")
        for keys, description in key_help(described):
            table.add_row(Text(keys, style="bold"), _description(description))
        table.focus()

    def _screen_below(self) -> Screen:
        """The screen this one was pushed over."""
        stack = self.app.screen_stack
        index = stack.index(self) if self in stack else len(stack)
        return stack[max(index - 1, 0)]

    def action_close(self) -> None:
        """Back to where help was opened."""
        self.dismiss(None)
