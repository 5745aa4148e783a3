"""Fast loading of big label documents: vertex lists are cut out of the text before parsing.

Most of a polygon document is its ``"points": [[x, y], ...]`` lists. Parsed as JSON, every
vertex becomes a Python list and two floats (and later a tuple), and building and freeing
those objects costs far more than reading the numbers. :func:`split_vertex_lists` instead

1. finds every ``"points":[[`` in the text and cuts out the list that follows, up to the first
   ``]]``, leaving a *skeleton* in which each list is replaced by its index (``"points":17``);
2. checks that the cut-out text is exactly lists of ``[number, number]`` pairs: without the
   number characters, each list must read ``[[,],[,],...,[,]]`` (nothing else, brackets and
   commas in the right places); with the brackets turned into whitespace, the parser then
   reads one flat list of all numbers, which leaves exactly one number between each two
   commas; and no ``[,`` or ``,]`` (an empty place, whose number would then stand beside it,
   on the wrong side of a bracket: ``[[1,]2,[3,4]]``) puts each number where it belongs;
3. reads all numbers at once into one ``(N, 2)`` float64 array (the numbers are parsed by
   orjson, so what is a valid JSON number and its value are exactly as in the plain path).

The checks are whole-text operations (byte translation, NumPy over the bytes in chunks that
stay in the CPU's cache), not per number.

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

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from .geometry import rings_as_stored

__all__ = ["VertexTable", "split_vertex_lists"]

_KEY = b'"points":[['
_KEY_START = _KEY.index(b"[[")
"""Where the list starts in the key."""
_NUMBER_CHARS = b"0123456789.eE+-"
_BRACKETS_TO_BLANKS = bytes.maketrans(b"[]", b"\t\n")
"""For the parser, brackets become whitespace (the numbers then read as one flat list), of two
kinds (so they can still be told apart)."""
_EMPTY_NUMBERS = (b"\t,", b",\n")
"""``[,`` and ``,]`` with the brackets as whitespace: a number missing where one must be."""
_SHAPES: dict[int, bytes] = {}
_FRAGMENT: Any = getattr(orjson, "Fragment", None)  # orjson >= 3.10: text written as it is
_OPEN, _CLOSE, _MINUS, _POINT, _ZERO, _NINE = b"[]-.09"
_ALL_ONES = np.uint64(2**64 - 1)
_CHUNK = 1 << 19
"""Bytes looked at in one go by the whole-text checks: the masks they make stay in the CPU's
cache (a multiple of 64)."""
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
        source: tuple[bytes, list[int], list[int]] | None = None,
    ) -> None:
        self.xy = xy
        self.counts = counts
        self.source = source
        """The text the lists were cut from and where each list is in it (``[[`` to ``]]``),
        if their numbers are exactly what writing them gives (see
        :func:`_written_as_orjson_writes`), else None."""
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
            if _FRAGMENT is None or self.source is None:
                return None
            data, starts, ends = self.source
            fragments = [_FRAGMENT(data[s:e]) for s, e in zip(starts, ends, strict=True)]
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
    found = _find_lists(data)
    if found is None:
        return None
    starts, ends = found  # list i is data[starts[i] : ends[i]], its "[[" and "]]" included
    m = len(starts)
    view = memoryview(data)
    # all lists as one text, "[[...]],[[...]],...", checked and parsed as a whole
    joined = bytearray(b",").join([view[s:e] for s, e in zip(starts, ends, strict=True)])
    counts = _pair_counts(joined, m)
    if counts is None:
        return None
    numbers_text = joined.translate(_BRACKETS_TO_BLANKS)
    del joined
    numbers_text[0] = _OPEN  # the outer brackets of the first and last list: one flat list
    numbers_text[-1] = _CLOSE
    # with no "e" or "E" (nothing above "9" inside), a "+" cannot be in a valid number
    plain = (
        _FRAGMENT is not None and int(np.frombuffer(numbers_text, np.uint8)[1:-1].max()) <= _NINE
    )
    scan = _scan(numbers_text, plain)
    if scan is None:
        return None
    try:
        numbers = orjson.loads(numbers_text)
        if len(numbers) != 2 * int(counts.sum()):
            return None
        xy = np.fromiter(numbers, dtype=np.float64, count=len(numbers)).reshape(-1, 2)
    except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
        return None  # not JSON numbers (or too big for a double)
    del numbers, numbers_text
    xy.setflags(write=False)
    canonical = scan.points >= 0 and _written_as_orjson_writes(None, xy, scan)
    parts: list[Any] = [b""] * (2 * m + 1)
    cuts = zip([0, *ends], [s - _KEY_START for s in starts] + [len(data)], strict=True)
    parts[0::2] = [view[a:b] for a, b in cuts]
    parts[1::2] = [b'"points":%d' % i for i in range(m)]
    skeleton = b"".join(parts)
    return skeleton, VertexTable(xy, counts, (data, starts, ends) if canonical else None)


def _find_lists(data: bytes) -> tuple[list[int], list[int]] | None:
    """Where the vertex lists are: for each ``"points":[[`` (in text order), the offsets of
    its ``[[`` and of the end of the first ``]]`` after it; None if there are too few lists or
    one has no end."""
    if len(data) < _MIN_LISTS * len(_KEY):
        return None
    a = np.frombuffer(data, dtype=np.uint8)
    opens, closes = _bracket_pairs(a)
    opens = opens[opens >= _KEY_START]
    # the "[[" that end a key: the key cannot overlap itself, so these are all the keys
    is_key = np.ones(len(opens), dtype=np.bool_)
    for k, char in enumerate(_KEY[:_KEY_START]):
        is_key &= a[opens + (k - _KEY_START)] == char
    starts = opens[is_key]
    if len(starts) < _MIN_LISTS:
        return None
    first = np.searchsorted(closes, starts + 2)  # the first "]]" after each "[["
    if first[-1] == len(closes):
        return None
    # (a list running past the next key has its characters, and fails the checks)
    return starts.tolist(), (closes[first] + 2).tolist()


def _bracket_pairs(a: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The sorted offsets of all ``[[`` and of all ``]]`` in ``a`` (overlapping ones too)."""
    found: list[npt.NDArray[np.intp]] = []
    match = np.empty(_CHUNK // 2, dtype=np.bool_)
    masked = np.empty(_CHUNK // 2, dtype="<u2")
    for at in range(0, len(a), _CHUNK):
        # one byte more: the pairs that start in this chunk
        for offset, values in zip((at, at + 1), _as_pairs(a[at : at + _CHUNK + 1]), strict=True):
            n = len(values)
            # "[" and "]" (0x5B, 0x5D) are the same but for 0x06 (like "Y", "_": 0x59, 0x5F)
            np.bitwise_and(values, 0xF9F9, out=masked[:n])
            found.append(np.flatnonzero(np.equal(masked[:n], 0x5959, out=match[:n])) * 2 + offset)
    both = np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.intp)
    first = a[both]
    second = a[both + 1]
    same = first == second
    return both[same & (first == _OPEN)], both[same & (first == _CLOSE)]


def _pair_offsets(a: npt.NDArray[np.uint8], pairs: tuple[bytes, ...]) -> list[npt.NDArray[np.intp]]:
    """For each two-byte string of ``pairs``, the sorted offsets of all its occurrences in
    ``a`` (overlapping ones too)."""
    codes = [int.from_bytes(pair, "little") for pair in pairs]
    found: list[list[npt.NDArray[np.intp]]] = [[] for _ in pairs]
    match = np.empty(_CHUNK // 2, dtype=np.bool_)
    for at in range(0, len(a), _CHUNK):
        # one byte more: the pairs that start in this chunk
        for offset, values in zip((at, at + 1), _as_pairs(a[at : at + _CHUNK + 1]), strict=True):
            m = match[: len(values)]
            for out, code in zip(found, codes, strict=True):
                np.equal(values, code, out=m)
                out.append(np.flatnonzero(m) * 2 + offset)
    return [np.sort(np.concatenate(f)) if f else np.zeros(0, dtype=np.intp) for f in found]


def _as_pairs(a: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
    """The bytes of ``a`` taken two at a time as little-endian 16-bit values, from the first
    byte and from the second (half the work of comparing bytes one by one)."""
    n = len(a)
    if n < 2:
        return np.zeros(0, dtype="<u2"), np.zeros(0, dtype="<u2")
    return a[: n - n % 2].view("<u2"), a[1 : n - 1 + n % 2].view("<u2")


def _pair_counts(joined: bytearray, n_lists: int) -> npt.NDArray[np.intp] | None:
    """Vertices per list of ``joined`` (the lists joined by commas), or None unless each list
    is exactly ``[[a,b],[c,d],...]`` with only number characters for ``a, b, c, d...``.

    Without the number characters, the lists must read ``[[,],[,],...,[,]]``. Whether the
    numbers are valid, and only where they belong (right after a ``[`` or ``,``, right before
    a ``,`` or ``]``), is checked by :func:`_scan` and the JSON parser (see
    :func:`split_vertex_lists`).
    """
    punct = joined.translate(None, _NUMBER_CHARS)
    # "[[" only starts lists: where they start gives how long each one is, and so how it
    # must read ("[[," + "],[," * (n - 1) + "]]" and the comma after it: 4n + 2 bytes)
    (starts,) = _pair_offsets(np.frombuffer(punct, dtype=np.uint8), (b"[[",))
    if len(starts) != n_lists:
        return None
    counts = (np.diff(starts, append=len(punct) + 1) - 2) // 4
    shapes = _SHAPES
    listed = counts.tolist()
    for n in set(listed):
        if n not in shapes:
            shapes[n] = b"[[," + b"],[," * (n - 1) + b"]]"
    if punct != b",".join([shapes[n] for n in listed]):
        return None
    return counts


class _Marks(NamedTuple):
    """Where a text of numbers has points, zeros and separators, as bit arrays (bit ``i`` is
    bit ``i % 64`` of word ``i // 64``, for byte ``i`` of the text; past its end, zeros up to
    the next byte and then only separators, at least a word of them), and how many points it
    has (-1: not looked at, the arrays are empty)."""

    points: int
    point: npt.NDArray[np.uint64]
    zero: npt.NDArray[np.uint64]
    separator: npt.NDArray[np.uint64]


def _scan(text: bytearray, marks: bool) -> _Marks | None:
    """One pass over the numbers text (brackets as whitespace, see ``_BRACKETS_TO_BLANKS``):
    None if a number is missing where one must be (``[,`` or ``,]``), else its
    :class:`_Marks` if ``marks`` (else empty ones)."""
    a = np.frombuffer(text, dtype=np.uint8)
    n = len(a)
    codes = [int.from_bytes(pair, "little") for pair in _EMPTY_NUMBERS]
    size = (n // 64 + 2) * 8  # bytes of bits, a word past the end at least
    point = np.zeros(size if marks else 0, dtype=np.uint8)
    zero = np.zeros_like(point)
    separator = np.full_like(point, 255)
    points = 0
    match = np.empty(_CHUNK // 2, dtype=np.bool_)
    mask = np.empty(_CHUNK, dtype=np.bool_)
    for at in range(0, n, _CHUNK):
        chunk = a[at : at + _CHUNK + 1]  # one byte more: the pairs that start in this chunk
        for values in _as_pairs(chunk):
            m = match[: len(values)]
            for code in codes:
                if np.equal(values, code, out=m).any():
                    return None
        if not marks:
            continue
        chunk = chunk[:_CHUNK]
        mk = mask[: len(chunk)]
        bits = slice(at // 8, at // 8 + (len(chunk) + 7) // 8)
        np.equal(chunk, _POINT, out=mk)
        points += int(np.count_nonzero(mk))
        point[bits] = np.packbits(mk, bitorder="little")
        np.equal(chunk, _ZERO, out=mk)
        zero[bits] = np.packbits(mk, bitorder="little")
        # the number characters left are "-", ".", "0".."9" (45..57): below, the separators
        np.less(chunk, _MINUS, out=mk)
        separator[bits] = np.packbits(mk, bitorder="little")
    if not marks:
        none = np.zeros(0, dtype="<u8")
        return _Marks(-1, none, none, none)
    return _Marks(points, point.view("<u8"), zero.view("<u8"), separator.view("<u8"))


def _plain_decimals(numbers: bytes | bytearray) -> bool:
    """Whether ``numbers`` has no exponent and no plus sign."""
    return not (b"e" in numbers or b"E" in numbers or b"+" in numbers)


def _written_as_orjson_writes(
    numbers: bytes | bytearray | None, xy: npt.NDArray[np.float64], marks: _Marks | None = None
) -> bool:
    """Whether every number of ``numbers`` (the text of the values ``xy``, in order, in one
    pair of brackets, separated by commas and whitespace) is written exactly as orjson writes
    that float, so the text can be written back as it is. ``marks``: those :func:`_scan`
    made of that text, if it has no exponent or plus sign (then ``numbers`` is not needed).

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
    if marks is None:
        assert numbers is not None
        if not _plain_decimals(numbers):
            return False
        marks = _scan(bytearray(numbers), True)
        if marks is None:
            return False
    # (at most 16 characters with the point also keeps magnitudes below 1e15)
    if xy.min() < 1e-5:  # may have a magnitude below 1e-5 (but not 0)
        magnitude = np.abs(xy)
        if not ((magnitude >= 1e-5) | (xy == 0.0)).all():
            return False
    if marks.points != xy.size:  # one point in each (two is not JSON)
        return False
    p, z, s = marks.point, marks.zero, marks.separator
    a, b, spare = np.empty_like(s), np.empty_like(s), np.empty_like(s)
    # a number ending in 0 must end in ".0"
    _move(s, 1, a, spare)
    _move(p, -1, b, spare)
    np.invert(b, out=b)
    a &= b
    a &= z
    if a.any():
        return False
    # at most 15 digits: at most 16 characters with the point (fewer digits with a sign), so
    # among any 17 characters in a row one is a separator
    w = _move(s, 1, a, spare)
    w |= s
    for k in (2, 4, 8):
        w |= _move(w, k, b, spare)
    w |= _move(s, 16, b, spare)
    return bool(w[:-1].min() == _ALL_ONES)  # the last word is past the end


def _move(
    bits: npt.NDArray[np.uint64],
    k: int,
    out: npt.NDArray[np.uint64],
    spare: npt.NDArray[np.uint64],
) -> npt.NDArray[np.uint64]:
    """The bit array ``bits`` (see :class:`_Marks`) moved so that bit ``i`` is what bit
    ``i + k`` was (``0 < |k| < 64``; zeros come in at the ends), into ``out`` (``spare``: an
    array of the same size to use)."""
    if k > 0:
        np.right_shift(bits, np.uint64(k), out=out)
        np.left_shift(bits[1:], np.uint64(64 - k), out=spare[:-1])
        out[:-1] |= spare[:-1]
    else:
        np.left_shift(bits, np.uint64(-k), out=out)
        np.right_shift(bits[:-1], np.uint64(64 + k), out=spare[1:])
        out[1:] |= spare[1:]
    return out
