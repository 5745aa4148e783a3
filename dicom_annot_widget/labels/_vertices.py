"""Fast loading of big label documents: vertex lists are cut out of the text before parsing.

Most of a polygon document is its ``"points": [[x, y], ...]`` lists. Parsed as JSON, every
vertex becomes a Python list and two floats (and later a tuple), and building and freeing
those objects costs far more than reading the numbers. :func:`split_vertex_lists` instead

1. finds every ``"points":[[`` in the text and cuts out the list that follows, up to the first
   ``]]``, leaving a *skeleton* in which each list is replaced by its index (``"points":17``);
2. finds all commas of the cut-out lists in one whole-text pass: a list of ``n`` pairs
   ``[[x,y],[x,y],...]`` holds ``2n - 1``, so they alone say where each pair must be; a ``[``
   and a ``]`` must stand just there, and the numbers are the bytes between them and the
   pair's comma (so every byte is a comma, a bracket where one must be, or in a number, and
   is then read as one: nothing can stand elsewhere, as in ``[[1,2]5,[3,4]]``);
3. reads all numbers into one ``(N, 2)`` float64 array: when every number is a short plain
   decimal (at most 8 characters with one point, ``-12.375``: what the label model writes), all
   at once with 64-bit integer arithmetic on the 8 bytes that end each number (see
   :func:`_short_decimals`); otherwise the numbers are parsed by orjson. Either way a number's
   value is what a JSON parser gives: the decimal rounded to the nearest double.

The whole-text steps are NumPy operations over the bytes or over all numbers at once, in
chunks that stay in the CPU's cache, never a Python step per number.

The skeleton is then parsed and validated as usual, with the :class:`VertexTable` standing in
for the lists: keyframes take their rings as array views (no per-vertex Python objects), in
the order they appear, and :meth:`VertexTable.verify` checks all rings at once.

This is only a fast path. Whatever it does not expect (whitespace inside a list, a number
that is not JSON, a ``"points"`` key somewhere unexpected, a placeholder not taken exactly once
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
"""For orjson, brackets become whitespace (the numbers then read as one flat list)."""
_LEAD = 8
"""Bytes before the first list in the joined text of all lists: the 8 bytes that end a number
(see :func:`_short_decimals`) are then always inside the text."""
_SHAPES: dict[int, bytes] = {}
"""Vertex count -> the brackets and commas of a list of that many pairs (for orjson)."""
_FRAGMENT: Any = getattr(orjson, "Fragment", None)  # orjson >= 3.10: text written as it is
_OPEN, _CLOSE, _COMMA, _MINUS, _POINT, _ZERO = b"[],-.0"
_ALL_ONES = np.uint64(2**64 - 1)
_CHUNK = 1 << 19
"""Bytes looked at in one go by the whole-text passes: what they make stays in the CPU's cache
(a multiple of 64)."""
_NUMBERS_CHUNK = 1 << 14
"""Numbers read in one go by :func:`_short_decimals`: its 64-bit arrays stay in the cache (by
measurement, twice or half as many is slower)."""
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
    # all lists as one text, after _LEAD bytes (blanks and a comma): "       ,[[...]],[[...]]"
    lists = [view[s:e] for s, e in zip(starts, ends, strict=True)]
    joined = b",".join([b" " * (_LEAD - 1), *lists])
    del lists
    slots = _number_slots(joined, [e - s for s, e in zip(starts, ends, strict=True)])
    if slots is None:
        return None
    read = _read_short_decimals(joined, slots)
    if read is None:
        read = _read_with_orjson(joined, slots)
        if read is None:
            return None
    xy, canonical = read
    xy.setflags(write=False)
    parts: list[Any] = [b""] * (2 * m + 1)
    cuts = zip([0, *ends], [s - _KEY_START for s in starts] + [len(data)], strict=True)
    parts[0::2] = [view[a:b] for a, b in cuts]
    parts[1::2] = [b'"points":%d' % i for i in range(m)]
    skeleton = b"".join(parts)
    source = (data, starts, ends) if canonical and _FRAGMENT is not None else None
    return skeleton, VertexTable(xy, slots.counts, source)


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


def _as_pairs(a: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
    """The bytes of ``a`` taken two at a time as little-endian 16-bit values, from the first
    byte and from the second (half the work of comparing bytes one by one)."""
    n = len(a)
    if n < 2:
        return np.zeros(0, dtype="<u2"), np.zeros(0, dtype="<u2")
    return a[: n - n % 2].view("<u2"), a[1 : n - 1 + n % 2].view("<u2")


class _Slots(NamedTuple):
    """Where the numbers are in the joined text of all lists (see :func:`_number_slots`)."""

    counts: npt.NDArray[np.intp]
    """Pairs per list."""
    commas: npt.NDArray[np.intp]
    """The offsets of all commas from the one before the first list on, and the end of the
    text: those before, inside and after pair ``v`` are ``commas[2v : 2v + 3]``."""
    first: npt.NDArray[np.bool_]
    """Per pair, whether it is the first of its list (a ``[`` more before it)."""
    last: npt.NDArray[np.bool_]
    """Per pair, whether it is the last of its list (a ``]`` more after it)."""


def _number_slots(joined: bytes, sizes: list[int]) -> _Slots | None:
    """Where the pairs and their numbers are in ``joined`` (``_LEAD`` bytes ending in a comma,
    then lists of ``sizes`` bytes joined by commas), if its commas are those of lists of
    pairs; else None.

    A list of ``n`` pairs, ``[[x,y],[x,y],...,[x,y]]``, holds ``2n - 1`` commas, and one
    follows it (or the text ends), so the commas alone say where each pair is: pair ``v``
    lies between commas ``2v`` and ``2v + 2``, its ``x`` ends at comma ``2v + 1`` and its
    ``y`` starts after it. :func:`_number_bounds` checks that a ``[`` and a ``]`` stand just
    where they then must, so every byte of the lists is a comma, one of those brackets or
    (each list being ``[[...]]``) one of its own, or in a number; and the numbers are then
    read as numbers (whose characters exclude all of these).
    """
    a = np.frombuffer(joined, dtype=np.uint8)
    commas = _commas(a)
    begins = np.cumsum([_LEAD, *[size + 1 for size in sizes[:-1]]])
    first_comma = np.searchsorted(commas, begins)
    per_list = np.diff(first_comma, append=len(commas))  # 2n: its own and the one after it
    counts = per_list // 2
    if counts.min() < 1 or (per_list % 2).any():
        return None
    pairs = int(counts.sum())
    starts = np.cumsum(counts) - counts
    first = np.zeros(pairs, dtype=np.bool_)
    first[starts] = True
    last = np.zeros(pairs, dtype=np.bool_)
    last[starts + counts - 1] = True
    return _Slots(counts, commas, first, last)


def _commas(a: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """The sorted offsets of every comma in ``a`` from ``_LEAD - 1`` on, and ``len(a)``."""
    found: list[npt.NDArray[np.intp]] = []
    mask = np.empty(_CHUNK, dtype=np.bool_)
    for at in range(_LEAD - 1, len(a), _CHUNK):
        chunk = a[at : at + _CHUNK]
        n = len(chunk)
        np.equal(chunk, _COMMA, out=mask[:n])
        offsets = np.flatnonzero(mask[:n])
        offsets += at
        found.append(offsets)
    found.append(np.array([len(a)], dtype=np.intp))
    return np.concatenate(found)


def _number_bounds(
    a: npt.NDArray[np.uint8], slots: _Slots, start: int, stop: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """Where the numbers of pairs ``start`` to ``stop`` end in the joined text ``a``, and their
    lengths (all their ``x``, then all their ``y``); None unless each pair is ``[x,y]``
    between its commas (see :func:`_number_slots`). (An empty number, ``[,`` or ``,]``, is
    not a number: both readers refuse it.)"""
    commas = slots.commas
    before = commas[2 * start : 2 * stop : 2]
    inside = commas[2 * start + 1 : 2 * stop + 1 : 2]
    after = commas[2 * start + 2 : 2 * stop + 2 : 2]
    opens = before + 1 + slots.first[start:stop]  # ",[" or ",[["
    closes = after - 1 - slots.last[start:stop]  # "]," or "]],"
    if not ((a[opens] == _OPEN).all() and (a[closes] == _CLOSE).all()):
        return None
    ends = np.concatenate((inside, closes))
    lengths = ends - np.concatenate((opens, inside))
    lengths -= 1
    return ends, lengths


def _read_short_decimals(
    joined: bytes, slots: _Slots
) -> tuple[npt.NDArray[np.float64], bool] | None:
    """The numbers as an ``(N, 2)`` array if each is a short plain decimal (see
    :func:`_short_decimals`) and each pair is where :func:`_number_slots` puts it, and whether
    each is written as orjson writes it; else None."""
    a = np.frombuffer(joined, dtype=np.uint8)
    n = len(slots.first)
    # the 8 bytes from each offset, as little-endian 64-bit integers (unaligned, not copied)
    windows = np.ndarray((len(joined) - 7,), dtype="<u8", buffer=joined, strides=(1,))
    xy = np.empty((n, 2))
    canonical = True
    signed = b"-" in joined  # (a label model's coordinates are seldom below 0)
    step = _NUMBERS_CHUNK // 2
    for at in range(0, n, step):
        stop = min(at + step, n)
        bounds = _number_bounds(a, slots, at, stop)
        if bounds is None:
            return None
        ends, lengths = bounds
        ends -= 8
        read = _short_decimals(windows[ends], lengths.astype(np.uint64), signed)
        if read is None:
            return None
        values, written = read
        xy[at:stop, 0] = values[: stop - at]
        xy[at:stop, 1] = values[stop - at :]
        canonical = canonical and written
    return xy, canonical and _plain_magnitudes(xy)


# bytes of a 64-bit integer at once: all 0x80 bits, all 0x7F...
_HIGH_BITS = np.uint64(0x8080808080808080)
_LOW_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_SIXES = np.uint64(0x0606060606060606)
_THREES = np.uint64(0x3333333333333333)
_ZEROS = np.uint64(0x3030303030303030)  # "00000000"
_POINTS = np.uint64(0x2E2E2E2E2E2E2E2E)  # "........"
_PAIRS = np.uint64(0x00FF00FF00FF00FF)
_FOURS = np.uint64(0x0000FFFF0000FFFF)
_BYTE_INDEX = np.uint64(0x0001020304050607)
"""``(1 << 8k) * _BYTE_INDEX >> 56 == k``: the top byte of the product is byte ``7 - k``."""
_TENS = np.concatenate((10.0 ** np.arange(8), -(10.0 ** np.arange(8))))
"""``10**f`` at ``f``, ``-10**f`` at ``8 + f``."""
_U = np.uint64


def _short_decimals(
    w: npt.NDArray[np.uint64], lengths: npt.NDArray[np.uint64], signed: bool = True
) -> tuple[npt.NDArray[np.float64], bool] | None:
    """The values of numbers, each given by the 8 bytes that end it (``w``, little-endian, so
    its last character is the top byte) and its length, if every one is a plain decimal of at
    most 8 characters, ``-?(0|[1-9][0-9]*)\\.[0-9]+`` as JSON writes it; else None. Also
    whether all are written as orjson writes them (no trailing zero after the point, except
    in ``x.0``). Without ``signed``, no number may have a minus sign (none is looked for).

    The eight bytes of a number are handled at once, as one 64-bit integer ("SIMD within a
    register"), for all numbers at once:

    1. the bytes before the number, and its minus sign, become ``0`` (leading zeros change no
       value);
    2. the point must be there exactly once, after the first digit and before the last; the
       bytes below it move up one byte into its place (the lowest becomes ``0``), so the
       eight bytes are the digits of the number without its point, the last ``f`` of them
       (``7 -`` the point's byte) after the point;
    3. all eight bytes must now be digits (so nothing else was in the number), and a first
       digit ``0`` must be followed by the point (JSON allows no leading zeros);
    4. the digits are read as an integer ``m`` in three multiply-and-shift steps (pairs of
       digits, then fours, then all eight), and the value is ``m / 10**f`` (``m / -10**f``
       with a minus): ``m < 10**7`` and ``10**f`` are exact doubles, so the division's one
       rounding gives the double nearest the decimal, which is what a JSON parser gives.
    """
    # 1. (a length above 8 makes `first` wrap around: shifting by 64 or more gives 0)
    first = _U(64) - (lengths << _U(3))  # bit offset of the first character
    digits_from = first  # bit offset of the first digit
    if signed:  # 8 for a negative number (its minus is a byte), else 0
        sign = (((w >> first) & _U(0xFF)) == _U(_MINUS)).astype(_U) << _U(3)
        digits_from = first + sign
    w = _ZEROS ^ ((w ^ _ZEROS) & (_ALL_ONES << digits_from))
    # 2. a byte of x is zero exactly where w has a point: then adding 0x7F to its low 7 bits
    # leaves its top bit clear (this carries into no other byte)
    x = w ^ _POINTS
    unit = (~(((x & _LOW_BITS) + _LOW_BITS) | x) & _HIGH_BITS) >> _U(7)  # 1 in each point's byte
    ok = lengths <= _U(8)
    # a point after the first digit and before the last byte (none: unit is 0); with more
    # than one, the highest stays in d below and fails step 3
    ok &= (unit > (_U(1) << digits_from)) & (unit < (_U(1) << _U(56)))
    below = (unit << _U(8)) - _U(1)  # the point's byte and the bytes below it
    d = w ^ ((w ^ ((w << _U(8)) | _U(_ZERO))) & below)
    # 3. a byte is a digit when its high nibble is 3, and still is after adding 6 (0x3A..0x3F
    # are not); a carry out of one byte needs a byte above 0xF9, which fails the first test
    ok &= ((d & _HIGH_NIBBLES) | (((d + _SIXES) & _HIGH_NIBBLES) >> _U(4))) == _THREES
    lead = (w >> digits_from) & _U(0xFFFF)  # the first digit and the byte after it
    ok &= ((lead & _U(0xFF)) != _U(_ZERO)) | (lead == _U(_POINT << 8 | _ZERO))
    if not ok.all():
        return None
    # 4. digit values 0..9 in each byte; 10 * each even-placed one added to the next, pairs
    # (0..99) in the odd bytes moved to 16-bit places; then 100 * pair + pair; 10000 * ...
    m = ((d & _LOW_NIBBLES) * _U(10 << 8 | 1)) >> _U(8)
    m = ((m & _PAIRS) * _U(100 << 16 | 1)) >> _U(16)
    m = ((m & _FOURS) * _U(10000 << 32 | 1)) >> _U(32)
    point = (unit * _BYTE_INDEX) >> _U(56)  # 1..6
    powers = _U(7) - point  # f
    if signed:
        powers += sign  # the divisor's sign too: -10**f (m / -10**f is -(m / 10**f), also for 0)
    values = m.astype(np.float64) / _TENS.take(powers.view(np.int64))
    # no trailing zero, but in "x.0" (point in byte 6)
    written = ((w >> _U(56)) != _U(_ZERO)) | (point == _U(6))
    return values, bool(written.all())


def _read_with_orjson(joined: bytes, slots: _Slots) -> tuple[npt.NDArray[np.float64], bool] | None:
    """The numbers as an ``(N, 2)`` array, parsed by orjson (any JSON number, such as ``1e3``
    or ``12``), and whether their text is what writing them gives; None if a pair is not where
    :func:`_number_slots` puts it or a number is not a JSON number."""
    a = np.frombuffer(joined, dtype=np.uint8)
    n = len(slots.first)
    for at in range(0, n, _NUMBERS_CHUNK):
        if _number_bounds(a, slots, at, min(at + _NUMBERS_CHUNK, n)) is None:
            return None
    listed = slots.counts.tolist()
    shapes = _SHAPES
    for k in set(listed):
        if k not in shapes:
            shapes[k] = b"[[," + b"],[," * (k - 1) + b"]]"
    text = bytearray(joined[_LEAD:])
    if text.translate(None, _NUMBER_CHARS) != b",".join([shapes[k] for k in listed]):
        return None  # something else than number characters (such as whitespace)
    # each number alone between two brackets or commas: with the brackets turned into
    # whitespace, the parser reads one flat list of all of them
    text = text.translate(_BRACKETS_TO_BLANKS)
    text[0] = _OPEN
    text[-1] = _CLOSE
    try:
        numbers = orjson.loads(text)
        if len(numbers) != 2 * n:
            return None
        values = np.fromiter(numbers, dtype=np.float64, count=2 * n)
    except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
        return None  # not JSON numbers (or too big for a double)
    xy = values.reshape(-1, 2)
    return xy, _written_as_orjson_writes(text, xy)


class _Marks(NamedTuple):
    """Where a text of numbers has points, zeros and separators, as bit arrays (bit ``i`` is
    bit ``i % 64`` of word ``i // 64``, for byte ``i`` of the text; past its end, zeros up to
    the next byte and then only separators, at least a word of them), and how many points it
    has."""

    points: int
    point: npt.NDArray[np.uint64]
    zero: npt.NDArray[np.uint64]
    separator: npt.NDArray[np.uint64]


def _marks(text: bytes | bytearray) -> _Marks:
    """The :class:`_Marks` of a text of numbers (brackets as whitespace)."""
    a = np.frombuffer(text, dtype=np.uint8)
    n = len(a)
    size = (n // 64 + 2) * 8  # bytes of bits, a word past the end at least
    point = np.zeros(size, dtype=np.uint8)
    zero = np.zeros_like(point)
    separator = np.full_like(point, 255)
    points = 0
    mask = np.empty(_CHUNK, dtype=np.bool_)
    for at in range(0, n, _CHUNK):
        chunk = a[at : at + _CHUNK]
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
    return _Marks(points, point.view("<u8"), zero.view("<u8"), separator.view("<u8"))


def _plain_decimals(numbers: bytes | bytearray) -> bool:
    """Whether ``numbers`` has no exponent and no plus sign."""
    return not (b"e" in numbers or b"E" in numbers or b"+" in numbers)


def _plain_magnitudes(xy: npt.NDArray[np.float64]) -> bool:
    """Whether orjson writes every value of ``xy`` without an exponent, as far as the
    magnitude goes: 0, or from 1e-5 (and below 1e16, which texts of at most 16 characters
    keep to)."""
    if xy.size and xy.min() < 1e-5:  # may have a magnitude below 1e-5 (but not 0)
        magnitude = np.abs(xy)
        return bool(((magnitude >= 1e-5) | (xy == 0.0)).all())
    return True


def _written_as_orjson_writes(numbers: bytes | bytearray, xy: npt.NDArray[np.float64]) -> bool:
    """Whether every number of ``numbers`` (the text of the values ``xy``, in order, in one
    pair of brackets, separated by commas and whitespace) is written exactly as orjson writes
    that float, so the text can be written back as it is.

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
    if not _plain_decimals(numbers) or not _plain_magnitudes(xy):
        return False
    marks = _marks(numbers)
    # (at most 16 characters with the point also keeps magnitudes below 1e15)
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
