"""Fast loading of big label documents: vertex lists are cut out of the text before parsing.

Most of a polygon document is its ``"points": [[x, y], ...]`` lists. Parsed as JSON, every
vertex becomes a Python list and two floats (and later a tuple), and building and freeing
those objects costs far more than reading the numbers. :func:`split_vertex_lists` instead

1. finds every ``"points":[[`` in the text and cuts out the list that follows, up to the first
   ``]]``, leaving a *skeleton* in which each list is replaced by its index (``"points":17``);
2. checks, with whole-text byte operations, that the cut-out text is exactly lists of
   ``[number, number]`` pairs (brackets and commas in the right places, only number characters
   between them), and reads all numbers at once into one ``(N, 2)`` float64 array (the
   numbers are parsed by orjson, so what is a valid JSON number and its value are exactly as
   in the plain path).

The skeleton is then parsed and validated as usual, with the :class:`VertexTable` standing in
for the lists: keyframes take their rings as array views (no per-vertex Python objects), in
the order they appear, and :meth:`VertexTable.verify` checks all rings at once.

This is only a fast path. Whatever it does not expect (whitespace inside a list, an exponent
it cannot read, a ``"points"`` key somewhere unexpected, a placeholder not taken exactly once
and in order, a ring with repeated vertices or out of bounds) makes the caller parse the
original text the plain way, which gives the same document or names the problem. Replacing a
list by a number changes no other byte, so whether every other character is inside a string
or not stays as it was; and since every index must be taken, in order, exactly where the plain
path would have read a vertex list, the two paths see the same values everywhere.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from .geometry import rings_as_stored

__all__ = ["VertexTable", "split_vertex_lists"]

_KEY = b'"points":[['
_NUMBER_CHARS = b"0123456789.eE+-"
_BRACKETS_TO_SPACES = bytes.maketrans(b"[]", b"  ")
_NUMBERS_TO_ZERO = bytes.maketrans(_NUMBER_CHARS, b"0" * len(_NUMBER_CHARS))
_PAIR_SHAPES: dict[int, bytes] = {}
_FRAGMENT: Any = getattr(orjson, "Fragment", None)  # orjson >= 3.10: text written as it is
_MINUS, _POINT, _ZERO, _NINE = b"-.09"
_MIN_LISTS = 64
"""Below this many vertex lists the plain path is as fast: don't bother."""


class VertexTable:
    """The vertex lists cut out of a document, taken in order by the keyframes that hold them.

    Parameters
    ----------
    xy
        All vertices, ``(N, 2)`` float64, read-only.
    counts
        Vertices per list, in text order.
    """

    def __init__(
        self,
        xy: npt.NDArray[np.float64],
        counts: npt.NDArray[np.intp],
        lists: list[bytes] | None = None,
    ) -> None:
        self.xy = xy
        self.counts = counts
        self.lists = lists
        """The text of each list without its outer brackets, if it is exactly what writing its
        numbers gives (see :func:`_written_as_orjson_writes`), else None."""
        self._fragments: list[Any] | None = None
        ends = np.cumsum(counts)
        self.starts = ends - counts
        self._bounds: list[int] = [0, *ends.tolist()]
        self.size = len(counts)
        self.cursor = 0
        """Index of the next list to be taken."""
        self._checked: list[tuple[int, int, bool, int, int]] = []
        """(first list, number of lists, closed, width, height) of each batch taken."""

    def take_rings(
        self, indices: list[Any], closed: bool, width: int, height: int
    ) -> list[npt.NDArray[np.float64]] | None:
        """Views of the lists whose placeholders are ``indices`` (the next ones in order),
        to be checked by :meth:`verify` as polygons (``closed``) or polylines in a plane image
        of ``width x height``; None if ``indices`` are not the next placeholders.

        (Give the geometry made from list ``i`` the text source ``(self, i)``: see
        :meth:`fragment`.)"""
        first = self.cursor
        n = len(indices)
        if indices != list(range(first, first + n)):
            return None
        self.cursor = first + n
        self._checked.append((first, n, closed, width, height))
        xy = self.xy
        bounds = self._bounds
        return [xy[bounds[i] : bounds[i + 1]] for i in range(first, first + n)]

    def take_list(self, index: Any) -> list[list[float]] | None:
        """The list whose placeholder is ``index`` (the next one) as plain Python lists (for
        values validated the usual way, such as measurement points); None if out of order."""
        if type(index) is not int or index != self.cursor:
            return None
        self.cursor += 1
        values: list[list[float]] = self.xy[self._bounds[index] : self._bounds[index + 1]].tolist()
        return values

    def fragment(self, index: int) -> Any:
        """List ``index`` as the ``orjson.Fragment`` of its original text, if that text is
        exactly what writing its numbers would give (so a loaded document is saved without
        formatting any number again), else None."""
        fragments = self._fragments
        if fragments is None:
            if _FRAGMENT is None or self.lists is None:
                return None
            fragments = [_FRAGMENT(b"[[" + text + b"]]") for text in self.lists]
            self._fragments = fragments
        return fragments[index]

    def verify(self) -> bool:
        """Whether every list was taken, and every ring taken by :meth:`take_rings` is valid
        exactly as stored (see :func:`~.geometry.rings_as_stored`)."""
        if self.cursor != self.size:
            return False
        if not self._checked:
            return True
        m = self.size
        closed = np.zeros(m, dtype=np.bool_)
        width = np.full(m, np.inf)
        height = np.full(m, np.inf)
        checked = np.zeros(m, dtype=np.bool_)
        for first, n, is_closed, w, h in self._checked:
            part = slice(first, first + n)
            closed[part] = is_closed
            width[part] = w
            height[part] = h
            checked[part] = True
        ok = rings_as_stored(self.xy, self.starts, self.counts, closed, width, height)
        return bool(ok[checked].all())


def split_vertex_lists(text: str | bytes) -> tuple[bytes, VertexTable] | None:
    """Cut the ``"points"`` vertex lists out of a document's text (see the module docstring).

    Returns the skeleton text and the :class:`VertexTable`, or None when the text has few
    vertex lists or any of them is not in the plain compact form this reads.
    """
    try:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    except (UnicodeEncodeError, TypeError):
        return None  # lone surrogates, or not text at all: the plain path says what is wrong
    pieces = data.split(_KEY)  # each piece after the first: one list's inside, "]]", the rest
    m = len(pieces) - 1
    if m < _MIN_LISTS:
        return None
    lists: list[bytes] = []
    rests: list[bytes] = []
    for piece in itertools.islice(pieces, 1, None):
        end = piece.find(b"]]")
        if end < 0:
            return None
        lists.append(piece[:end])
        rests.append(piece[end + 2 :])
    parts: list[bytes] = [b""] * (2 * m + 1)
    parts[0] = pieces[0]
    parts[1::2] = [b'"points":%d' % i for i in range(m)]
    parts[2::2] = rests
    del pieces, rests
    joined = b"[[" + b"]],[[".join(lists) + b"]]"
    counts = _pair_counts(joined, m)
    if counts is None:
        return None
    # the parse below sees one number between each two commas, but not where it stands
    # relative to the brackets: "[[1,]2,[3,4]]" must not read as [[1,2],[3,4]]
    marked = joined.translate(_NUMBERS_TO_ZERO)
    if b"]0" in marked or b"0[" in marked:
        return None
    del marked
    try:
        # brackets become spaces: a number where none may be ("[[1,2]5,[3,4]]", "[5[1,2]]")
        # then stands next to another one and the parser refuses it, as it does empty ones
        numbers = orjson.loads(b"[" + joined.translate(_BRACKETS_TO_SPACES) + b"]")
        if len(numbers) != 2 * int(counts.sum()):
            return None
        xy = np.fromiter(numbers, dtype=np.float64, count=len(numbers)).reshape(-1, 2)
    except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
        return None  # not JSON numbers (or too big for a double)
    del numbers
    xy.setflags(write=False)
    canonical = _FRAGMENT is not None and _written_as_orjson_writes(joined, xy)
    return b"".join(parts), VertexTable(xy, counts, lists if canonical else None)


def _written_as_orjson_writes(joined: bytes, xy: npt.NDArray[np.float64]) -> bool:
    """Whether every number of ``joined`` (vertex lists holding the values ``xy``) is written
    exactly as orjson writes that float, so the text can be written back as it is.

    orjson writes the shortest digits that read back as the same float, without an exponent
    for magnitudes from 1e-5 to below 1e16, with at least one digit after the point
    (``2.0``). A number written without exponent, with one point, no trailing zero after the
    point (except ``x.0``) and at most 15 significant digits is such a shortest form (two
    different decimals of at most 15 digits never read as the same float); it is the text
    orjson writes when its magnitude is in that range. Anything else (``1e1``, ``2``,
    ``2.50``, 17 digits...) is simply formatted again when saved.
    """
    if not len(xy):
        return True
    if b"e" in joined or b"E" in joined or b"+" in joined:
        return False
    magnitude = np.abs(xy)
    if not ((magnitude >= 1e-5) | (xy == 0.0)).all() or magnitude.max() >= 1e15:
        return False
    a = np.frombuffer(joined, dtype=np.uint8)
    if np.count_nonzero(a == _POINT) != xy.size:  # one point in each (two is not JSON)
        return False
    # only ",", "[", "]" and the number characters "-", ".", "0".."9" (45..57) are left
    separator = (a - np.uint8(_MINUS)) > _NINE - _MINUS
    # a number ending in 0 must end in ".0" (the text starts and ends with brackets)
    if ((a[1:-1] == _ZERO) & separator[2:] & (a[:-2] != _POINT)).any():
        return False
    # at most 15 digits: at most 16 characters with the point (fewer digits with a sign)
    return b"\x00" * 17 not in separator.tobytes()


def _pair_counts(joined: bytes, n_lists: int) -> npt.NDArray[np.intp] | None:
    """Vertices per list of ``joined`` (the lists joined by commas), or None unless each list
    is exactly ``[[a,b],[c,d],...]`` with only number characters for ``a, b, c, d...``.

    Without the number characters, the lists must read ``[[,],[,],...,[,]]``. Whether the
    numbers are valid, and only where they belong (right after a ``[`` or ``,``, right before
    a ``,`` or ``]``), is checked by the JSON parser (see :func:`split_vertex_lists`).
    """
    punct = joined.translate(None, _NUMBER_CHARS)
    pieces = punct.split(b"]],")
    if len(pieces) != n_lists or not pieces[-1].endswith(b"]]"):
        return None
    pieces[-1] = pieces[-1][:-2]
    counts = np.fromiter(map(len, pieces), dtype=np.intp, count=n_lists)
    counts = (counts + 1) // 4  # "[[," + "],[," * (n - 1) is 4n - 1 bytes long
    shapes = _PAIR_SHAPES
    for n in set(counts.tolist()):
        if n not in shapes:
            shapes[n] = b"[[," + b"],[," * (n - 1) if n > 0 else b"-"
    if pieces != [shapes[n] for n in counts.tolist()]:
        return None
    return counts
