"""The review UI: a Textual app over the core; nothing below it imports textual."""
