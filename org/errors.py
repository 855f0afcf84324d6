"""The error an org file raises: every problem at once, each with its line and field.

Kept apart from `org.file` so that the CLI and the admin handlers can catch and print
it without caring how the file was parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OrgFileError", "OrgIssue"]


@dataclass(frozen=True)
class OrgIssue:
    """One problem in an org file.

    `line` is 1-based and None when the problem has no place in the file (it cannot be read,
    or it is empty); `field` is a path like ``units[0].units[1].chat`` and empty for problems
    with the file as a whole (YAML syntax, wrong top-level shape).
    """

    line: int | None
    field: str
    message: str

    def format(self, source: str = "<org>") -> str:
        """``FILE:LINE: FIELD: MESSAGE``, the shape editors and CI logs turn into links."""
        where = source if self.line is None else f"{source}:{self.line}"
        parts = [where, self.field, self.message] if self.field else [where, self.message]
        return ": ".join(parts)


class OrgFileError(ValueError):
    """An org file that cannot be used, with every issue found (not just the first).

    An admin fixing a config file should see the whole list in one run of
    ``gridcall check-config`` rather than fix, re-run, fix, re-run.
    """

    def __init__(self, errors: list[OrgIssue], source: str = "<org>") -> None:
        self.errors: list[OrgIssue] = list(errors)
        self.source = source
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[OrgFileError], tuple[list[OrgIssue], str]]:
        """Rebuild from the issues, not the message, so the error survives pickling."""
        return (type(self), (self.errors, self.source))

    def __str__(self) -> str:
        return "\n".join(issue.format(self.source) for issue in self.errors)
