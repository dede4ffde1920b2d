"""An import's errors, by row and column: all of them counted, the first ``MAX_STORED_ERRORS`` kept for the job's
page, each said in the user's language ("fila 997, columna distrito: ...")."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_STORED_ERRORS = 1000


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        if self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class ErrorLog:
    """All errors are counted; the first MAX_STORED_ERRORS are kept with their row and column."""

    items: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_STORED_ERRORS:
            self.items.append(RowError(row, column, message))

    def __bool__(self) -> bool:
        return self.total > 0
