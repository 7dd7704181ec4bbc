"""The one error type of the blueprint contract: every problem found, each with its JSON path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in a blueprint: where it is (a JSON path) and what to do about it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class BlueprintInvalid(Exception):
    """A blueprint or envelope was rejected; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(self.issues)

    def __str__(self) -> str:
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the blueprint:"
        return "\n".join([head, *(f"- {issue}" for issue in self.issues)])

    def as_dicts(self) -> list[dict[str, str]]:
        """The issues as JSON-ready ``{"path", "message"}`` objects, for API answers."""
        return [{"path": issue.path, "message": issue.message} for issue in self.issues]
