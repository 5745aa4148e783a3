"""Undo/redo stacks of applied operations.

Each entry pairs the operation that was applied with its inverse (computed when it was
applied). Undoing applies the inverse and moves the pair ``(inverse, inverse of the inverse)``
to the redo stack, so redo restores the state exactly, timestamps included.

The stacks are bounded by a number of entries and by their size: a bitmask keyframe is kept as
its whole slice's run-length text, in the edit and in its inverse, so 300 threshold-brush
strokes on a speckled 2048 x 2048 radiograph held 2.4 GB of history (QA 23b). The oldest
entries go first; the newest one is always kept, so the last edit can be undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .operations import Operation

__all__ = ["HISTORY_BYTES", "History", "HistoryEntry", "operation_bytes"]

#: The undo and redo stacks together keep about this much of their operations' text at most
#: (see the module docstring): a few hundred brush strokes on a 512 x 512 slice, some tens on
#: a large speckled mask.
HISTORY_BYTES = 256 * 1024 * 1024


def operation_bytes(op: Operation) -> int:
    """About how many bytes ``op`` holds: the length of its strings (a mask's run-length text
    is nearly all of a bitmask edit) plus 8 per number. Lists of numbers are counted by their
    length, not walked."""
    total = 0
    todo: list[object] = [op]
    while todo:
        value = todo.pop()
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, Operation):
            todo.extend(getattr(value, name) for name in value._fields)
        elif isinstance(value, Mapping):
            todo.extend(value.values())
        elif isinstance(value, (list, tuple)):
            first = value[0] if value else None
            if isinstance(first, (int, float)):
                total += 8 * len(value)
            elif isinstance(first, (list, tuple)) and first and isinstance(first[0], (int, float)):
                # a shape's vertices: counted by their lengths, not walked one by one (a
                # large document's undo entry was most of the time of load_json, QA 24a)
                total += 8 * sum(map(len, value))
            else:
                todo.extend(value)
        else:
            total += 8
    return total


@dataclass(frozen=True)
class HistoryEntry:
    """An applied operation and the operation that reverts it."""

    op: Operation
    inverse: Operation
    #: :func:`operation_bytes` of both (computed once)
    nbytes: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nbytes", operation_bytes(self.op) + operation_bytes(self.inverse))


class History:
    """Bounded undo and redo stacks.

    Parameters
    ----------
    limit
        Most entries kept on the undo stack; the oldest are dropped beyond it.
    max_bytes
        Most :attr:`HistoryEntry.nbytes` kept on both stacks together; the oldest undo
        entries are dropped beyond it (never the newest).
    """

    def __init__(self, limit: int = 1000, max_bytes: int = HISTORY_BYTES) -> None:
        if limit < 1:
            raise ValueError(f"history limit must be at least 1, got {limit}")
        if max_bytes < 1:
            raise ValueError(f"history max_bytes must be at least 1, got {max_bytes}")
        self.limit = limit
        self.max_bytes = max_bytes
        self._undo: list[HistoryEntry] = []
        self._redo: list[HistoryEntry] = []
        #: nbytes of every entry on both stacks
        self._bytes = 0

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

    @property
    def nbytes(self) -> int:
        """:attr:`HistoryEntry.nbytes` of every entry kept, undo and redo."""
        return self._bytes

    def record(self, op: Operation, inverse: Operation) -> None:
        """Record a new edit: forget the redo stack and push it on the undo stack."""
        self._bytes -= sum(e.nbytes for e in self._redo)
        self._redo.clear()
        self._push_undo(HistoryEntry(op, inverse))

    def _push_undo(self, entry: HistoryEntry) -> None:
        self._undo.append(entry)
        self._bytes += entry.nbytes
        drop = max(0, len(self._undo) - self.limit)
        size = self._bytes
        while drop < len(self._undo) - 1 and size > self.max_bytes:
            size -= self._undo[drop].nbytes
            drop += 1
        if drop:
            self._bytes -= sum(e.nbytes for e in self._undo[:drop])
            del self._undo[:drop]

    def pop_undo(self) -> HistoryEntry | None:
        if not self._undo:
            return None
        entry = self._undo.pop()
        self._bytes -= entry.nbytes
        return entry

    def pop_redo(self) -> HistoryEntry | None:
        if not self._redo:
            return None
        entry = self._redo.pop()
        self._bytes -= entry.nbytes
        return entry

    def push_undo(self, entry: HistoryEntry) -> None:
        """Push ``entry`` on the undo stack, keeping the redo stack (used by redo)."""
        self._push_undo(entry)

    def push_redo(self, entry: HistoryEntry) -> None:
        self._redo.append(entry)
        self._bytes += entry.nbytes

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._bytes = 0
