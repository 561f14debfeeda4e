"""Error types shared by every layer for bad input.

They subclass the built-in errors callers already expect (``ValueError``), so library users can catch either;
the CLI turns them into exit code 2 with their one-sentence message, the UI shows the message.
"""


class BadInputError(ValueError):
    """The user's input (file, argument, setting) cannot be used; the message says why and what to do."""


class UnsupportedFileError(BadInputError):
    """A file type that no reader handles."""
