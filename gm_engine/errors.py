"""Errors that carry the name of the offending input field.

The CLI prints them as one line, the plugin shows them in the message bar next
to the widget of that field, so every user error names what to fix.
"""
from __future__ import annotations


class InputError(ValueError):
    """Invalid user input; ``field`` is a dotted path such as ``rupture.dip``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Cancelled(RuntimeError):
    """Raised inside the engine when the caller's cancel flag is set."""
