"""Why a fire could not import its file."""

from __future__ import annotations


class FireError(Exception):
    """A fire cannot go on; the message is for operators (no secret in it).

    ``retryable`` is true when trying again later may work (server unreachable, timeout).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
