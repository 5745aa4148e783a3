"""Decoding one frame of pixel data, by the cheapest route that is still exact.

Routes (chosen per file during the header pass):

``native``
    Uncompressed little/big-endian data with 8/16/32-bit samples: read straight from the file at the
    recorded byte offset, then NumPy for byte order, unused high bits (masking / sign
    extension), planar configuration and YBR_FULL -> RGB.
``encapsulated``
    Compressed data in a file: the frame's fragments are read with ``pydicom.encaps.get_frame``
    and decoded by ``pydicom``'s decoder (``Decoder.as_array``), either in this process or in
    a worker process (the bound method and the bytes are picklable).
``pydicom_file``
    Rare uncompressed layouts (1-bit, YBR_FULL_422, 8-bit big-endian OW...):
    ``pydicom.pixels.pixel_array(path, index=frame)``.
``dataset``
    An in-memory dataset (user-supplied datasets, deflated files, files without a transfer
    syntax): ``pydicom.pixels.pixel_array(ds, index=frame)``.

Palette colour is mapped to RGB with ``pydicom.pixels.apply_color_lut`` afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, get_frame
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder, pixel_array
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from ..errors import DicomLoadError, MissingDecoderError

__all__ = [
    "FileLayout",
    "check_decoder",
    "decode_error",
    "decode_local",
    "file_size",
    "pip_hint",
    "pool_task",
    "postprocess",
    "raise_missing_decoder",
]

_JPEG_PKGS = "pylibjpeg pylibjpeg-libjpeg"
_J2K_PKGS = "pylibjpeg pylibjpeg-openjpeg"
_PIP_HINTS: dict[str, str] = {
    JPEGBaseline8Bit: _JPEG_PKGS + "  (or: pillow)",
    JPEGExtended12Bit: _JPEG_PKGS,
    JPEGLossless: _JPEG_PKGS,
    JPEGLosslessSV1: _JPEG_PKGS,
    JPEGLSLossless: "pyjpegls  (or: " + _JPEG_PKGS + ")",
    JPEGLSNearLossless: "pyjpegls  (or: " + _JPEG_PKGS + ")",
    JPEG2000Lossless: _J2K_PKGS,
    JPEG2000: _J2K_PKGS,
    HTJ2KLossless: _J2K_PKGS,
    HTJ2KLosslessRPCL: _J2K_PKGS,
    HTJ2K: _J2K_PKGS,
    RLELossless: "numpy  (or: pylibjpeg-rle)",
}


def pip_hint(ts: str) -> str:
    """The pip packages that provide a decoder for transfer syntax ``ts`` (or ``""``)."""
    return _PIP_HINTS.get(ts, "")


def _ts_label(ts: UID) -> str:
    name = ts.name if ts.name and ts.name != str(ts) else "unknown transfer syntax"
    return f"'{name}' ({ts})"


_decoder_problem_cache: dict[str, str | None] = {}


def check_decoder(ts: UID) -> str | None:
    """Why pixel data in transfer syntax ``ts`` cannot be decoded here, or ``None`` if it can."""
    key = str(ts)
    if key in _decoder_problem_cache:
        return _decoder_problem_cache[key]
    problem: str | None
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        problem = (
            f"its transfer syntax {_ts_label(ts)} has no decoder in pydicom; convert the file "
            "to a supported syntax first (e.g. `dcmdjpeg`/`gdcmconv --raw`)"
        )
    else:
        if decoder.is_available:
            problem = None
        else:
            hint = pip_hint(key)
            missing = "; ".join(decoder.missing_dependencies)
            problem = (
                f"its pixel data uses transfer syntax {_ts_label(ts)} and no decoder plugin "
                f"for it is installed. Install one: pip install {hint or 'pylibjpeg'}"
                + (f" (pydicom lists: {missing})" if missing else "")
            )
    _decoder_problem_cache[key] = problem
    return problem


def raise_missing_decoder(path: str | None, ts: UID, problem: str) -> None:
    """Raise :class:`MissingDecoderError` naming the file and the transfer syntax."""
    where = f"'{path}'" if path else "the dataset"
    raise MissingDecoderError(f"Cannot decode {where}: {problem}.")


@dataclass
class FileLayout:
    """How to get frames out of one file (or in-memory dataset).

    Built by the header pass; picklable except for ``dataset`` (in-memory route only).
    """

    route: str  # 'native' | 'encapsulated' | 'pydicom_file' | 'dataset'
    path: str | None
    transfer_syntax: UID
    rows: int
    columns: int
    samples: int
    photometric: str
    bits_allocated: int
    bits_stored: int
    signed: bool
    planar: int
    n_frames: int
    offset: int = 0  # byte offset of the pixel data value in the file
    float_kind: int = 0  # 0 integer, 4 float32 (FloatPixelData), 8 float64 (DoubleFloatPixelData)
    dataset: Dataset | None = field(default=None, repr=False)
    header: Dataset | None = field(default=None, repr=False)  # for palette LUTs
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    extended_offsets: tuple[Any, Any] | None = field(default=None, repr=False)

    @property
    def is_color(self) -> bool:
        return self.samples > 1 or self.photometric == "PALETTE COLOR"

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.rows, self.columns, 3) if self.is_color else (self.rows, self.columns)

    @property
    def stored_dtype(self) -> np.dtype[Any]:
        """The dtype of a decoded frame (after palette lookup for palette colour)."""
        if self.float_kind:
            return np.dtype(np.float32)
        if self.photometric == "PALETTE COLOR":
            return np.dtype(np.uint8 if _palette_bits(self.header) <= 8 else np.uint16)
        if self.bits_allocated == 1:
            return np.dtype(np.uint8)
        nbytes = {8: 1, 16: 2, 32: 4}.get(self.bits_allocated, 8)
        kind = "i" if self.signed and self.samples == 1 else "u"
        return np.dtype(f"{kind}{nbytes}")

    @property
    def frame_bytes(self) -> int:
        bits = 32 if self.float_kind == 4 else 64 if self.float_kind == 8 else self.bits_allocated
        return self.rows * self.columns * self.samples * bits // 8


def _palette_bits(header: Dataset | None) -> int:
    if header is None:
        return 8
    desc = header.get("RedPaletteColorLookupTableDescriptor")
    try:
        bits = int(desc[2]) if desc is not None else 8
    except (TypeError, IndexError, ValueError):
        bits = 8
    return bits


def _correct_unused_bits(arr: NDArray[Any], shift: int) -> None:
    """Mask (unsigned) or sign-extend (signed) values whose bits above BitsStored are set.

    Same result as pydicom's correction (shift left, then arithmetic shift right), but the
    common case, where the unused bits are already clean, costs one read-only pass.
    """
    bits = arr.dtype.itemsize * 8 - shift
    if arr.dtype.kind == "u":
        if int(arr.max(initial=0)) < (1 << bits):
            return
    else:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if arr.size == 0 or (int(arr.min()) >= lo and int(arr.max()) <= hi):
            return
    np.left_shift(arr, shift, out=arr)
    np.right_shift(arr, shift, out=arr)


_scratch = threading.local()


def _scratch_buffer(nbytes: int) -> NDArray[np.uint8]:
    """A per-thread byte buffer, reused between frames.

    Reading into memory that is already mapped is several times faster than ``np.fromfile``
    (which allocates, and page-faults, a fresh buffer for every frame).
    """
    buf: NDArray[np.uint8] | None = getattr(_scratch, "buf", None)
    if buf is None or buf.size < nbytes:
        buf = np.empty(nbytes, dtype=np.uint8)
        _scratch.buf = buf
    return buf[:nbytes]


def _read_native(layout: FileLayout, frame: int) -> NDArray[Any]:
    """Read one uncompressed frame straight from the file at its byte offset.

    The result may be a view of this thread's scratch buffer: valid until the next call
    in the same thread (callers copy it into the series' cache right away).
    """
    assert layout.path is not None
    le = layout.transfer_syntax.is_little_endian
    if layout.float_kind:
        base = np.dtype(f"f{layout.float_kind}")
    else:
        nbytes = layout.bits_allocated // 8
        kind = "i" if layout.signed and layout.samples == 1 else "u"
        base = np.dtype(f"{kind}{nbytes}")
    dtype = base.newbyteorder("<" if le else ">")
    count = layout.rows * layout.columns * layout.samples
    offset = layout.offset + frame * layout.frame_bytes
    want = count * dtype.itemsize
    buf = _scratch_buffer(want)
    got = 0
    with open(layout.path, "rb", buffering=0) as fp:
        fp.seek(offset)
        view = memoryview(buf.data)
        while got < want:
            n = fp.readinto(view[got:])
            if not n:
                break
            got += n
    if got != want:
        raise DicomLoadError(
            f"'{layout.path}' is truncated: frame {frame} needs {want} bytes of pixel data at "
            f"offset {offset}, the file has {got}."
        )
    arr = buf.view(dtype)
    if not dtype.isnative:
        arr = arr.astype(base)
    if layout.float_kind == 8:
        arr = arr.astype(np.float32)
    elif not layout.float_kind and layout.bits_stored < layout.bits_allocated:
        _correct_unused_bits(arr, layout.bits_allocated - layout.bits_stored)
    if layout.samples == 1:
        return arr.reshape(layout.rows, layout.columns)
    if layout.planar == 1:
        out = np.ascontiguousarray(
            arr.reshape(layout.samples, layout.rows, layout.columns).transpose(1, 2, 0)
        )
    else:
        out = arr.reshape(layout.rows, layout.columns, layout.samples)
    if layout.photometric == "YBR_FULL":
        out = convert_color_space(out, "YBR_FULL", "RGB")
    return out


def _read_frame_bytes(layout: FileLayout, frame: int) -> bytes:
    assert layout.path is not None
    with open(layout.path, "rb") as fp:
        fp.seek(layout.offset)
        return get_frame(
            fp,
            frame,
            number_of_frames=layout.n_frames,
            extended_offsets=layout.extended_offsets,
        )


def _single_frame_options(layout: FileLayout) -> dict[str, Any]:
    opts = dict(layout.options)
    opts["number_of_frames"] = 1
    opts.pop("extended_offsets", None)
    return opts


def decode_local(layout: FileLayout, frame: int) -> NDArray[Any]:
    """Decode one frame in the calling thread (raw stored values, before palette lookup).

    Raises
    ------
    DicomLoadError
        With the file, frame and reason in words; the original exception is chained.
    """
    try:
        if layout.route == "native":
            return _read_native(layout, frame)
        if layout.route == "encapsulated":
            data = _read_frame_bytes(layout, frame)
            decoder = get_decoder(layout.transfer_syntax)
            arr, _ = decoder.as_array(encapsulate([data]), index=0, **_single_frame_options(layout))
            return arr
        if layout.route == "pydicom_file":
            assert layout.path is not None
            return pixel_array(layout.path, index=frame)
        assert layout.dataset is not None
        return pixel_array(layout.dataset, index=frame)
    except DicomLoadError:
        raise
    except Exception as exc:
        raise decode_error(layout, frame, exc) from exc


def pool_task(
    layout: FileLayout, frame: int
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None:
    """A picklable (callable, args, kwargs) decoding one frame in a worker, or ``None``.

    Only compressed frames are worth a worker; the encoded bytes are read here.
    """
    if layout.route != "encapsulated":
        return None
    try:
        data = _read_frame_bytes(layout, frame)
    except Exception as exc:
        raise decode_error(layout, frame, exc) from exc
    decoder = get_decoder(layout.transfer_syntax)
    kwargs = _single_frame_options(layout)
    kwargs["index"] = 0
    return decoder.as_array, (encapsulate([data]),), kwargs


def decode_error(layout: FileLayout, frame: int, exc: BaseException) -> DicomLoadError:
    """A :class:`DicomLoadError` explaining a failed decode in words a user can act on."""
    where = f"'{layout.path}'" if layout.path else "the in-memory dataset"
    frame_txt = f" (frame {frame + 1} of {layout.n_frames})" if layout.n_frames > 1 else ""
    ts = _ts_label(layout.transfer_syntax)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (EOFError, ValueError)) and (
        "end of" in text.lower() or "truncat" in text.lower() or "eof" in text.lower()
    ):
        reason = "the pixel data is truncated (the file ends before the frame does)"
    elif isinstance(exc, (EOFError,)):
        reason = "the pixel data is truncated (unexpected end of file)"
    elif isinstance(exc, OSError):
        reason = f"the file could not be read ({exc.strerror or text})"
    else:
        reason = f"the decoder failed: {text}"
    return DicomLoadError(f"Cannot decode {where}{frame_txt}, transfer syntax {ts}: {reason}.")


def postprocess(layout: FileLayout, arr: NDArray[Any]) -> NDArray[Any]:
    """Map a decoded frame to the layout's frame shape and stored dtype (palette -> RGB)."""
    if layout.photometric == "PALETTE COLOR" and arr.ndim == 2:
        assert layout.header is not None
        arr = apply_color_lut(arr, layout.header)
    if layout.float_kind == 8 or arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    if arr.ndim == 3 and arr.shape[-1] == 4 and layout.is_color:
        arr = arr[..., :3]
    expected = layout.frame_shape
    if arr.shape != expected:
        where = f"'{layout.path}'" if layout.path else "the dataset"
        raise DicomLoadError(
            f"Decoded pixel data of {where} has shape {arr.shape}, but its header "
            f"(Rows, Columns, SamplesPerPixel) says {expected}."
        )
    dtype = layout.stored_dtype
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def file_size(path: str) -> int:
    """Size of ``path`` in bytes (0 if it cannot be stat'ed)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
