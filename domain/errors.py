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


class Tampered(DomainError):
    """The store's evidence does not hold: the log, its chain or a read model no longer
    agree. Exit status 3 on the command line, 503 on the public pages; the message names
    the first thing that differs."""
