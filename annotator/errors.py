"""The one error type the core raises for bad input; the CLI prints its message on one line."""


class AnnotatorError(Exception):
    """A problem with the user's input or data, with a message fit to show as is."""
