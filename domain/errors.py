"""Expected failures have one root; api/ maps them to exit codes and HTTP statuses."""


class DomainError(Exception):
    """A command the ledger refuses: the message says why, for the person who asked."""


class NotFound(DomainError):
    """The record asked for does not exist."""


class RejectedFile(DomainError):
    """A file (or a folder of files) refused whole; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems


class Forbidden(DomainError):
    """The acting user may not do this."""


class Conflict(DomainError):
    """Someone else changed the same records at the same time; nothing was written."""
