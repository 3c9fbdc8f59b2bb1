"""Key bindings of the review UI and the user's overrides from a TOML file.

Every binding has an id; a file such as `~/.config/annotator/keys.toml` maps ids to keys:

    [keys]
    accept = "a,enter"
    reject = "x,delete"

`annotator review --keys FILE` (or `ANNOTATOR_KEYS`) names another file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.binding import Binding

from annotator.errors import AnnotatorError

REVIEW_BINDINGS = [
    Binding("a,enter", "accept", "Accept", id="accept"),
    Binding("x", "reject", "Reject", id="reject"),
    Binding("e", "edit", "Edit", id="edit"),
    Binding("j,down", "next_item", "Next", id="next_item"),
    Binding("k,up", "previous_item", "Prev", id="previous_item"),
    Binding("J,pagedown", "next_document", "Next doc", id="next_document", show=False),
    Binding("K,pageup", "previous_document", "Prev doc", id="previous_document", show=False),
    Binding("tab", "next_unreviewed", "Next unreviewed", id="next_unreviewed", priority=True),
    Binding("u", "undo", "Undo", id="undo"),
    Binding("ctrl+r,U", "redo", "Redo", id="redo", show=False),
    Binding("n", "add", "Add missed", id="add"),
    Binding("s", "adjust_span", "Adjust span", id="adjust_span"),
    Binding("c", "scroll_card", "Card: more", id="scroll_card", show=False),
    Binding("1", "filter_kind('quote')", "Quotes", id="filter_quote", show=False),
    Binding("2", "filter_kind('figure')", "Figures", id="filter_figure", show=False),
    Binding("3", "filter_kind('stance')", "Stances", id="filter_stance", show=False),
    Binding("4", "filter_kind('')", "All kinds", id="filter_all", show=False),
    Binding("f", "cycle_status", "Status filter", id="cycle_status", show=False),
    Binding("d", "documents", "Documents", id="documents"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("p", "speaker_pick", "Speaker", id="speaker_pick"),
    Binding("P", "speaker_previous", "Previous quote's speaker", id="speaker_previous", show=False),
    Binding("o", "speaker_quotes", "Speaker's quotes", id="speaker_quotes", show=False),
    Binding("right_square_bracket", "speaker_quote(1)", "Speaker's next quote", id="speaker_next_quote", show=False),
    Binding("left_square_bracket", "speaker_quote(-1)", "Speaker's previous quote", id="speaker_previous_quote",
            show=False),
    Binding("A", "accept_rest", "Accept rest", id="accept_rest", show=False),
    Binding("exclamation_mark", "flag", "Flag", id="flag", show=False),
    Binding("N", "document_note", "Document note", id="document_note", show=False),
    Binding("g", "next_attention", "Needs attention", id="next_attention", show=False),
]
"""The review screen's keys."""

SPAN_BINDINGS = [
    Binding("l,right", "end(1)", "End →", id="span_end_right"),
    Binding("h,left", "end(-1)", "End ←", id="span_end_left"),
    Binding("w", "end_word(1)", "End word →", id="span_end_word_right"),
    Binding("b", "end_word(-1)", "End word ←", id="span_end_word_left"),
    Binding("L,shift+right", "start(1)", "Start →", id="span_start_right"),
    Binding("H,shift+left", "start(-1)", "Start ←", id="span_start_left"),
    Binding("W", "start_word(1)", "Start word →", id="span_start_word_right"),
    Binding("B", "start_word(-1)", "Start word ←", id="span_start_word_left"),
    Binding("slash", "find", "Type text", id="span_find"),
    Binding("t", "cycle_kind", "Kind", id="span_kind"),
    Binding("enter", "confirm", "Confirm", id="span_confirm", priority=True),
    Binding("escape", "cancel", "Cancel", id="span_cancel", priority=True),
]
"""Keys while a span is being selected (to add an annotation or move a span's boundaries)."""


EDIT_BINDINGS = [
    Binding("ctrl+s", "save", "Save", id="edit_save", priority=True),
    Binding("escape", "cancel", "Cancel", id="edit_cancel"),
]
"""Keys of the edit form."""

DOCUMENTS_BINDINGS = [
    Binding("escape", "close", "Back", id="documents_close"),
    Binding("slash", "search", "Search", id="documents_search"),
    Binding("u", "unfinished", "Unfinished only", id="documents_unfinished"),
]
"""Keys of the document list."""

HELP_BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help_close")]
"""Keys of the help screen."""

APP_BINDINGS = [
    Binding("ctrl+p", "command_palette", "Actions by name", id="command_palette", show=False, priority=True),
]
"""The app's own keys, on every screen that is not a modal (in place of Textual's ctrl+q and palette key)."""

HINT_ORDER = ("accept", "reject", "edit", "next_item", "undo", "help", "next_unreviewed", "adjust_span", "add",
              "documents", "previous_item", "quit")
"""Binding ids in the order the hint bar shows them while they fit; other shown bindings follow in declared order."""

SPEAKER_PICK_BINDINGS = [
    Binding("enter", "choose", "Take", id="speaker_pick_choose", priority=True),
    Binding("down", "move(1)", "Next name", id="speaker_pick_down", priority=True, show=False),
    Binding("up", "move(-1)", "Prev name", id="speaker_pick_up", priority=True, show=False),
    Binding("tab", "mention(1)", "Next mention", id="speaker_pick_next_mention", priority=True),
    Binding("shift+tab", "mention(-1)", "Prev mention", id="speaker_pick_previous_mention", priority=True,
            show=False),
    Binding("ctrl+n", "typed", "Take as typed", id="speaker_pick_typed", priority=True),
    Binding("escape", "cancel", "Cancel", id="speaker_pick_cancel", priority=True),
]
"""Keys of the speaker picker (type to filter the names)."""

SPEAKER_QUOTES_BINDINGS = [
    Binding("enter", "choose", "Go to", id="speaker_quotes_choose", priority=True),
    Binding("escape", "cancel", "Back", id="speaker_quotes_close"),
]
"""Keys of the list of a speaker's quotes."""

FLAG_BINDINGS = [Binding("escape", "cancel", "Cancel", id="flag_cancel", priority=True)]
"""Keys of the flag comment box (`enter` flags, with or without a comment)."""

NOTE_BINDINGS = [
    Binding("ctrl+s", "save", "Save", id="note_save", priority=True),
    Binding("ctrl+d", "toggle_done", "Done on/off", id="note_done", priority=True),
    Binding("escape", "cancel", "Cancel", id="note_cancel", priority=True),
]
"""Keys of the document note (`enter` in the note saves too)."""

CONFIRM_BINDINGS = [
    Binding("y,enter", "confirm", "Yes", id="confirm_yes", priority=True),
    Binding("n,escape", "cancel", "No", id="confirm_no", priority=True),
]
"""Keys of every yes/no question."""

ADJUDICATE_BINDINGS = [
    *(Binding(str(number), f"pick({number})", f"Variant {number}", id=f"adjudicate_pick_{number}", show=number == 1)
      for number in range(1, 6)),
    Binding("enter", "pick(0)", "Pick highlighted", id="adjudicate_pick", priority=True),
    Binding("e", "edit", "Edit", id="adjudicate_edit"),
    Binding("x", "reject", "Reject", id="adjudicate_reject"),
    Binding("m", "merge", "Merge agreed", id="adjudicate_merge"),
    Binding("tab", "next_open", "Next open", id="adjudicate_next_open", priority=True),
    Binding("j", "move(1)", "Next", id="adjudicate_next", show=False),
    Binding("k", "move(-1)", "Prev", id="adjudicate_previous", show=False),
    Binding("J,pagedown", "document(1)", "Next doc", id="adjudicate_next_document", show=False),
    Binding("K,pageup", "document(-1)", "Prev doc", id="adjudicate_previous_document", show=False),
    Binding("u", "undo", "Undo", id="adjudicate_undo"),
    Binding("q", "quit", "Quit", id="adjudicate_quit"),
]
"""Keys of the adjudication screen (`annotator adjudicate`); up and down move through the variants."""

ALL_BINDINGS = (
    REVIEW_BINDINGS + SPAN_BINDINGS + EDIT_BINDINGS + DOCUMENTS_BINDINGS + HELP_BINDINGS + APP_BINDINGS
    + SPEAKER_PICK_BINDINGS + SPEAKER_QUOTES_BINDINGS + CONFIRM_BINDINGS + FLAG_BINDINGS + NOTE_BINDINGS
    + ADJUDICATE_BINDINGS
)


def keys_file() -> Path:
    """The keys setting: `ANNOTATOR_KEYS`, the config file, else `$XDG_CONFIG_HOME/annotator/keys.toml`."""
    from annotator.config import load_settings

    return load_settings().keys


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id → keys from the `[keys]` table of a TOML file; {} when there is no file."""
    path = path or keys_file()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AnnotatorError(f"{path}: cannot read key bindings ({error})") from None
    keys = data.get("keys", {})
    known = {binding.id for binding in ALL_BINDINGS}
    if not isinstance(keys, dict):
        raise AnnotatorError(f"{path}: [keys] must be a table of binding id = \"keys\"")
    for binding_id, value in keys.items():
        if binding_id not in known:
            raise AnnotatorError(f"{path}: unknown binding {binding_id!r} (known: {', '.join(sorted(known))})")
        if not isinstance(value, str) or not value.strip():
            raise AnnotatorError(f"{path}: keys for {binding_id!r} must be a non-empty string such as \"a,enter\"")
    return dict(keys)
