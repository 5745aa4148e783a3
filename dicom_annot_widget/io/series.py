"""The :class:`Series`: one displayable stack of slices with geometry and lazy pixels.

Construction reads no pixel data. Slices decode on demand (:meth:`Series.get_slice`), in the
background in a priority order (:meth:`Series.prefetch`), or all at once (:attr:`Series.array`).

Decoded slices go into one volume in the stored dtype; modality values (stored * slope +
intercept, HU for CT) are computed per slice. Once :attr:`Series.array` is built with an
integral rescale, only the modality volume is kept and stored values are recomputed exactly
on demand, so a volume is never held twice.

Background decoding: one local thread, plus the shared worker processes (see ``_pool``) for
compressed data. A thread that needs a slice that is still queued decodes it itself; one
that needs a slice held by workers that are still starting decodes it too (the workers'
later copy is dropped).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from ..errors import DicomLoadError, DicomLoadWarning
from . import _pool
from ._decode import FileLayout, decode_error, decode_local, pool_task, postprocess
from ._metadata import dataset_to_json, varying_keywords
from ._scan import UidSubstitution
from .windows import CT_PRESETS, Window, auto_window

__all__ = ["Series"]

_log = logging.getLogger(__name__)

# Start worker processes only when at least this many compressed slices remain to decode.
_MIN_POOL_SLICES = 8
# How long a waiting thread trusts a busy worker before decoding the slice itself (s).
_WAIT_SLICE = 2.0

# With warm workers, leave compressed slices to them (True) or decode here too (False).
_WORKERS_ONLY = True

_INT_CANDIDATES = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32)


class _Backend:
    """Where a series' slices come from (DICOM frames, or an in-memory/NIfTI array)."""

    n: int
    frame_shape: tuple[int, ...]
    stored_dtype: np.dtype[Any]
    pool_ts: str | None = None  # transfer syntax to warm workers with; None = never use them
    all_pool = False  # every slice can go to a worker (so local threads may stop when warm)
    #: every slice is read uncompressed from its file: reading it again costs about what
    #: keeping a copy does
    rereadable = False

    def decode(self, k: int) -> NDArray[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def pool_task(
        self, k: int
    ) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None:
        return None

    def finish(self, k: int, result: Any) -> NDArray[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def pool_error(self, k: int, exc: BaseException) -> DicomLoadError:  # pragma: no cover
        return DicomLoadError(f"Cannot read slice {k}: {type(exc).__name__}: {exc}")


class _DicomBackend(_Backend):
    def __init__(self, layouts: Sequence[FileLayout], frames: Sequence[int]) -> None:
        self.layouts = list(layouts)
        self.frames = list(frames)
        self.n = len(self.layouts)
        first = self.layouts[0]
        self.frame_shape = first.frame_shape
        self.stored_dtype = first.stored_dtype
        encapsulated = [lay for lay in self.layouts if lay.route == "encapsulated"]
        self.pool_ts = str(encapsulated[0].transfer_syntax) if encapsulated else None
        self.all_pool = len(encapsulated) == self.n
        self.rereadable = all(lay.route == "native" for lay in self.layouts)

    def decode(self, k: int) -> NDArray[Any]:
        layout = self.layouts[k]
        return postprocess(layout, decode_local(layout, self.frames[k]))

    def pool_task(
        self, k: int
    ) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None:
        return pool_task(self.layouts[k], self.frames[k])

    def finish(self, k: int, result: Any) -> NDArray[Any]:
        arr = result[0] if isinstance(result, tuple) else result
        return postprocess(self.layouts[k], arr)

    def pool_error(self, k: int, exc: BaseException) -> DicomLoadError:
        return decode_error(self.layouts[k], self.frames[k], exc)


class _ArrayBackend(_Backend):
    """Slices of a volume already in memory, or loaded once on first access."""

    def __init__(
        self,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        volume: NDArray[Any] | None = None,
        loader: Callable[[], NDArray[Any]] | None = None,
    ) -> None:
        self.n = shape[0]
        self.frame_shape = tuple(shape[1:])
        self.stored_dtype = np.dtype(dtype)
        self._volume = volume
        self._loader = loader
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._volume is not None

    def volume(self) -> NDArray[Any]:
        with self._lock:
            if self._volume is None:
                assert self._loader is not None
                self._volume = self._loader()
                self._loader = None
            return self._volume

    def decode(self, k: int) -> NDArray[Any]:
        return self.volume()[k]


@dataclass
class _SeriesSpec:
    """Everything a :class:`Series` needs; built by the loaders, not by users."""

    backend: _Backend
    slopes: NDArray[np.float64]
    intercepts: NDArray[np.float64]
    affine: NDArray[np.float64]
    spacing: tuple[float, float, float]
    spacing_known: bool
    orientation_known: bool
    plane: str
    modality: str = ""
    photometric_interpretation: str = "MONOCHROME2"
    presentation_lut_shape: str = ""
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    description: str = ""
    series_number: int | None = None
    sop_class_uid: str = ""
    sop_instance_uids: list[str] = field(default_factory=list)
    slice_files: list[str | None] = field(default_factory=list)
    slice_frames: list[int | None] = field(default_factory=list)
    slice_positions: list[tuple[float, float, float] | None] = field(default_factory=list)
    instance_numbers: list[int | None] = field(default_factory=list)
    stack: tuple[int, int] = (0, 1)
    frame_rate: float | None = None
    temporal: bool = False
    units: str = ""
    patient_orientation: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    uid_substitutions: list[UidSubstitution] = field(default_factory=list)
    header_windows: list[Window] = field(default_factory=list)
    stored_range: tuple[float, float] | None = None
    slice_datasets: list[Dataset | None] = field(default_factory=list)
    slice_fg_items: list[Dataset | None] = field(default_factory=list)
    source: str = ""
    range_provider: Callable[[], tuple[float, float] | None] | None = None
    #: a NIfTI file's own voxel grid, when reoriented on opening: (the nibabel orientation
    #: transform from the series' (column, row, slice) axes to the file's, the file's affine)
    nifti_file_grid: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None


def _fits(lo: float, hi: float, dtype: Any) -> bool:
    info = np.iinfo(dtype)
    return info.min <= lo and hi <= info.max


def _modality_dtype(
    stored: np.dtype[Any],
    is_color: bool,
    slopes: NDArray[np.float64],
    intercepts: NDArray[np.float64],
    stored_range: tuple[float, float] | None,
) -> tuple[np.dtype[Any], bool, bool]:
    """(dtype of modality values, identity transform?, integral transform?)."""
    identity = bool(np.all(slopes == 1.0) and np.all(intercepts == 0.0))
    integral = bool(np.all(np.mod(slopes, 1.0) == 0.0) and np.all(np.mod(intercepts, 1.0) == 0.0))
    if is_color or identity:
        return (np.dtype(np.float32) if stored.kind == "f" else stored), True, True
    if stored.kind == "f" or not integral or stored_range is None:
        return np.dtype(np.float32), False, False
    lo, hi = _modality_range(stored_range, slopes, intercepts)
    for cand in _INT_CANDIDATES:
        if _fits(lo, hi, cand):
            return np.dtype(cand), False, True
    return np.dtype(np.float32), False, False


def _modality_range(
    stored_range: tuple[float, float], slopes: NDArray[np.float64], intercepts: NDArray[np.float64]
) -> tuple[float, float]:
    pairs = np.unique(np.stack([slopes, intercepts], axis=1), axis=0)
    lo_s, hi_s = stored_range
    vals = np.concatenate([pairs[:, 0] * lo_s + pairs[:, 1], pairs[:, 0] * hi_s + pairs[:, 1]])
    return float(vals.min()), float(vals.max())


class Series:
    """One stack of slices: geometry, header facts, and lazily decoded pixels.

    Create it with :func:`~dicom_annot_widget.io.open_series` or from
    :class:`~dicom_annot_widget.io.Study`; the constructor is internal.

    Indexing convention: arrays are ``[slice, row, column]`` (colour: ``[..., 3]``); the
    :attr:`affine` maps ``(column, row, slice, 1)`` to patient LPS millimetres.

    All methods are thread-safe. Use as a context manager (or call :meth:`close`) to stop
    background decoding and release the shared worker processes.
    """

    def __init__(self, spec: _SeriesSpec) -> None:
        if not isinstance(spec, _SeriesSpec):
            raise TypeError("Series is created by open_series() or Study.open(), not directly.")
        self._spec = spec
        self._backend = spec.backend
        n = self._backend.n
        self._n = n
        self._frame_shape = tuple(self._backend.frame_shape)
        self._stored_dtype = np.dtype(self._backend.stored_dtype)
        self._is_color = len(self._frame_shape) == 3
        self._slopes = np.asarray(spec.slopes, dtype=np.float64)
        self._intercepts = np.asarray(spec.intercepts, dtype=np.float64)
        self._dtype, self._identity, self._integral = _modality_dtype(
            self._stored_dtype, self._is_color, self._slopes, self._intercepts, spec.stored_range
        )
        self._uniform_rescale = bool(
            n == 0
            or (
                np.all(self._slopes == self._slopes[0])
                and np.all(self._intercepts == self._intercepts[0])
            )
        )

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._build_lock = threading.Lock()
        self._stored: NDArray[Any] | None = None
        self._array: NDArray[Any] | None = None
        self._array_final = False
        self._mode = "stored"  # or "modality": decoded slices go straight into _array
        self._done = np.zeros(n, dtype=bool)
        self._errors: dict[int, DicomLoadError] = {}
        self._queue: deque[int] = deque()
        self._queued: set[int] = set()
        self._inflight: dict[int, str] = {}
        #: slices whose worker was interrupted (KeyboardInterrupt): decoded in-process instead
        self._local_only: set[int] = set()
        self._futures: dict[int, Future[Any]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._pool_tried = False
        self._pool_release: weakref.finalize | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._callbacks: list[Callable[[int], None]] = []
        self._windows: list[Window] | None = None
        self._metadata_cache: dict[str, Any] | None = None
        self._varying: list[str] | None = None
        self._value_range: tuple[float, float] | None = None
        self._value_range_done = False
        #: float pixel data (FloatPixelData) read from files: NaN / infinities not told yet
        self._check_finite = self._stored_dtype.kind == "f" and not isinstance(
            self._backend, _ArrayBackend
        )

        if isinstance(self._backend, _ArrayBackend) and self._backend.loaded:
            self._materialize()
        for message in spec.warnings:
            warnings.warn(message, DicomLoadWarning, stacklevel=4)  # the caller of open_series

    # ------------------------------------------------------------------ descriptors

    def __len__(self) -> int:
        return self._n

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n_slices, rows, columns)``, or ``(n_slices, rows, columns, 3)`` for colour."""
        return (self._n, *self._frame_shape)

    @property
    def is_color(self) -> bool:
        """True for RGB / palette / YBR images (kept as RGB)."""
        return self._is_color

    @property
    def stored_dtype(self) -> np.dtype[Any]:
        """dtype of stored values (what :meth:`get_stored_slice` returns)."""
        return self._stored_dtype

    @property
    def dtype(self) -> np.dtype[Any]:
        """dtype of modality values (:attr:`array`, :meth:`get_slice`).

        An integer type when every slope/intercept is integral and the modality value range
        derived from the header fits it, else float32 (never float64).
        """
        return self._dtype

    @property
    def modality(self) -> str:
        """DICOM Modality ("CT", "MR"...), or what was passed as ``modality=``."""
        return self._spec.modality

    @property
    def photometric_interpretation(self) -> str:
        """MONOCHROME1 (display inverted), MONOCHROME2, or RGB for colour series."""
        return self._spec.photometric_interpretation

    @property
    def presentation_lut_shape(self) -> str:
        """PresentationLUTShape of the first slice ("IDENTITY", "INVERSE"; "" when absent)."""
        return self._spec.presentation_lut_shape

    @property
    def display_inverted(self) -> bool:
        """Whether DICOM presents the grey scale inverted (minimum white): MONOCHROME1, or a
        PresentationLUTShape of INVERSE (DX and mammography write it on MONOCHROME2 images;
        on MONOCHROME1 it names the same inversion, PS3.3 C.8.11.7)."""
        pi = self.photometric_interpretation
        return pi == "MONOCHROME1" or (
            pi == "MONOCHROME2" and self.presentation_lut_shape == "INVERSE"
        )

    @property
    def series_instance_uid(self) -> str:
        """SeriesInstanceUID (substituted if empty; see :attr:`uid_substitutions`)."""
        return self._spec.series_instance_uid

    @property
    def study_instance_uid(self) -> str:
        """StudyInstanceUID (substituted if empty; see :attr:`uid_substitutions`)."""
        return self._spec.study_instance_uid

    @property
    def frame_of_reference_uid(self) -> str:
        """FrameOfReferenceUID, ``""`` if absent."""
        return self._spec.frame_of_reference_uid

    @property
    def description(self) -> str:
        """SeriesDescription (DICOM text: show as text, not HTML)."""
        return self._spec.description

    @property
    def series_number(self) -> int | None:
        """SeriesNumber, if any."""
        return self._spec.series_number

    @property
    def sop_class_uid(self) -> str:
        """SOPClassUID of the first slice's file."""
        return self._spec.sop_class_uid

    @property
    def sop_instance_uids(self) -> list[str]:
        """SOPInstanceUID of the file holding each slice (sorted order; substituted if empty)."""
        return list(self._spec.sop_instance_uids)

    @property
    def slice_files(self) -> list[str | None]:
        """Path of the file holding each slice (``None`` for in-memory sources)."""
        return list(self._spec.slice_files)

    @property
    def slice_frames(self) -> list[int | None]:
        """Frame index (0-based) of each slice within its multi-frame file, else ``None``."""
        return list(self._spec.slice_frames)

    @property
    def slice_positions(self) -> list[tuple[float, float, float] | None] | None:
        """ImagePositionPatient (LPS mm) of every slice in series order, as the headers give
        it (per frame for multi-frame files; ``None`` for a slice without one); ``None`` for a
        series not read from DICOM. Unlike :attr:`affine`, which spaces the slices evenly,
        these place each slice where its header says (e.g. beyond a missing slice)."""
        return list(self._spec.slice_positions) if self._spec.slice_positions else None

    @property
    def stack(self) -> tuple[int, int]:
        """``(index, count)``: which of the stacks its DICOM series was split into this is
        (echoes sharing positions, the planes of a localizer, mixed matrix sizes); ``(0, 1)``
        for a series that was not split."""
        return self._spec.stack

    @property
    def units(self) -> str:
        """The unit of the modality values: "HU" for CT, a PET's Units ("Bq/mL", "g/mL"...),
        a RescaleType; "" when none is known."""
        return self._spec.units or ("HU" if self.modality == "CT" else "")

    @property
    def patient_orientation(self) -> tuple[str, ...]:
        """PatientOrientation of the first slice: the patient directions along its rows and
        down its columns ("L", "F", "AL"...: a radiograph's only orientation); () when
        absent."""
        return self._spec.patient_orientation

    @property
    def temporal(self) -> bool:
        """True for a cine loop: the frames of one multi-frame image are moments (an
        ultrasound or angiography run), not slices, so it has no reformats."""
        return self._spec.temporal

    @property
    def frame_rate(self) -> float | None:
        """Frames per second a multi-frame image was recorded at (RecommendedDisplayFrameRate,
        CineRate or 1000 / FrameTime); None when it does not say."""
        return self._spec.frame_rate

    @property
    def instance_numbers(self) -> list[int | None] | None:
        """InstanceNumber (the image number radiologists and reports cite) of every slice in
        series order (``None`` for a slice without one, and for the frames of a multi-frame
        file, which share theirs); ``None`` when no slice has one. The series is sorted by
        position, so these may run backwards (a CT numbered head to feet)."""
        numbers = list(self._spec.instance_numbers)
        return numbers if any(n is not None for n in numbers) else None

    @property
    def source(self) -> str:
        """What was opened (folder, file, "numpy array", "pydicom datasets"...)."""
        return self._spec.source

    @property
    def nifti_file_grid(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """A NIfTI series reoriented on opening (``reorient=True``): how to go back to the
        file's own voxel grid, as ``(transform, affine)``: the nibabel orientation transform
        from the series' voxel axes ``(column, row, slice)`` to the file's (for
        ``nibabel.orientations.apply_orientation``) and the file's RAS+ affine. None for
        other series, and for a file already stored in the series' order. ``to_nifti``
        writes labels on this grid, so that they line up with the file voxel for voxel."""
        grid = self._spec.nifti_file_grid
        return None if grid is None else (grid[0].copy(), grid[1].copy())

    @property
    def affine(self) -> NDArray[np.float64]:
        """4x4 float64 mapping ``(column, row, slice, 1)`` to patient LPS mm (a copy)."""
        return self._spec.affine.copy()

    @property
    def spacing(self) -> tuple[float, float, float]:
        """``(slice, row, column)`` spacing in mm (slice spacing from positions)."""
        return self._spec.spacing

    @property
    def spacing_known(self) -> bool:
        """False when no pixel spacing calibration exists (1.0 mm is then assumed)."""
        return self._spec.spacing_known

    @property
    def orientation_known(self) -> bool:
        """False when the images carry no ImageOrientationPatient (projection, cine, SC)."""
        return self._spec.orientation_known

    @property
    def plane(self) -> str:
        """Acquisition plane: 'axial', 'coronal', 'sagittal' or 'oblique'.

        When :attr:`orientation_known` is False this is derived from PatientOrientation if
        present, else 'axial' (meaning: the slices are shown as stored).
        """
        return self._spec.plane

    @property
    def uid_substitutions(self) -> list[UidSubstitution]:
        """UIDs that were empty/missing and what was used instead, with reasons."""
        return list(self._spec.uid_substitutions)

    @property
    def warnings(self) -> list[str]:
        """Loader warnings (also emitted as :class:`DicomLoadWarning` when created)."""
        return list(self._spec.warnings)

    def rescale(self, k: int) -> tuple[float, float]:
        """``(slope, intercept)`` of slice ``k``: modality = stored * slope + intercept."""
        k = self._index(k)
        return float(self._slopes[k]), float(self._intercepts[k])

    @property
    def value_range(self) -> tuple[float, float] | None:
        """Range of modality values.

        For DICOM: derived from BitsStored / PixelRepresentation and the rescale values
        without decoding (a bound, not the actual min/max). For arrays and NIfTI: the actual
        data range. ``None`` for floating-point DICOM pixel data.
        """
        if not self._value_range_done:
            rng = self._spec.stored_range
            if self._spec.range_provider is not None:
                rng = self._spec.range_provider()
            if rng is None:
                self._value_range = None
            elif self._is_color or self._identity:
                self._value_range = (float(rng[0]), float(rng[1]))
            else:
                self._value_range = _modality_range(rng, self._slopes, self._intercepts)
            self._value_range_done = True
        return self._value_range

    # ------------------------------------------------------------------ windows

    @property
    def windows(self) -> list[Window]:
        """Display windows: DICOM ones first, then CT presets (CT) or an automatic one.

        The automatic window (non-CT) decodes up to three slices the first time.
        """
        if self._windows is None:
            out = list(self._spec.header_windows)
            if self.modality == "CT" and not self._is_color:
                out.extend(CT_PRESETS)
            else:
                auto = self._auto_window()
                if auto is not None:
                    out.append(auto)
            self._windows = out
        return list(self._windows)

    @property
    def default_window(self) -> Window:
        """The first DICOM window, else CT soft tissue (CT), else the automatic window."""
        windows = self.windows
        if windows:
            return windows[0]
        rng = self.value_range or (0.0, 1.0)
        return Window((rng[0] + rng[1]) / 2.0, max(rng[1] - rng[0], 1.0), "Full range", "auto")

    def _auto_window(self) -> Window | None:
        if self._n == 0:
            return None
        if self._is_color:
            top = (
                float(np.iinfo(self._stored_dtype).max) if self._stored_dtype.kind in "ui" else 1.0
            )
            return Window(top / 2.0, top, "Full range", "auto")
        picks = sorted({self._n // 2, self._n // 4, (3 * self._n) // 4})
        samples = [self.get_slice(k) for k in picks]
        for k, values in zip(picks, samples, strict=True):
            self._tell_non_finite(values, f"slice {k}")
        return auto_window(samples)

    def _tell_non_finite(self, values: NDArray[Any], where: str) -> None:
        """Warn once (a :class:`DicomLoadWarning`, also kept in :attr:`warnings`) when float
        pixel data read from files holds NaN or infinite values: they are left out of the
        automatic window and have no grey value of their own. The slices the automatic
        window samples at open are checked, and the whole volume when it is read."""
        if not self._check_finite:
            return
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if not bad:
            return
        self._check_finite = False
        message = (
            f"series {self.series_instance_uid or self.description or '?'}: {where} has "
            f"{bad:,} NaN or infinite pixel values (of {values.size:,}; float pixel data): they "
            "are left out of the automatic window and have no grey value of their own (NaN is "
            "shown black, infinities at the window's ends); the readout shows them as they are."
        )
        self._spec.warnings.append(message)
        warnings.warn(message, DicomLoadWarning, stacklevel=3)

    # ------------------------------------------------------------------ metadata

    @property
    def metadata(self) -> dict[str, Any]:
        """JSON-safe header of the first slice, plus which keywords vary per slice.

        Keys: ``"slice"``, ``"file"``, ``"frame"``, ``"file_meta"``, ``"elements"``,
        ``"frame_functional_groups"`` (multi-frame only), ``"varying"``. Contains patient
        data: never log it.
        """
        if self._metadata_cache is None:
            self._metadata_cache = self.slice_metadata(0) if self._n else {}
        return self._metadata_cache

    def slice_dataset(self, k: int) -> Dataset | None:
        """The DICOM header of slice ``k`` as read (no pixel data; ``None`` for a series not
        read from DICOM files). Shared with the series: copy it before changing anything."""
        k = self._index(k)
        return self._spec.slice_datasets[k] if self._spec.slice_datasets else None

    def slice_metadata(self, k: int) -> dict[str, Any]:
        """Like :attr:`metadata`, for slice ``k``."""
        k = self._index(k)
        ds = self._spec.slice_datasets[k] if self._spec.slice_datasets else None
        out: dict[str, Any] = {
            "slice": k,
            "file": self._spec.slice_files[k] if self._spec.slice_files else None,
            "frame": self._spec.slice_frames[k] if self._spec.slice_frames else None,
            "file_meta": [],
            "elements": [],
            "varying": self._varying_keywords(),
        }
        if ds is None:
            return out
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            out["file_meta"] = dataset_to_json(meta)
        out["elements"] = dataset_to_json(ds)
        fg = self._spec.slice_fg_items[k] if self._spec.slice_fg_items else None
        if fg is not None:
            out["frame_functional_groups"] = dataset_to_json(fg, depth=1)
        return out

    def _varying_keywords(self) -> list[str]:
        if self._varying is None:
            datasets = [d for d in self._spec.slice_datasets if d is not None]
            unique = list({id(d): d for d in datasets}.values())
            fg_items = [f for f in self._spec.slice_fg_items if f is not None]
            out = varying_keywords(unique) if len(unique) > 1 else []
            if len(fg_items) > 1:
                out += varying_keywords(fg_items[:2000], nested=True)
            self._varying = out
        return list(self._varying)

    # ------------------------------------------------------------------ pixel access

    def _index(self, k: int) -> int:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"slice index must be an int, not {type(k).__name__}")
        kk = int(k)
        if kk < 0:
            kk += self._n
        if not 0 <= kk < self._n:
            raise IndexError(f"slice index {k} is out of range for a series of {self._n} slices")
        return kk

    def is_decoded(self, k: int) -> bool:
        """True if slice ``k`` is decoded (available without waiting)."""
        k = self._index(k)
        with self._lock:
            return bool(self._done[k])

    @property
    def decoded(self) -> NDArray[np.bool_]:
        """Boolean mask of decoded slices (a copy), e.g. for a slice bar."""
        with self._lock:
            return self._done.copy()

    def add_decoded_callback(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(k)`` (from a worker thread) whenever slice ``k`` becomes available."""
        with self._lock:
            self._callbacks.append(callback)

    def remove_decoded_callback(self, callback: Callable[[int], None]) -> None:
        """Remove a callback added with :meth:`add_decoded_callback`."""
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    @property
    def rereadable(self) -> bool:
        """True if every slice is stored uncompressed in its file, so that reading a slice
        again costs about as much as keeping a copy of it (see ``keep`` in
        :meth:`get_stored_slice`)."""
        return self._backend.rereadable

    def get_stored_slice(self, k: int, *, keep: bool = True) -> NDArray[Any]:
        """Stored values of slice ``k`` in :attr:`stored_dtype` (decodes it if needed).

        Parameters
        ----------
        k
            Slice index.
        keep
            Keep the decoded slice in the series' volume (default). False: when the series is
            :attr:`rereadable` and slice ``k`` is not decoded yet, it is read for this call
            alone, a fresh array, and the volume is left as it is. Filling the volume's memory
            is what reading an uncompressed slice costs most, so a caller that only passes the
            slice on (the widget streaming it to the page) leaves that for later.

        Returns
        -------
        numpy.ndarray
            ``(rows, columns)`` or ``(rows, columns, 3)``; read-only, do not modify.
        """
        k = self._index(k)
        if not keep and self._backend.rereadable:
            with self._lock:
                if self._done[k]:
                    return self._stored_view(k)
            try:
                # a fresh array: the decoder may return a view of its scratch buffer
                fresh = np.array(self._backend.decode(k))
            except Exception:  # decoding again below records the error and raises it
                pass
            else:
                fresh.flags.writeable = False
                return fresh
        self._ensure_decoded(k)
        with self._lock:
            return self._stored_view(k)

    def get_slice(self, k: int) -> NDArray[Any]:
        """Modality values of slice ``k`` (HU for CT) in :attr:`dtype` (decodes if needed)."""
        k = self._index(k)
        self._ensure_decoded(k)
        with self._lock:
            if self._array is not None and (self._mode == "modality" or self._array_final):
                view = self._array[k].view()
                view.flags.writeable = False
                return view
            stored = self._stored_view(k)
        return self._to_modality(stored, k)

    @property
    def array(self) -> NDArray[Any]:
        """The whole volume in modality values, ``[slice, row, column]`` (read-only).

        Decodes every slice on first access (in parallel for compressed data) and caches it.
        """
        with self._build_lock:
            if not self._array_final:
                self._build_array()
            assert self._array is not None
        if self._check_finite:
            self._tell_non_finite(self._array, "the volume")
            self._check_finite = False  # (checked once: the volume is read once)
        return self._array

    @property
    def stored_array(self) -> NDArray[Any]:
        """The whole volume in stored values (decodes everything; may allocate a copy)."""
        with self._build_lock:
            if not self._array_final:
                self._build_array()
        with self._lock:
            if self._mode == "stored":
                assert self._stored is not None
                view = self._stored.view()
                view.flags.writeable = False
                return view
            assert self._array is not None
            out = np.empty(self.shape, dtype=self._stored_dtype)
            for k in range(self._n):  # slice by slice: no volume-sized int64 temporary
                out[k] = self._from_modality(self._array[k], k)
            out.flags.writeable = False
            return out

    # ------------------------------------------------------------------ conversions

    def _to_modality(self, stored: NDArray[Any], k: int) -> NDArray[Any]:
        if self._identity:
            return stored.astype(self._dtype, copy=False)
        out = np.empty(stored.shape, dtype=self._dtype)
        self._to_modality_into(stored, k, out)
        return out

    def _to_modality_into(self, stored: NDArray[Any], k: int, out: NDArray[Any]) -> None:
        """Write stored * slope + intercept of slice ``k`` into ``out`` (one pass if possible)."""
        slope = float(self._slopes[k])
        intercept = float(self._intercepts[k])
        if self._identity:
            out[...] = stored
            return
        scalar = self._dtype.type
        if self._dtype.kind != "f":
            # integer arithmetic wraps modulo 2**bits; the final value fits by construction
            slope_s, intercept_s = scalar(int(slope)), scalar(int(intercept))
        else:
            slope_s, intercept_s = scalar(slope), scalar(intercept)
        if slope == 1.0:
            np.add(stored, intercept_s, out=out, casting="unsafe")
            return
        np.multiply(stored, slope_s, out=out, casting="unsafe")
        if intercept != 0.0:
            out += intercept_s

    def _from_modality(self, values: NDArray[Any], k: int) -> NDArray[Any]:
        """Exact inverse of an integral rescale (used once stored values were dropped)."""
        tmp = values.astype(np.int64) - np.int64(self._intercepts[k])
        tmp //= np.int64(self._slopes[k])
        return tmp.astype(self._stored_dtype)

    def _stored_view(self, k: int) -> NDArray[Any]:
        # under lock
        if self._mode == "stored":
            assert self._stored is not None
            view = self._stored[k].view()
            view.flags.writeable = False
            return view
        assert self._array is not None
        out = self._from_modality(self._array[k], k)
        out.flags.writeable = False
        return out

    # ------------------------------------------------------------------ storing

    def _put(self, k: int, arr: NDArray[Any]) -> bool:
        """Store a decoded slice (under lock). Returns True if it was new."""
        if self._done[k]:
            return False
        if self._mode == "modality":
            assert self._array is not None
            self._to_modality_into(arr, k, self._array[k])
        else:
            if self._stored is None:
                self._stored = np.empty((self._n, *self._frame_shape), dtype=self._stored_dtype)
            self._stored[k] = arr
        self._done[k] = True
        self._errors.pop(k, None)
        if self._inflight.get(k) == "local":
            del self._inflight[k]
        self._cond.notify_all()
        return True

    def _fail(self, k: int, exc: DicomLoadError) -> None:
        """Record a decode failure (under lock)."""
        self._errors[k] = exc
        if self._inflight.get(k) == "local":
            del self._inflight[k]
        self._cond.notify_all()

    def _unclaim(self, k: int | None) -> None:
        """Slice ``k``, claimed for decoding in this thread, is not being decoded any more:
        the caller was stopped (KeyboardInterrupt: the cell's stop button). Not the file's
        fault, and the slice must not stay "in flight": every later reader waited for it
        for good (QA 22b)."""
        if k is None:
            return
        with self._lock:
            if self._inflight.get(k) == "local" and not self._done[k]:
                del self._inflight[k]
            self._cond.notify_all()

    def _notify(self, k: int) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for cb in callbacks:
            try:
                cb(k)
            except Exception:  # a broken callback must not stop decoding
                _log.exception("decoded-slice callback failed")

    def _decode_here(self, k: int) -> None:
        """Decode slice ``k`` in the calling thread and store it (errors are recorded)."""
        try:
            arr = self._backend.decode(k)
        except DicomLoadError as exc:
            with self._lock:
                self._fail(k, exc)
            return
        except Exception as exc:  # defensive: never let a raw exception escape
            error = self._backend.pool_error(k, exc)
            error.__cause__ = exc
            with self._lock:
                self._fail(k, error)
            return
        with self._lock:
            new = self._put(k, arr)
        if new:
            self._notify(k)
        with self._lock:
            if self._queued and not self._pool_tried and not self._closed:
                # workers start only after the first slice is shown (see _ensure_pool)
                self._ensure_pool()
                self._pump()

    # ------------------------------------------------------------------ scheduling

    def _next_pending(self) -> int | None:
        # under lock
        while self._queue:
            k = self._queue.popleft()
            if k not in self._queued:
                continue
            self._queued.discard(k)
            if not self._done[k] and k not in self._inflight and k not in self._errors:
                return k
        return None

    def _pool_usable(self) -> bool:
        # under lock
        return not (self._pool is None or _pool.is_broken())

    def _ensure_pool(self) -> None:
        # under lock
        if self._pool is not None or self._pool_tried or self._closed:
            return
        if self._backend.pool_ts is None:
            return
        if not bool(self._done.any()) and not _pool.is_warm():
            # starting processes costs CPU: let the first slice decode at full speed first
            return
        remaining = sum(1 for k in self._queued if not self._done[k])
        if remaining < _MIN_POOL_SLICES and not _pool.is_warm():
            return
        self._pool_tried = True
        pool = _pool.acquire(self._backend.pool_ts)
        if pool is not None:
            self._pool = pool
            self._pool_release = weakref.finalize(self, _pool.release)

    def _pump(self) -> None:
        # under lock: keep the workers fed with the highest-priority pending slices
        if not self._pool_usable():
            return
        assert self._pool is not None
        limit = 2 * max(_pool.worker_count(), 1)
        while sum(1 for s in self._inflight.values() if s == "pool") < limit:
            k = self._next_pending()
            if k is None:
                return
            try:
                task = None if k in self._local_only else self._backend.pool_task(k)
            except DicomLoadError as exc:
                self._fail(k, exc)
                continue
            if task is None:  # not worth a worker: back to the front for local decoding
                self._queue.appendleft(k)
                self._queued.add(k)
                self._start_thread()
                return
            fn, args, kwargs = task
            try:
                fut = self._pool.submit(fn, *args, **kwargs)
            except Exception as exc:
                if isinstance(exc, BrokenProcessPool):
                    _pool.mark_broken(exc)
                else:  # shut down (shutdown_workers()): a new pool may be started later
                    self._pool_tried = False
                    if self._pool_release is not None:
                        self._pool_release()
                        self._pool_release = None
                self._pool = None
                self._queue.appendleft(k)
                self._queued.add(k)
                self._start_thread()
                return
            self._inflight[k] = "pool"
            self._futures[k] = fut
            fut.add_done_callback(partial(self._on_pool_done, k))

    def _on_pool_done(self, k: int, fut: Future[Any]) -> None:
        arr: NDArray[Any] | None = None
        error: DicomLoadError | None = None
        requeue = local = False
        if fut.cancelled():
            requeue = True
        else:
            exc = fut.exception()
            if exc is None:
                _pool.mark_warm()
                try:
                    arr = self._backend.finish(k, fut.result())
                except DicomLoadError as e:
                    error = e
            elif isinstance(exc, BrokenProcessPool):
                _pool.mark_broken(exc)
                requeue = True
            elif not isinstance(exc, Exception):  # KeyboardInterrupt in a worker: not the file
                requeue = local = True
            else:
                error = self._backend.pool_error(k, exc)
                error.__cause__ = exc
        new = False
        with self._lock:
            if self._inflight.get(k) == "pool":
                del self._inflight[k]
            self._futures.pop(k, None)
            if arr is not None:
                new = self._put(k, arr)
            elif error is not None and not self._done[k]:
                self._fail(k, error)
            elif requeue and not self._done[k] and not self._closed:
                self._queue.appendleft(k)
                self._queued.add(k)
                if local:  # decoded in-process from now on (see _pump)
                    self._local_only.add(k)
            if _pool.is_broken():
                self._pool = None
            if not self._closed:
                self._pump()
                if self._queued and (self._pool is None or not _pool.is_warm()):
                    self._start_thread()
            self._cond.notify_all()
        if new:
            self._notify(k)

    def _start_thread(self) -> None:
        # under lock
        if self._closed or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._worker, name="dicom-annot-decode", daemon=True)
        self._thread.start()

    def _worker(self) -> None:
        me = threading.current_thread()
        while True:
            with self._lock:
                if self._closed or (
                    self._backend.all_pool and self._pool_usable() and _pool.is_warm()
                ):
                    k = None
                else:
                    k = self._next_pending()
                if k is None:
                    if self._thread is me:
                        self._thread = None
                    return
                self._inflight[k] = "local"
            self._decode_here(k)

    def release(self, timeout: float = 5.0) -> bool:
        """Forget the decoded pixels, freeing their memory; they are decoded again when asked
        for. Background decoding stops (slices being decoded finish first). A series made
        from an array keeps it: the array is its source.

        Returns
        -------
        bool
            Whether the pixels were let go (False for an array, or when decoding in progress
            did not finish within ``timeout`` seconds).
        """
        if isinstance(self._backend, _ArrayBackend):
            return False
        with self._build_lock, self._lock:
            self._queue = deque()
            self._queued = set()
            if not self._cond.wait_for(lambda: not self._inflight, timeout):
                return False
            self._stored = None
            self._array = None
            self._array_final = False
            self._mode = "stored"
            self._done[:] = False
            return True

    def prefetch(self, order: Sequence[int]) -> None:
        """Decode slices in the background, in this priority order.

        Calling it again replaces the previous order (slices already being decoded finish).
        Typical use: the current slice first, then outward (k, k+1, k-1, k+2, ...).

        Parameters
        ----------
        order
            Slice indices, highest priority first; duplicates and decoded slices are ignored.
        """
        if isinstance(order, (str, bytes)) or not isinstance(order, Iterable):
            raise TypeError(
                f"prefetch: order must be a sequence of slice indices (e.g. [k, k + 1, k - 1]), "
                f"got {order!r}"
            )
        ks = [self._index(k) for k in order]
        self._materialize()
        with self._lock:
            if self._closed:
                return
            self._queue = deque()
            self._queued = set()
            for k in ks:
                if k in self._queued or self._done[k] or k in self._inflight:
                    continue
                self._queue.append(k)
                self._queued.add(k)
            self._ensure_pool()
            self._pump()
            if self._queued:
                self._start_thread()

    def _materialize(self) -> None:
        """Array sources: the volume itself is the stored cache (no copy, all "decoded")."""
        backend = self._backend
        if not isinstance(backend, _ArrayBackend):
            return
        with self._lock:
            if bool(self._done.all()):
                return
        volume = backend.volume()
        with self._lock:
            if self._mode == "stored" and self._stored is None:
                self._stored = volume
                self._done[:] = True
                self._cond.notify_all()

    def _ensure_decoded(self, k: int) -> None:
        self._materialize()
        started = time.monotonic()
        claimed: int | None = None
        try:
            while True:
                with self._lock:
                    if self._done[k]:
                        return
                    if k in self._errors:
                        raise self._errors[k]
                    state = self._inflight.get(k)
                    steal = state == "pool" and (
                        not _pool.is_warm() or time.monotonic() - started >= _WAIT_SLICE
                    )
                    if state is None or steal:
                        self._queued.discard(k)
                        if state is None:
                            claimed = k
                            self._inflight[k] = "local"
                    else:
                        self._cond.wait(timeout=0.25)
                        continue
                self._decode_here(k)
                claimed = None
        except BaseException:
            self._unclaim(claimed)
            raise

    def _build_array(self) -> None:
        # called with _build_lock held
        self._materialize()
        with self._lock:
            if self._integral and not self._identity and self._mode == "stored":
                # decoded slices go straight into the modality volume; stored values are
                # recomputed exactly on demand, so the volume is held only once
                self._array = np.empty((self._n, *self._frame_shape), dtype=self._dtype)
                if self._stored is not None:
                    for k in np.flatnonzero(self._done):
                        self._to_modality_into(self._stored[k], int(k), self._array[k])
                self._stored = None
                self._mode = "modality"
            order = list(self._queue) + [k for k in range(self._n) if k not in self._queued]
            self._queue = deque(k for k in order if not self._done[k])
            self._queued = set(self._queue)
            if not self._closed:
                self._ensure_pool()
                self._pump()
                if self._backend.pool_ts is None and len(self._queue) > 1:
                    # uncompressed: reading and rescaling release the GIL, so a second
                    # thread overlaps with this one
                    self._start_thread()
        last_progress = time.monotonic()
        done_count = -1
        claimed: int | None = None  # the slice this thread decodes (see _unclaim)
        try:
            while True:
                with self._lock:
                    count = int(self._done.sum())
                    if count == self._n:
                        break
                    if count != done_count:
                        done_count, last_progress = count, time.monotonic()
                    if self._errors:
                        first = min(self._errors)
                        raise self._errors[first]
                    # with warm workers taking every slice, this thread only waits for them
                    workers_busy = (
                        _WORKERS_ONLY
                        and self._backend.all_pool
                        and self._pool_usable()
                        and _pool.is_warm()
                    )
                    nxt = None if workers_busy else self._next_pending()
                    if nxt is None:
                        pool_ks = [j for j, s in self._inflight.items() if s == "pool"]
                        stalled = time.monotonic() - last_progress >= _WAIT_SLICE
                        if pool_ks and (not _pool.is_warm() or stalled):
                            nxt = pool_ks[0]  # decode it here too; whichever finishes first wins
                            last_progress = time.monotonic()
                        elif workers_busy and not pool_ks and stalled:
                            nxt = self._next_pending()  # workers idle: do it here
                            if nxt is not None:
                                claimed = nxt
                                self._inflight[nxt] = "local"
                        if nxt is None:
                            self._cond.wait(timeout=0.25)
                            continue
                    else:
                        claimed = nxt
                        self._inflight[nxt] = "local"
                self._decode_here(nxt)
                claimed = None
        except BaseException:
            self._unclaim(claimed)
            raise
        with self._lock:
            if self._mode == "stored":
                assert self._stored is not None
                if self._identity:
                    self._array = self._stored.view()
                elif self._uniform_rescale and self._dtype.kind == "f":
                    out = self._stored.astype(np.float32)
                    if self._slopes[0] != 1.0:
                        out *= np.float32(self._slopes[0])
                    if self._intercepts[0] != 0.0:
                        out += np.float32(self._intercepts[0])
                    self._array = out
                else:
                    out = np.empty((self._n, *self._frame_shape), dtype=self._dtype)
                    for j in range(self._n):
                        self._to_modality_into(self._stored[j], j, out[j])
                    self._array = out
            assert self._array is not None
            self._array.flags.writeable = False
            self._array_final = True

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop background decoding and release the shared worker processes.

        Decoded data stays available; later requests decode in the calling thread.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            self._queued.clear()
            futures = list(self._futures.values())
            self._pool = None
            thread = self._thread
            self._cond.notify_all()
        for fut in futures:
            fut.cancel()
        if self._pool_release is not None:
            self._pool_release()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10.0)

    def __enter__(self) -> Series:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        desc = self.description
        spacing = ", ".join(f"{s:.4g}" for s in self.spacing)
        flags = "" if self.spacing_known else ", spacing unknown"
        return (
            f"<Series {self.modality or '?'} {desc!r} shape={self.shape} "
            f"spacing=({spacing}) mm{flags} plane={self.plane} dtype={self.dtype}>"
        )
