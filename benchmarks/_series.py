"""Build the series the load benchmark reads, and a stand-in loader to test the harness.

The real test data (``../shared/data/ct_abdomen/dicom``) is only 20 slices. For a series of a
realistic size, :func:`tiled_series` decodes those 20 slices and repeats them back and forth
(0..19, 18..0, 1..19, ...) into a longer uncompressed series with consistent geometry and UIDs,
written once into a cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

#: Bump when the way the tiled series is built changes (it is part of the cache folder name).
TILED_VERSION = 2


def _normal(ds: Dataset) -> npt.NDArray[np.float64]:
    iop = np.array([float(v) for v in ds.ImageOrientationPatient], dtype=np.float64)
    return np.cross(iop[:3], iop[3:])


def position_along_normal(ds: Dataset) -> float:
    """Position of a slice along its slice normal (what SimpleITK / GDCM sort by)."""
    ipp = np.array([float(v) for v in ds.ImagePositionPatient], dtype=np.float64)
    return float(ipp @ _normal(ds))


def read_headers(folder: Path) -> list[tuple[Path, Dataset]]:
    """The DICOM files of ``folder`` (headers only), by ascending position along the normal."""
    items: list[tuple[Path, Dataset]] = [
        (path, pydicom.dcmread(path, stop_before_pixels=True))
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".") and path.suffix != ".json"
    ]
    items.sort(key=lambda item: position_along_normal(item[1]))
    return items


def _fingerprint(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "daw-bench-load"


def tiled_series(
    source: Path, n_slices: int = 300, cache_dir: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Return a folder holding ``source`` tiled to ``n_slices`` uncompressed slices.

    Built on first use into ``cache_dir`` (a temporary folder renamed into place, so an
    interrupted build is never reused) and reused while the source files are unchanged.

    Returns
    -------
    folder, manifest
        The series folder and a JSON-able description of how it was built.
    """
    files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"No files in {source}.")
    key = _fingerprint(files)
    root = cache_dir or default_cache_dir()
    label = f"{source.parent.name}-{source.name}"
    target = root / f"{label}-tiled{n_slices}-v{TILED_VERSION}-{key}"
    # The manifest sits beside the series folder, not in it (a loader would try to read it).
    manifest_path = target / "manifest.json"
    if manifest_path.exists():
        return target / "series", json.loads(manifest_path.read_text())
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        (tmp / "series").mkdir()
        manifest = _build_tiled(source, tmp / "series", n_slices, key)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        try:
            os.replace(tmp, target)
        except OSError:
            if not manifest_path.exists():  # not a concurrent build that won the race
                raise
        return target / "series", json.loads(manifest_path.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _build_tiled(source: Path, out: Path, n_slices: int, key: str) -> dict[str, Any]:
    # Head to feet (descending position along the normal), like the source's InstanceNumbers.
    headers = read_headers(source)[::-1]
    datasets = []
    for path, _ in headers:
        ds = pydicom.dcmread(path)
        ds.decompress()  # -> Explicit VR Little Endian, native pixel data
        datasets.append(ds)
    n_src = len(datasets)
    first = np.array([float(v) for v in datasets[0].ImagePositionPatient])
    normal = _normal(datasets[0])
    positions = [position_along_normal(ds) for ds in datasets]
    spacing = float(np.median(np.abs(np.diff(positions)))) if n_src > 1 else 1.0
    period = max(1, 2 * (n_src - 1))

    def uid(*parts: object) -> UID:
        return UID(
            generate_uid(entropy_srcs=["daw-bench-tiled", key, str(n_slices), *map(str, parts)])
        )

    study, series, frame = uid("study"), uid("series"), uid("frame")
    for k in range(n_slices):
        i = k % period
        src = i if i < n_src else period - i
        ds = datasets[src]
        sop = uid("instance", k)
        ipp = first - normal * spacing * k
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.FrameOfReferenceUID = frame
        ds.SeriesNumber = 9001
        ds.SeriesDescription = f"ct_abdomen tiled to {n_slices} slices (benchmark)"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{v:.6g}" for v in ipp]
        if "SliceLocation" in ds:
            ds.SliceLocation = f"{float(ipp @ normal):.6g}"
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(out / f"IM{k + 1:05d}.dcm", enforce_file_format=True)
    ds0 = datasets[0]
    return {
        "how": (
            f"The {n_src} slices of {source.parent.name}/{source.name} were decoded with "
            f"pydicom and repeated back and forth (source slice order 0..{n_src - 1}, "
            f"{n_src - 2}..0, 1..) to {n_slices} slices, written as uncompressed Explicit VR "
            "Little Endian files that keep each source header, with new StudyInstanceUID, "
            "SeriesInstanceUID, FrameOfReferenceUID and SOPInstanceUIDs (derived "
            "deterministically; the source's are empty), SOPClassUID CT Image Storage, "
            f"InstanceNumber 1..{n_slices} and ImagePositionPatient stepping {spacing:g} mm "
            "along the slice normal from head to feet."
        ),
        "source": str(source),
        "source_files": n_src,
        "n_slices": n_slices,
        "rows": int(ds0.Rows),
        "columns": int(ds0.Columns),
        "bits_allocated": int(ds0.BitsAllocated),
        "slice_spacing_mm": spacing,
        "transfer_syntax": "Explicit VR Little Endian (uncompressed)",
        "pixel_megabytes": round(n_slices * int(ds0.Rows) * int(ds0.Columns) * 2 / 1e6, 1),
    }


class StubSeries:
    """A naive serial pydicom loader with the shape of ``open_series``'s result.

    Only for exercising the benchmark harness before the real loader exists (``--stub``); its
    timings say nothing about ``dicom_annot_widget``.
    """

    def __init__(self, folder: Path) -> None:
        self._paths = [path for path, _ in read_headers(Path(folder))]

    def __len__(self) -> int:
        return len(self._paths)

    def get_slice(self, index: int) -> npt.NDArray[Any]:
        return np.asarray(pydicom.dcmread(self._paths[index]).pixel_array)

    @property
    def array(self) -> npt.NDArray[Any]:
        return np.stack([self.get_slice(i) for i in range(len(self))])


def stub_open_series(folder: str | os.PathLike[str]) -> StubSeries:
    return StubSeries(Path(folder))
