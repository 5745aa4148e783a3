"""Undo/redo stacks of applied operations.

Each entry pairs the operation that was applied with its inverse (computed when it was
applied). Undoing applies the inverse and moves the pair ``(inverse, inverse of the inverse)``
to the redo stack, so redo restores the state exactly, timestamps included.
"""

from __future__ import annotations

from dataclasses import dataclass

from .operations import Operation

__all__ = ["History", "HistoryEntry"]


@dataclass(frozen=True)
class HistoryEntry:
    """An applied operation and the operation that reverts it."""

    op: Operation
    inverse: Operation


class History:
    """Bounded undo and redo stacks.

    Parameters
    ----------
    limit
        Most entries kept on the undo stack; the oldest are dropped beyond it.
    """

    def __init__(self, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError(f"history limit must be at least 1, got {limit}")
        self.limit = limit
        self._undo: list[HistoryEntry] = []
        self._redo: list[HistoryEntry] = []

    def __repr__(self) -> str:
        return f"History(undo={len(self._undo)}, redo={len(self._redo)}, limit={self.limit})"

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    @property
    def redo_depth(self) -> int:
        return len(self._redo)

    @property
    def last(self) -> HistoryEntry | None:
        """The entry an undo would revert."""
        return self._undo[-1] if self._undo else None

    def record(self, op: Operation, inverse: Operation) -> None:
        """Record a new edit: push it on the undo stack and forget the redo stack."""
        self._push_undo(HistoryEntry(op, inverse))
        self._redo.clear()

    def _push_undo(self, entry: HistoryEntry) -> None:
        self._undo.append(entry)
        if len(self._undo) > self.limit:
            del self._undo[: len(self._undo) - self.limit]

    def pop_undo(self) -> HistoryEntry | None:
        return self._undo.pop() if self._undo else None

    def pop_redo(self) -> HistoryEntry | None:
        return self._redo.pop() if self._redo else None

    def push_undo(self, entry: HistoryEntry) -> None:
        """Push ``entry`` on the undo stack, keeping the redo stack (used by redo)."""
        self._push_undo(entry)

    def push_redo(self, entry: HistoryEntry) -> None:
        self._redo.append(entry)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
