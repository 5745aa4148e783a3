"""Header pass: read every file's header fast, describe its frames, group frames into stacks.

No pixel data is decoded here. Each file is parsed once with
``dcmread(fp, stop_before_pixels=True, defer_size=...)``; the pixel data element's header is
read at the position where pydicom stopped, which gives the byte offset used later by the
native decoder. Files that are not usable images are returned with a reason instead of a
record, so a folder with one bad file still loads.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import io
import math
import os
import re
import stat
import struct
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import (
    UID,
    AllTransferSyntaxes,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    generate_uid,
)

from ._decode import FileLayout, check_decoder
from ._values import float_values, int_value, quiet_value_checks, raw_key, str_value, str_values

__all__ = [
    "FileRecord",
    "FrameRecord",
    "ScanResult",
    "StackGroup",
    "UidSubstitution",
    "collect_paths",
    "group_records",
    "read_headers",
    "record_from_dataset",
]

# Elements larger than this are not read during the header pass (read on demand later).
_DEFER = 4096
# Bytes read and parsed from memory per file; longer headers are parsed from the file.
_HEAD = 65536
# I/O threads read file heads ahead of the parser, _CHUNK files per task.
_CHUNK = 16
_CHUNKS_AHEAD = 4
# Reading a file head slower than this (s) means slow storage: read ahead in threads.
_SLOW_IO_SECONDS = 0.005
_PIXEL_TAGS = {0x7FE00010: 0, 0x7FE00008: 4, 0x7FE00009: 8}
_FAST_PHOTOMETRIC = {"MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR", "YBR_FULL"}
_ORIENTATION_TOL = 1e-3

# tags used in the hot path
T_SOP_CLASS = 0x00080016
T_SOP_INSTANCE = 0x00080018
T_STUDY_DATE = 0x00080020
T_STUDY_TIME = 0x00080030
T_ACCESSION = 0x00080050
T_MODALITY = 0x00080060
T_STUDY_DESC = 0x00081030
T_SERIES_DESC = 0x0008103E
T_PATIENT_ID = 0x00100020
T_SLICE_THICKNESS = 0x00180050
T_SPACING_BETWEEN = 0x00180088
T_GANTRY_TILT = 0x00181120
T_IMAGER_SPACING = 0x00181164
T_MAG_FACTOR = 0x00181114
T_STUDY_UID = 0x0020000D
T_SERIES_UID = 0x0020000E
T_STUDY_ID = 0x00200010
T_SERIES_NUMBER = 0x00200011
T_INSTANCE_NUMBER = 0x00200013
T_PATIENT_ORIENTATION = 0x00200020
T_IPP = 0x00200032
T_IOP = 0x00200037
T_FOR_UID = 0x00200052
T_SAMPLES = 0x00280002
T_PHOTOMETRIC = 0x00280004
T_FRAMES = 0x00280008
T_ROWS = 0x00280010
T_COLUMNS = 0x00280011
T_PIXEL_SPACING = 0x00280030
T_PLANAR = 0x00280006
T_BITS_ALLOCATED = 0x00280100
T_BITS_STORED = 0x00280101
T_PIXEL_REPR = 0x00280103
T_INTERCEPT = 0x00281052
T_SLOPE = 0x00281053
T_GRID_OFFSETS = 0x3004000C
T_DOSE_SCALING = 0x3004000E
T_MEDIA_SOP_INSTANCE = 0x00020003
T_US_REGIONS = 0x00186011
T_SHARED_FG = 0x52009229
T_PER_FRAME_FG = 0x52009230
T_EXT_OFFSETS = 0x7FE00001
T_EXT_LENGTHS = 0x7FE00002


#: What a UID may hold (PS3.5 9.1: digits and dots, at most 64 characters).
_UID_TEXT = re.compile(r"[0-9.]{1,64}")


class Unusable(Exception):
    """A file that is not a usable image; ``reason`` says why in words."""

    def __init__(self, reason: str, kind: str = "bad") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # 'not_dicom' | 'no_pixels' | 'dicomdir' | 'bad'


@dataclass(frozen=True)
class UidSubstitution:
    """A UID the loader had to make up or borrow, and why.

    Attributes
    ----------
    keyword
        The attribute substituted (``"StudyInstanceUID"``, ``"SeriesInstanceUID"``,
        ``"SOPInstanceUID"``).
    substitute
        The UID used instead (for SOPInstanceUID: ``"(per file)"``).
    reason
        A sentence saying what was wrong and where the substitute comes from.
    count
        Number of files affected.
    """

    keyword: str
    substitute: str
    reason: str
    count: int

    def to_dict(self) -> dict[str, str | int]:
        """JSON-safe form."""
        return {
            "keyword": self.keyword,
            "substitute": self.substitute,
            "reason": self.reason,
            "count": self.count,
        }


@dataclass
class FrameRecord:
    """One frame (slice) of one file."""

    file: FileRecord
    frame: int
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    spacing_source: str
    slope: float
    intercept: float
    fg_item: Dataset | None = None  # per-frame functional group item (enhanced multi-frame)

    def sort_key(self) -> tuple[float, float, float]:
        inst = self.file.instance_number
        return (
            math.inf if inst is None else float(inst),
            float(self.file.index),
            float(self.frame),
        )


@dataclass
class FileRecord:
    """Header facts of one file (or in-memory dataset)."""

    index: int
    path: str | None
    ds: Dataset
    layout: FileLayout
    study_uid: str
    series_uid: str
    sop_uid: str
    media_sop_uid: str
    sop_class_uid: str
    for_uid: str
    modality: str
    series_number: int | None
    instance_number: int | None
    frames: list[FrameRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decode_problem: str | None = None

    @property
    def label(self) -> str:
        return f"'{self.path}'" if self.path else f"dataset #{self.index}"


@dataclass
class StackGroup:
    """Frames that form one displayable stack (one series, one orientation, one matrix)."""

    study_uid: str
    series_uid: str
    frames: list[FrameRecord]
    stack: int = 0
    n_stacks: int = 1
    substitutions: list[UidSubstitution] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> FileRecord:
        return self.frames[0].file

    @property
    def n_slices(self) -> int:
        return len(self.frames)

    @property
    def rows(self) -> int:
        return self.first.layout.rows

    @property
    def columns(self) -> int:
        return self.first.layout.columns

    @property
    def modality(self) -> str:
        return self.first.modality

    @property
    def description(self) -> str:
        return text_of(self.first.ds, "SeriesDescription")

    @property
    def series_number(self) -> int | None:
        return self.first.series_number

    @property
    def files(self) -> list[str]:
        seen: dict[str, None] = {}
        for fr in self.frames:
            if fr.file.path:
                seen.setdefault(fr.file.path, None)
        return list(seen)

    @property
    def label(self) -> str:
        desc = self.description
        num = self.series_number
        parts = []
        if num is not None:
            parts.append(f"#{num}")
        if desc:
            parts.append(f"'{desc}'")
        if not parts:
            parts.append(self.first.label)
        if self.n_stacks > 1:
            parts.append(f"stack {self.stack + 1}/{self.n_stacks}")
        return "series " + " ".join(parts)


@dataclass
class ScanResult:
    """All stacks found, plus files skipped and why."""

    stacks: list[StackGroup]
    skipped: list[tuple[str, str]]
    non_image: list[tuple[str, str]]


def text_of(ds: Dataset, keyword: str) -> str:
    try:
        with quiet_value_checks():  # (a description longer than its VR allows is read as it is)
            value = ds.get(keyword)
    except Exception:
        return ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


# --------------------------------------------------------------------------- paths


def collect_paths(folder: str) -> list[str]:
    """All regular files under ``folder`` (recursive, sorted, hidden files/dirs skipped)."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            out.append(os.path.join(root, name))
    return out


# --------------------------------------------------------------------------- one file


def _infer_ts(ds: Dataset) -> UID:
    enc = getattr(ds, "original_encoding", None)
    implicit, little = enc if enc and None not in enc else (True, True)
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _pixel_element_header(head: bytes, ts: UID) -> tuple[int, str | None, int, int] | None:
    """Parse the pixel data element header at the stop position: (tag, VR, length, size)."""
    if len(head) < 8:
        return None
    endian = "<" if ts.is_little_endian else ">"
    group, elem = struct.unpack(endian + "HH", head[:4])
    tag = group << 16 | elem
    if tag not in _PIXEL_TAGS:
        return None
    if ts.is_implicit_VR:
        (length,) = struct.unpack(endian + "L", head[4:8])
        return tag, None, length, 8
    vr = head[4:6].decode("latin-1")
    if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "UT", "SQ", "UC", "UR"):
        if len(head) < 12:
            return None
        (length,) = struct.unpack(endian + "L", head[8:12])
        return tag, vr, length, 12
    (length,) = struct.unpack(endian + "H", head[6:8])
    return tag, vr, length, 8


_ARCHIVES = (
    (b"\x1f\x8b", "is gzip-compressed, not a DICOM file (decompress it first)"),
    (b"PK\x03\x04", "is a ZIP archive, not a DICOM file (extract it first)"),
)


def _not_dicom(fp: Any) -> Unusable:
    fp.seek(0)
    start = fp.read(4)
    for magic, reason in _ARCHIVES:
        if start.startswith(magic):
            return Unusable(reason, "not_dicom")
    return Unusable("is not a DICOM file", "not_dicom")


def _parse(fp: Any) -> tuple[Dataset, int]:
    """dcmread up to the pixel data; returns the dataset and the stop position."""
    try:
        ds = dcmread(fp, stop_before_pixels=True, defer_size=_DEFER)
    except InvalidDicomError:
        fp.seek(0)
        try:
            ds = dcmread(fp, stop_before_pixels=True, defer_size=_DEFER, force=True)
        except Exception as exc:
            raise _not_dicom(fp) from exc
        if not _looks_like_image_dataset(ds):
            raise _not_dicom(fp) from None
    return ds, fp.tell()


def read_head(path: str) -> tuple[bytes, int] | OSError:
    """The first ``_HEAD`` bytes of a file and its size (pure I/O: run it in threads)."""
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (it is refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fp:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return OSError(errno.EINVAL, "not a regular file (a named pipe, socket or device)")
            return fp.read(_HEAD), st.st_size
    except OSError as exc:
        return exc


def _read_dataset(
    path: str, head_and_size: tuple[bytes, int] | OSError | None = None
) -> tuple[Dataset, int, bytes, int]:
    """Parse the header of ``path``.

    Returns
    -------
    tuple
        (dataset, offset of the pixel data element, 16 bytes from there, file size).
        The first ``_HEAD`` bytes are parsed from memory (much faster than a buffered file);
        a header that does not fit is parsed again from the file.
    """
    try:
        if head_and_size is None:
            head_and_size = read_head(path)
        if isinstance(head_and_size, OSError):
            raise head_and_size
        head, size = head_and_size
        ds: Dataset | None = None
        pos = 0
        probe = b""
        try:
            ds, pos = _parse(io.BytesIO(head))
            probe = head[pos : pos + 16]
        except Exception:
            if size <= len(head):
                raise
        if size > len(head) and (ds is None or not _at_pixel_tag(probe)):
            with open(path, "rb") as fp:
                ds, pos = _parse(fp)
                probe = fp.read(16)
    except Unusable:
        raise
    except IsADirectoryError as exc:
        raise Unusable("is a folder, not a file", "not_dicom") from exc
    except OSError as exc:
        raise Unusable(f"cannot be read ({exc.strerror or exc})", "bad") from exc
    except Exception as exc:  # pydicom parse failure deep inside a header
        raise Unusable(
            f"has a corrupt or truncated header ({type(exc).__name__}: {exc})", "bad"
        ) from exc
    assert ds is not None
    # deferred values are read from the file on demand, not from the head in memory: a
    # series keeps its datasets, and each one would keep its file's first 64 KiB with it
    # (19 MB for 300 files, held as long as the series)
    ds.filename = path
    ds.buffer = None
    ds.fileobj_type = open
    return ds, pos, probe, size


def _at_pixel_tag(probe: bytes) -> bool:
    if len(probe) < 8:
        return False
    for endian in "<>":
        group, elem = struct.unpack(endian + "HH", probe[:4])
        if (group << 16 | elem) in _PIXEL_TAGS:
            return True
    return False


def _looks_like_image_dataset(ds: Dataset) -> bool:
    """A forced (no preamble / no meta) read is accepted only if it parsed real attributes."""
    try:
        if len(ds) < 3:
            return False
        has_ids = bool(str_value(ds, T_SOP_CLASS)) or bool(str_value(ds, T_MODALITY))
        has_pixels = int_value(ds, T_ROWS) is not None and int_value(ds, T_COLUMNS) is not None
        return has_ids or has_pixels
    except Exception:
        return False


def _sop_class_name(uid: str) -> str:
    if not uid:
        return ""
    name = UID(uid).name
    return name if name != uid else ""


def _pixel_size(ds: Dataset, pixel_tag: int) -> tuple[int | None, int | None, int | None, int]:
    """Rows, Columns, BitsAllocated (32 or 64 for float pixel data) and the float kind."""
    rows = int_value(ds, T_ROWS)
    cols = int_value(ds, T_COLUMNS)
    bits_allocated = int_value(ds, T_BITS_ALLOCATED)
    float_kind = _PIXEL_TAGS[pixel_tag]
    if float_kind:
        bits_allocated = 32 if float_kind == 4 else 64
    return rows, cols, bits_allocated, float_kind


def _file_record(
    index: int,
    path: str | None,
    ds: Dataset,
    meta: Dataset | None,
    layout: FileLayout,
    sop_class: str,
    notes: list[str],
) -> FileRecord:
    """The record of one file or dataset, its identifying attributes read from ``ds`` (the
    caller fills in ``frames`` and ``decode_problem``)."""
    return FileRecord(
        index=index,
        path=path,
        ds=ds,
        layout=layout,
        study_uid=str_value(ds, T_STUDY_UID),
        series_uid=str_value(ds, T_SERIES_UID),
        sop_uid=str_value(ds, T_SOP_INSTANCE),
        media_sop_uid=str_value(meta, T_MEDIA_SOP_INSTANCE) if meta is not None else "",
        sop_class_uid=sop_class,
        for_uid=str_value(ds, T_FOR_UID),
        modality=str_value(ds, T_MODALITY).upper(),
        series_number=int_value(ds, T_SERIES_NUMBER),
        instance_number=int_value(ds, T_INSTANCE_NUMBER),
        notes=notes,
    )


def read_file(
    path: str, index: int, head_and_size: tuple[bytes, int] | OSError | None = None
) -> FileRecord:
    """Read one file's header and describe its frames.

    Parameters
    ----------
    path
        The file.
    index
        Its position in the scan (a stable tie-breaker for sorting).
    head_and_size
        The result of :func:`read_head` if already read (by an I/O thread).

    Raises
    ------
    Unusable
        If the file is not a DICOM image this loader can show; ``reason`` says why.
    """
    ds, pos, head, size = _read_dataset(path, head_and_size)
    meta = getattr(ds, "file_meta", None)
    ts_raw = str_value(meta, 0x00020010) if meta is not None else ""
    notes: list[str] = []
    sop_class = str_value(ds, T_SOP_CLASS) or (
        str_value(meta, 0x00020002) if meta is not None else ""
    )
    if sop_class and not _UID_TEXT.fullmatch(sop_class):
        # e.g. a damaged length field: the value ran on into the elements after it
        raise Unusable(
            "has a corrupt header: its SOPClassUID is not a UID (a damaged length field?)",
            "bad",
        )
    if sop_class == MediaStorageDirectoryStorage:
        raise Unusable(
            "is a DICOMDIR (an index of other files, no image); open its folder instead",
            "dicomdir",
        )
    _refuse_segmentation(sop_class)
    if ts_raw:
        ts = UID(ts_raw)
        if ts not in AllTransferSyntaxes:
            # a private or mistyped UID: how the pixel data is encoded is unknown
            name = "" if ts.name == ts_raw else f" ({ts.name})"
            raise Unusable(
                f"uses the transfer syntax {ts_raw}{name}, which is not a DICOM transfer "
                "syntax this loader knows (a vendor's private encoding?), so its pixel data "
                "cannot be read",
                "bad",
            )
    else:
        ts = _infer_ts(ds)
        notes.append(f"{path}: no TransferSyntaxUID in the file meta; assumed {ts.name}.")

    route: str
    offset = 0
    pixel_tag = 0x7FE00010
    elem_length: int | None = None
    full_ds: Dataset | None = None
    if ts == DeflatedExplicitVRLittleEndian or not ts_raw:
        # positions in a deflated stream are not file offsets; small files: keep in memory
        try:
            full_ds = dcmread(path, force=True)
        except Exception as exc:
            raise Unusable(f"has corrupt pixel data ({type(exc).__name__}: {exc})", "bad") from exc
        if "TransferSyntaxUID" not in full_ds.file_meta:
            full_ds.file_meta.TransferSyntaxUID = ts
        found = [t for t in _PIXEL_TAGS if t in full_ds]
        if not found:
            raise _no_pixels(ds, sop_class)
        pixel_tag = found[0]
        route = "dataset"
    else:
        parsed = _pixel_element_header(head, ts)
        if parsed is None:
            raise _no_pixels(ds, sop_class, pos, size)
        pixel_tag, _vr, length, hsize = parsed
        offset = pos + hsize
        elem_length = None if length == 0xFFFFFFFF else length
        route = "encapsulated" if ts.is_encapsulated else "native"
        if route == "encapsulated":
            item = head[hsize : hsize + 4]
            endian = "<" if ts.is_little_endian else ">"
            if len(item) < 4:
                raise Unusable(
                    "is truncated: the file ends where the compressed pixel data should start",
                    "bad",
                )
            if struct.unpack(endian + "HH", item) != (0xFFFE, 0xE000):
                raise Unusable(
                    f"has pixel data that is not encapsulated although its transfer syntax "
                    f"({ts.name}) is a compressed one",
                    "bad",
                )

    rows, cols, bits_allocated, float_kind = _pixel_size(ds, pixel_tag)
    missing = [
        name
        for name, value in (("Rows", rows), ("Columns", cols), ("BitsAllocated", bits_allocated))
        if not value
    ]
    if missing:
        raise Unusable(
            f"has pixel data but no usable {', '.join(missing)} (Image Pixel module incomplete)",
            "bad",
        )
    assert rows and cols and bits_allocated
    samples = int_value(ds, T_SAMPLES) or 1
    photometric = str_value(ds, T_PHOTOMETRIC).upper() or ("MONOCHROME2" if samples == 1 else "RGB")
    bits_stored = int_value(ds, T_BITS_STORED) or bits_allocated
    bits_stored = min(bits_stored, bits_allocated)
    signed = int_value(ds, T_PIXEL_REPR) == 1
    planar = int_value(ds, T_PLANAR) or 0
    if samples not in (1, 3):
        raise Unusable(
            f"has {samples} samples per pixel; only 1 (grey) or 3 (colour) are supported"
        )
    if bits_allocated not in (1, 8, 16, 32, 64) or (bits_allocated == 64 and not float_kind):
        raise Unusable(f"has BitsAllocated {bits_allocated}, which cannot be decoded")

    n_frames_raw = str_value(ds, T_FRAMES)
    n_frames = int_value(ds, T_FRAMES) if n_frames_raw else 1
    if n_frames is None or n_frames < 1:
        n_frames = 1
        notes.append(f"{path}: invalid NumberOfFrames {n_frames_raw!r}; one frame assumed.")

    layout = FileLayout(
        route=route,
        path=path,
        transfer_syntax=ts,
        rows=rows,
        columns=cols,
        samples=samples,
        photometric=photometric,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        signed=signed,
        planar=planar,
        n_frames=n_frames,
        offset=offset,
        float_kind=float_kind,
        dataset=full_ds,
        header=ds,
    )

    if route == "native":
        fast = (
            bits_allocated in (8, 16, 32, 64)
            and photometric in _FAST_PHOTOMETRIC
            and not (not ts.is_little_endian and bits_allocated == 8)
        )
        frame_bytes = layout.frame_bytes
        if photometric == "YBR_FULL_422":  # chroma subsampled: 2 samples per pixel
            frame_bytes = rows * cols * 2 * bits_allocated // 8
        if bits_allocated == 1:
            needed = math.ceil(rows * cols * samples * n_frames / 8)
        else:
            needed = frame_bytes * n_frames
        available = size - offset
        if elem_length is not None:
            available = min(available, elem_length)
        if available < needed:
            if bits_allocated != 1 and frame_bytes and available >= frame_bytes:
                whole = available // frame_bytes
                notes.append(
                    f"{path}: pixel data holds {whole} of {n_frames} frames "
                    f"({available} of {needed} bytes); the missing frames are left out."
                )
                layout.n_frames = n_frames = whole
            else:
                raise Unusable(
                    f"has truncated pixel data: Rows x Columns x frames need {needed} bytes, "
                    f"the file holds {max(available, 0)}",
                    "bad",
                )
        layout.route = "native" if fast else "pydicom_file"
    elif route == "encapsulated":
        opts = as_pixel_options(ds)
        opts.pop("extended_offsets", None)
        opts["number_of_frames"] = n_frames
        opts["transfer_syntax_uid"] = ts
        opts["pixel_keyword"] = "PixelData"
        layout.options = opts
        if T_EXT_OFFSETS in ds and T_EXT_LENGTHS in ds:
            layout.extended_offsets = (ds[T_EXT_OFFSETS].value, ds[T_EXT_LENGTHS].value)

    rec = _file_record(index, path, ds, meta, layout, sop_class, notes)
    if route != "native":
        rec.decode_problem = check_decoder(ts)
    rec.frames = _frames(rec)
    return rec


#: Segmentation Storage and Label Map Segmentation Storage: labels made on a series, not one
_SEGMENTATION_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")


def _refuse_segmentation(sop_class: str) -> None:
    """A DICOM SEG holds labels of another series: opened as an image it showed its frames as
    a strange "series" with position warnings (QA 22b). Say what it is and how to use it."""
    if sop_class == _SEGMENTATION_CLASSES[1]:
        raise Unusable(
            "is a DICOM Label Map Segmentation (labels made on a series, not an image; "
            "SegmentationType LABELMAP, which cannot be imported yet: only BINARY and "
            "FRACTIONAL SEG)",
            "no_pixels",
        )
    if sop_class in _SEGMENTATION_CLASSES:
        raise Unusable(
            "is a DICOM Segmentation (labels made on a series, not an image): open the series "
            "it was made on and import it there, w.import_seg(path) or "
            "daw.from_dicom_seg(labels, series, path)",
            "no_pixels",
        )


def _no_pixels(
    ds: Dataset, sop_class: str, stop: int | None = None, size: int | None = None
) -> Unusable:
    """Why a file has no pixel data element: a non-image object, or a damaged image file.

    ``stop`` is where the header parse stopped and ``size`` the file's size (when known). A
    parse that stopped short of the end without reaching pixel data means a corrupt header; an
    image object (Rows and Columns, or an image storage class) that ends there is truncated.
    Both are damaged files (kind ``bad``, reported when a folder skips them), not the non-image
    objects a folder may hold (kind ``no_pixels``).
    """
    name = _sop_class_name(sop_class)
    if stop is not None and size is not None and stop < size:
        return Unusable(
            f"has a corrupt header: reading it stopped at byte {stop} of {size} without "
            "reaching the pixel data",
            "bad",
        )
    image_like = "Image Storage" in name or (
        int_value(ds, T_ROWS) is not None and int_value(ds, T_COLUMNS) is not None
    )
    if image_like:
        what = f"a {name} object" if name else "an image (it has Rows and Columns)"
        return Unusable(f"is truncated or damaged: it is {what} but ends without pixel data", "bad")
    what = f" (it is a {name} object)" if name else ""
    return Unusable(f"holds no pixel data{what}, so there is no image to show", "no_pixels")


def record_from_dataset(ds: Dataset, index: int) -> FileRecord:
    """Describe an in-memory :class:`~pydicom.dataset.Dataset` (decoded with pydicom)."""
    found = [t for t in _PIXEL_TAGS if t in ds]
    meta = getattr(ds, "file_meta", None)
    sop_class = str_value(ds, T_SOP_CLASS) or (  # as for files: the meta's copy if blank
        str_value(meta, 0x00020002) if meta is not None else ""
    )
    _refuse_segmentation(sop_class)
    if not found:
        raise _no_pixels(ds, sop_class)
    ts_raw = str_value(meta, 0x00020010) if meta is not None else ""
    notes: list[str] = []
    if not ts_raw:
        # datasets built in memory: native little endian unless the pixel data is encapsulated
        ts = _infer_ts(ds) if getattr(ds, "original_encoding", None) else ExplicitVRLittleEndian
        ds = ds.copy()
        new_meta = FileMetaDataset()
        if meta is not None:
            new_meta.update(meta)
        new_meta.TransferSyntaxUID = ts
        ds.file_meta = new_meta
        notes.append(f"dataset #{index}: no TransferSyntaxUID; assumed {ts.name}.")
    else:
        ts = UID(ts_raw)
    pixel_tag = found[0]
    rows, cols, bits_allocated, float_kind = _pixel_size(ds, pixel_tag)
    if not rows or not cols or not bits_allocated:
        raise Unusable("has pixel data but no usable Rows/Columns/BitsAllocated", "bad")
    samples = int_value(ds, T_SAMPLES) or 1
    if samples not in (1, 3):
        raise Unusable(f"has {samples} samples per pixel; only 1 or 3 are supported")
    n_frames = int_value(ds, T_FRAMES) or 1
    layout = FileLayout(
        route="dataset",
        path=None,
        transfer_syntax=ts,
        rows=rows,
        columns=cols,
        samples=samples,
        photometric=str_value(ds, T_PHOTOMETRIC).upper()
        or ("MONOCHROME2" if samples == 1 else "RGB"),
        bits_allocated=bits_allocated,
        bits_stored=min(int_value(ds, T_BITS_STORED) or bits_allocated, bits_allocated),
        signed=int_value(ds, T_PIXEL_REPR) == 1,
        planar=int_value(ds, T_PLANAR) or 0,
        n_frames=max(n_frames, 1),
        float_kind=float_kind,
        dataset=ds,
        header=ds,
    )
    rec = _file_record(index, None, ds, meta, layout, sop_class, notes)
    rec.decode_problem = check_decoder(ts)
    rec.frames = _frames(rec)
    return rec


# --------------------------------------------------------------------------- frames


def _calibration(
    ds: Dataset, fg_spacing: tuple[float, float] | None = None
) -> tuple[tuple[float, float] | None, str]:
    """(row, column) pixel spacing in mm and where it came from."""
    ps = fg_spacing or float_values(ds, T_PIXEL_SPACING, 2)
    if ps and ps[0] > 0 and ps[1] > 0:
        return (ps[0], ps[1]), "PixelSpacing"
    ips = float_values(ds, T_IMAGER_SPACING, 2)
    if ips and ips[0] > 0 and ips[1] > 0:
        mag = float_values(ds, T_MAG_FACTOR, 1)
        if mag and mag[0] > 0:
            return (
                (ips[0] / mag[0], ips[1] / mag[0]),
                "ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor",
            )
        return (ips[0], ips[1]), "ImagerPixelSpacing"
    regions = ds[T_US_REGIONS].value if T_US_REGIONS in ds else None
    if regions:
        for region in regions:
            try:
                ux = int(region.get("PhysicalUnitsXDirection", 0))
                uy = int(region.get("PhysicalUnitsYDirection", 0))
                dx = float(region.get("PhysicalDeltaX", 0))
                dy = float(region.get("PhysicalDeltaY", 0))
            except (TypeError, ValueError):
                continue
            if ux == 3 and uy == 3 and dx > 0 and dy > 0:  # 3 = cm
                return (dy * 10.0, dx * 10.0), "SequenceOfUltrasoundRegions"
    return None, ""


def fg_value(item: Dataset | None, shared: Dataset | None, seq: str, attr: int) -> Dataset | None:
    """The functional group sequence item holding ``attr`` (per-frame first, then shared)."""
    for group in (item, shared):
        if group is None or seq not in group:
            continue
        try:
            sub = group[seq].value
        except Exception:
            continue
        if sub and attr in sub[0]:
            return sub[0]
    return None


#: A RescaleSlope or RescaleIntercept beyond these is not a calibration (modality values would
#: overflow the float32 the page and the exports use): 1 and 0 are used, with a note.
MAX_RESCALE_SLOPE = 1e24
MAX_RESCALE_INTERCEPT = 1e30


def _rescale(ds: Dataset) -> tuple[float, float]:
    slope = float_values(ds, T_SLOPE, 1)
    intercept = float_values(ds, T_INTERCEPT, 1)
    s = slope[0] if slope else None
    if s is None:
        dose = float_values(ds, T_DOSE_SCALING, 1)
        s = dose[0] if dose else 1.0
    if s == 0 or abs(s) > MAX_RESCALE_SLOPE:
        s = 1.0
    b = intercept[0] if intercept else 0.0
    return s, (b if abs(b) <= MAX_RESCALE_INTERCEPT else 0.0)


def _pos3(values: tuple[float, ...] | None) -> tuple[float, float, float] | None:
    if values is None:
        return None
    return (values[0], values[1], values[2])


def _frames(rec: FileRecord) -> list[FrameRecord]:
    ds = rec.ds
    n = rec.layout.n_frames
    shared_seq = ds[T_SHARED_FG].value if T_SHARED_FG in ds else None
    per_seq = ds[T_PER_FRAME_FG].value if T_PER_FRAME_FG in ds else None
    base_spacing, base_source = _calibration(ds)
    slope, intercept = _rescale(ds)
    if T_SLOPE in ds and float_values(ds, T_SLOPE, 1) in (None, (0.0,)):
        # zero, NaN or not a number: a slope of 1 is the only usable reading
        rec.notes.append(
            f"{rec.path or 'a dataset'}: RescaleSlope {str_value(ds, T_SLOPE)!r} is not a "
            "usable slope; 1 is used."
        )
    elif T_SLOPE in ds and abs(slope) != abs((float_values(ds, T_SLOPE, 1) or (1.0,))[0]):
        rec.notes.append(  # one note for all the files that share the value
            f"RescaleSlope {str_value(ds, T_SLOPE)!r} is beyond "
            f"{MAX_RESCALE_SLOPE:g} (the values would overflow); 1 is used."
        )
    given_b = float_values(ds, T_INTERCEPT, 1) if T_INTERCEPT in ds else None
    if given_b and abs(given_b[0]) > MAX_RESCALE_INTERCEPT:
        rec.notes.append(
            f"RescaleIntercept {str_value(ds, T_INTERCEPT)!r} is "
            f"beyond {MAX_RESCALE_INTERCEPT:g} (the values would overflow); 0 is used."
        )
    given = "\\".join(str_values(ds, T_PIXEL_SPACING)) if T_PIXEL_SPACING in ds else ""
    if given and base_source != "PixelSpacing":
        # zero, negative, NaN or one value: not a spacing (measurements would be nonsense)
        rec.notes.append(  # one note for all the files that share the value
            f"PixelSpacing {given!r} is not two positive numbers; it is ignored"
            + (f" ({base_source} is used)." if base_source else " (the pixel size is unknown).")
        )
    if shared_seq or per_seq:
        shared = shared_seq[0] if shared_seq else None
        frames = []
        for i in range(n):
            item = per_seq[i] if per_seq is not None and i < len(per_seq) else None
            pos_item = fg_value(item, shared, "PlanePositionSequence", T_IPP)
            ori_item = fg_value(item, shared, "PlaneOrientationSequence", T_IOP)
            pm_item = fg_value(item, shared, "PixelMeasuresSequence", T_PIXEL_SPACING)
            rs_item = fg_value(item, shared, "PixelValueTransformationSequence", T_SLOPE)
            position = _pos3(float_values(pos_item, T_IPP, 3)) if pos_item is not None else None
            if position is None and n == 1:
                position = _pos3(float_values(ds, T_IPP, 3))
            orientation = (
                float_values(ori_item, T_IOP, 6)
                if ori_item is not None
                else float_values(ds, T_IOP, 6)
            )
            fg_spacing = float_values(pm_item, T_PIXEL_SPACING, 2) if pm_item is not None else None
            spacing, source = (
                _calibration(ds, (fg_spacing[0], fg_spacing[1]))
                if fg_spacing is not None
                else (base_spacing, base_source)
            )
            fs, fi = _rescale(rs_item) if rs_item is not None else (slope, intercept)
            frames.append(FrameRecord(rec, i, position, orientation, spacing, source, fs, fi, item))
        return frames

    position = _pos3(float_values(ds, T_IPP, 3))
    orientation = float_values(ds, T_IOP, 6)
    if n == 1:
        return [
            FrameRecord(rec, 0, position, orientation, base_spacing, base_source, slope, intercept)
        ]
    # classic multi-frame: RT dose grids give per-frame offsets along the normal
    offsets = float_values(ds, T_GRID_OFFSETS)
    positions: list[tuple[float, float, float] | None] = [position] + [None] * (n - 1)
    if offsets and len(offsets) == n and position is not None and orientation is not None:
        normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
        base = np.asarray(position)
        positions = [
            _pos3(tuple(float(v) for v in base + (off - offsets[0]) * normal)) for off in offsets
        ]
    return [
        FrameRecord(rec, i, positions[i], orientation, base_spacing, base_source, slope, intercept)
        for i in range(n)
    ]


# --------------------------------------------------------------------------- many files


def read_headers(
    paths: Sequence[str], threads: int = 4
) -> tuple[list[FileRecord], list[tuple[str, str, str]]]:
    """Read the headers of many files.

    This thread parses (parsing holds the GIL, so parsing in threads would only contend).
    If reading the first files shows slow storage (network drive, cold cache), threads read
    the next files' heads ahead of the parser; on fast storage they would only cost time.

    Returns
    -------
    tuple
        (records, [(path, kind, reason) for each unusable file]).
    """
    records: list[FileRecord] = []
    failed: list[tuple[str, str, str]] = []
    chunks = [paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    ahead: deque[Future[list[tuple[bytes, int] | OSError]]] = deque()
    executor: ThreadPoolExecutor | None = None
    submitted = 1
    index = 0
    try:
        with pydicom_warnings_hidden(), gc_paused():
            for c, chunk in enumerate(chunks):
                if c == 0:
                    t0 = time.perf_counter()
                    heads = _read_heads(chunk)
                    slow = (time.perf_counter() - t0) / len(chunk) > _SLOW_IO_SECONDS
                    if slow and threads > 1 and len(chunks) > 1:
                        executor = ThreadPoolExecutor(max_workers=threads)
                elif executor is not None:
                    # a bounded number of chunks in flight: memory stays small
                    while submitted < len(chunks) and submitted <= c + _CHUNKS_AHEAD:
                        ahead.append(executor.submit(_read_heads, chunks[submitted]))
                        submitted += 1
                    heads = ahead.popleft().result()
                else:
                    heads = _read_heads(chunk)
                for path, head in zip(chunk, heads, strict=True):
                    try:
                        records.append(read_file(path, index, head))
                    except Unusable as exc:
                        failed.append((path, exc.kind, exc.reason))
                    index += 1
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return records, failed


@contextlib.contextmanager
def pydicom_warnings_hidden() -> Iterator[None]:
    """Hide pydicom's warnings while headers are parsed: they quote the raw bytes of odd
    values, which may be patient data (a corrupt length makes a "UI value" of the patient's
    name). The loader reports damaged files in its own words instead."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
        warnings.filterwarnings("ignore", message=r"(?s).*Invalid value for VR")
        yield


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are created.

    Parsing hundreds of headers allocates ~700 container objects per file; every few hundred
    allocations CPython runs a collection, and the full ones walk the whole heap (which grows
    with every open series). Pausing it makes the header pass about a third faster. The
    previous state is restored afterwards; anything collectable is collected then.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_heads(paths: Sequence[str]) -> list[tuple[bytes, int] | OSError]:
    return [read_head(p) for p in paths]


def _orientation_key(o: tuple[float, ...] | None) -> str:
    if o is None:
        return "none"
    return ",".join(f"{v:.3f}" for v in o)


def _cluster_orientations(frames: Iterable[FrameRecord]) -> dict[int, int]:
    """Map id(frame) -> orientation cluster (orientations equal within 1e-3)."""
    centers: list[np.ndarray] = []
    out: dict[int, int] = {}
    for fr in frames:
        if fr.orientation is None:
            out[id(fr)] = -1
            continue
        o = np.asarray(fr.orientation)
        for ci, c in enumerate(centers):
            if float(np.max(np.abs(o - c))) < _ORIENTATION_TOL:
                out[id(fr)] = ci
                break
        else:
            centers.append(o)
            out[id(fr)] = len(centers) - 1
    return out


#: Attributes that tell apart volumes sharing the slice positions of one series (echoes of
#: a multi-echo MR, phases of a dynamic or cardiac series, repeated acquisitions), tried in
#: this order.
VOLUME_KEYS = ("EchoNumbers", "TemporalPositionIdentifier", "TriggerTime", "AcquisitionNumber")
#: The same for the frames of an enhanced multi-frame image: (functional group sequence,
#: attribute) of each frame's own group, tried in this order.
FRAME_VOLUME_KEYS = (
    ("MREchoSequence", "EffectiveEchoTime"),
    ("FrameContentSequence", "TemporalPositionIndex"),
    ("CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime"),
    ("FrameContentSequence", "StackID"),
)


def _file_text(fr: FrameRecord, keyword: str) -> str:
    """``keyword`` in the frame's file's dataset ("" if none)."""
    return text_of(fr.file.ds, keyword)


def _frame_group_text(fr: FrameRecord, sequence: str, keyword: str) -> str:
    """``keyword`` in the frame's own functional group ``sequence`` ("" if none)."""
    item = fr.fg_item
    if item is None or sequence not in item:
        return ""
    try:
        found = item[sequence].value
    except Exception:
        return ""
    return text_of(found[0], keyword) if found else ""


def _split_volumes(frames: list[FrameRecord]) -> tuple[list[list[FrameRecord]], str | None]:
    """``frames`` as one list, or, when slices share positions and one of
    :data:`VOLUME_KEYS` (single-frame files; :data:`FRAME_VOLUME_KEYS` for the frames of
    enhanced multi-frame images) splits them into volumes each with its own positions, one
    list per volume (in the key's order) and a note saying so."""
    placed = [fr for fr in frames if fr.position is not None]
    if len(placed) < 2 or len(placed) < len(frames):
        return [frames], None

    def place(fr: FrameRecord) -> tuple[float, ...]:
        assert fr.position is not None
        return tuple(round(v, 3) for v in fr.position)

    if len({place(fr) for fr in frames}) == len(frames):
        return [frames], None  # no slice shares its position
    keys: list[tuple[str, Callable[[FrameRecord], str]]]
    if any(fr.file.layout.n_frames > 1 for fr in frames):
        if any(fr.fg_item is None for fr in frames):
            return [frames], None  # a classic multi-frame: nothing tells its frames apart
        keys = [
            (keyword, functools.partial(_frame_group_text, sequence=seq, keyword=keyword))
            for seq, keyword in FRAME_VOLUME_KEYS
        ]
    else:
        keys = [
            (keyword, functools.partial(_file_text, keyword=keyword)) for keyword in VOLUME_KEYS
        ]
    for keyword, value_of in keys:
        by_value: dict[str, list[FrameRecord]] = defaultdict(list)
        for fr in frames:
            by_value[value_of(fr)].append(fr)
        if len(by_value) < 2 or "" in by_value:
            continue
        groups = list(by_value.values())
        if all(len({place(fr) for fr in g}) == len(g) for g in groups):

            def order(value: str) -> tuple[int, float, str]:
                try:
                    return (0, float(value), value)
                except ValueError:
                    return (1, 0.0, value)

            values = sorted(by_value, key=order)
            listed = ", ".join(f"{v} ({len(by_value[v])} slices)" for v in values[:8])
            more = " ..." if len(values) > 8 else ""
            note = (
                f"slices of this series share their positions: it holds {len(values)} volumes, "
                f"told apart by {keyword} {listed}{more}; each is a stack of its own"
            )
            return [by_value[v] for v in values], note
    return [frames], None


def _copy_key(rec: FileRecord) -> tuple[Any, ...] | None:
    """What two copies of one file share (None: a file that cannot be told a copy: no path,
    or a SOPInstanceUID made up from its path)."""
    if not rec.path or not rec.sop_uid:
        return None
    try:
        size = os.path.getsize(rec.path)
    except OSError:
        return None
    positions = tuple(fr.position for fr in rec.frames)
    return (rec.sop_uid, rec.layout.rows, rec.layout.columns, len(rec.frames), positions, size)


def group_records(records: Sequence[FileRecord]) -> list[StackGroup]:
    """Group frames into series by UIDs (substituting empty ones) and split into stacks."""
    study_sub: dict[str, list[FileRecord]] = defaultdict(list)
    series_sub: dict[str, list[FileRecord]] = defaultdict(list)
    sop_from_meta: list[FileRecord] = []
    sop_generated: list[FileRecord] = []
    by_series: dict[tuple[str, str], list[FrameRecord]] = defaultdict(list)
    series_order: list[tuple[str, str]] = []
    #: substituted series UIDs of files whose FrameOfReferenceUID is empty too: grouped by
    #: folder as well, and named by their images (see below)
    blank_for: set[str] = set()
    first_copy: dict[tuple[Any, ...], FileRecord] = {}
    copies: dict[int, list[str]] = defaultdict(list)

    for rec in records:
        ds = rec.ds
        study = rec.study_uid
        if not study:
            study = generate_uid(
                entropy_srcs=[
                    "study",
                    str(raw_key(ds, T_STUDY_DATE)),
                    str(raw_key(ds, T_STUDY_TIME)),
                    str(raw_key(ds, T_STUDY_ID)),
                    str(raw_key(ds, T_ACCESSION)),
                    str(raw_key(ds, T_PATIENT_ID)),
                ]
            )
            study_sub[study].append(rec)
        if not rec.sop_uid:
            if rec.media_sop_uid:
                rec.sop_uid = rec.media_sop_uid
                sop_from_meta.append(rec)
            else:
                rec.sop_uid = generate_uid(
                    entropy_srcs=["sop", rec.path or f"dataset-{rec.index}", study]
                )
                sop_generated.append(rec)
        # a second copy of a file (same SOPInstanceUID, position, frames and size: a repeated
        # download, "IM0001 (1).dcm") is the same image, not another slice (QA 24b D2: the
        # copies became extra slices, and the exports then refused the series)
        copy_key = _copy_key(rec)
        if copy_key is not None:
            original = first_copy.setdefault(copy_key, rec)
            if original is not rec:
                copies[id(original)].append(rec.path or "")
                continue
        for fr in rec.frames:
            series = rec.series_uid
            if not series:
                series = generate_uid(
                    entropy_srcs=[
                        "series",
                        study,
                        rec.for_uid,
                        str(rec.series_number),
                        str(raw_key(ds, T_SERIES_DESC)),
                        _orientation_key(fr.orientation),
                        str(rec.layout.rows),
                        str(rec.layout.columns),
                        # no frame of reference either (aggressive de-identification): the
                        # rest may be the same for different patients' series (QA 24b D5:
                        # two patients' CTs became one interleaved volume), so each folder
                        # is a series of its own
                        *([] if rec.for_uid else [os.path.dirname(rec.path or "")]),
                    ]
                )
                if not rec.for_uid:
                    blank_for.add(series)
                series_sub[series].append(rec)
            key = (study, series)
            if key not in by_series:
                series_order.append(key)
            by_series[key].append(fr)

    def subs_for(frames: list[FrameRecord], study: str, series: str) -> list[UidSubstitution]:
        files = {id(fr.file): fr.file for fr in frames}
        out: list[UidSubstitution] = []
        n_study = len({id(r) for r in study_sub.get(study, [])} & set(files))
        if n_study:
            out.append(
                UidSubstitution(
                    "StudyInstanceUID",
                    study,
                    f"StudyInstanceUID is empty or missing in {n_study} file(s); a deterministic "
                    "UID was generated from StudyDate, StudyTime, StudyID, AccessionNumber and "
                    "PatientID.",
                    n_study,
                )
            )
        n_series = len({id(r) for r in series_sub.get(series, [])} & set(files))
        if n_series:
            out.append(
                UidSubstitution(
                    "SeriesInstanceUID",
                    series,
                    f"SeriesInstanceUID is empty or missing in {n_series} file(s); files were "
                    "grouped by FrameOfReferenceUID, SeriesNumber, SeriesDescription, "
                    "orientation and matrix size, and a deterministic UID was generated from "
                    "those.",
                    n_series,
                )
            )
        n_meta = len({id(r) for r in sop_from_meta} & set(files))
        if n_meta:
            out.append(
                UidSubstitution(
                    "SOPInstanceUID",
                    "(per file)",
                    f"SOPInstanceUID is empty or missing in {n_meta} file(s); the file meta "
                    "MediaStorageSOPInstanceUID was used instead.",
                    n_meta,
                )
            )
        n_gen = len({id(r) for r in sop_generated} & set(files))
        if n_gen:
            out.append(
                UidSubstitution(
                    "SOPInstanceUID",
                    "(per file)",
                    f"SOPInstanceUID is empty or missing in {n_gen} file(s) and there is no "
                    "MediaStorageSOPInstanceUID; deterministic UIDs were generated from the "
                    "file paths.",
                    n_gen,
                )
            )
        return out

    stacks: list[StackGroup] = []
    for key in series_order:
        study, series = key
        frames = by_series[key]
        subs = subs_for(frames, study, series)
        if series in blank_for:
            # named by its images (their SOP instance UIDs), not by the folder they lie in:
            # the same images give the same UID wherever they are, so their labels are found
            # again, and no other images do (a patient's labels never open on another's)
            named = generate_uid(
                entropy_srcs=[
                    "series of images",
                    study,
                    *sorted({fr.file.sop_uid for fr in frames}),
                ]
            )
            subs = [
                UidSubstitution(
                    sub.keyword,
                    named,
                    f"SeriesInstanceUID and FrameOfReferenceUID are empty or missing in "
                    f"{sub.count} file(s); files were grouped by folder, SeriesNumber, "
                    "SeriesDescription, orientation and matrix size, and a deterministic UID was "
                    "generated from their SOPInstanceUIDs.",
                    sub.count,
                )
                if sub.keyword == "SeriesInstanceUID"
                else sub
                for sub in subs
            ]
            series = named
        clusters = _cluster_orientations(frames)
        split: dict[tuple[Any, ...], list[FrameRecord]] = defaultdict(list)
        split_order: list[tuple[Any, ...]] = []
        # a multi-frame file with frames of unknown position is a stack of its own, in frame
        # order (all its frames together: a classic multi-frame has one position, frame 0's)
        unplaced = {
            id(fr.file) for fr in frames if fr.file.layout.n_frames > 1 and fr.position is None
        }
        for fr in frames:
            lay = fr.file.layout
            positionless_mf = id(fr.file) in unplaced
            skey = (
                clusters[id(fr)],
                lay.rows,
                lay.columns,
                lay.frame_shape,
                fr.file.index if positionless_mf else -1,
            )
            if skey not in split:
                split_order.append(skey)
            split[skey].append(fr)
        parts = sorted((split[k] for k in split_order), key=lambda fs: -len(fs))
        notes: list[str] = []
        skipped = [p for f in {id(fr.file): fr.file for fr in frames} for p in copies.get(f, [])]
        if skipped:
            shown = ", ".join(repr(p) for p in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            notes.append(
                f"{len(skipped)} file(s) are copies of other files of this series (the same "
                f"SOPInstanceUID, position and size), left out: {shown}."
            )
        volumes: list[list[FrameRecord]] = []
        for part in parts:
            pieces, note = _split_volumes(part)
            volumes.extend(pieces)
            if note:
                notes.append(note)
        if len(volumes) > len(parts):
            parts = volumes
        if len(parts) > 1 and not notes:
            sizes = ", ".join(
                f"{len(p)} x {p[0].file.layout.rows}x{p[0].file.layout.columns}"
                + (" (no orientation)" if p[0].orientation is None else "")
                for p in parts
            )
            notes.append(
                f"this series mixes orientations, matrix sizes or separate multi-frame images "
                f"(localizers?); it was split into {len(parts)} stacks: {sizes}."
            )
        for i, part in enumerate(parts):
            stacks.append(
                StackGroup(
                    study_uid=study,
                    series_uid=series,
                    frames=part,
                    stack=i,
                    n_stacks=len(parts),
                    substitutions=list(subs),
                    notes=list(notes),
                )
            )
    return stacks
