"""Browsing a folder of DICOM files: studies -> series (stacks), opened lazily."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from ..errors import DicomLoadWarning
from ._dicom import series_from_stack
from ._geometry import plane_from_normal
from ._scan import ScanResult, StackGroup, text_of
from .series import Series

__all__ = ["SeriesInfo", "Study", "StudyInfo"]


@dataclass(frozen=True)
class SeriesInfo:
    """What a series (stack) is, without opening it.

    ``stack``/``n_stacks`` say whether a series was split (mixed orientations or matrix
    sizes, e.g. localizers); each stack is listed and opened separately.
    """

    index: int
    study_instance_uid: str
    series_instance_uid: str
    series_number: int | None
    description: str
    modality: str
    n_slices: int
    rows: int
    columns: int
    plane: str
    stack: int
    n_stacks: int
    n_files: int
    uids_substituted: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class StudyInfo:
    """One study and its series."""

    study_instance_uid: str
    description: str
    date: str
    series: tuple[SeriesInfo, ...]


def _plane_of(group: StackGroup) -> str:
    o = group.frames[0].orientation
    if o is None:
        return "?"
    return plane_from_normal(np.cross(np.asarray(o[:3]), np.asarray(o[3:])))


def describe_stack(group: StackGroup, index: int) -> SeriesInfo:
    """The :class:`SeriesInfo` of a stack."""
    return SeriesInfo(
        index=index,
        study_instance_uid=group.study_uid,
        series_instance_uid=group.series_uid,
        series_number=group.series_number,
        description=group.description,
        modality=group.modality,
        n_slices=group.n_slices,
        rows=group.rows,
        columns=group.columns,
        plane=_plane_of(group),
        stack=group.stack,
        n_stacks=group.n_stacks,
        n_files=len(group.files),
        uids_substituted=bool(group.substitutions),
    )


def _cell(text: str, width: int) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


class _SeriesList(Sequence[Series]):
    """``study.series``: a list of :class:`Series`, each opened on first access."""

    def __init__(self, study: Study) -> None:
        self._study = study

    def __len__(self) -> int:
        return len(self._study._stacks)

    @overload
    def __getitem__(self, i: int) -> Series: ...

    @overload
    def __getitem__(self, i: slice) -> list[Series]: ...

    def __getitem__(self, i: int | slice) -> Series | list[Series]:
        if isinstance(i, slice):
            return [self._study.open(j) for j in range(len(self))[i]]
        return self._study.open(i)

    def __iter__(self) -> Iterator[Series]:
        for i in range(len(self)):
            yield self._study.open(i)

    def __repr__(self) -> str:
        return self._study._table()


class Study:
    """The studies and series found under a folder (see :func:`open_study`).

    ``study.series[i]`` (or ``study.open(i)`` / ``study.open(series_instance_uid)``) opens a
    series lazily; nothing is decoded until pixels are asked for. ``print(study)`` shows a
    table. Close the study (or use it as a context manager) to close the series it opened.
    """

    def __init__(self, root: str, scan: ScanResult) -> None:
        self._root = root
        self._stacks = list(scan.stacks)
        self._skipped = list(scan.skipped)
        self._non_image = list(scan.non_image)
        self._infos = [describe_stack(g, i) for i, g in enumerate(self._stacks)]
        self._opened: dict[int, Series] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> str:
        """The folder that was scanned."""
        return self._root

    @property
    def series(self) -> _SeriesList:
        """All series (stacks) as a list of lazily opened :class:`Series`."""
        return _SeriesList(self)

    @property
    def series_info(self) -> list[SeriesInfo]:
        """Descriptions of all series, in the order of :attr:`series`."""
        return list(self._infos)

    @property
    def studies(self) -> list[StudyInfo]:
        """Studies with their series, in order of first appearance."""
        order: dict[str, list[SeriesInfo]] = {}
        first_group: dict[str, StackGroup] = {}
        for info, group in zip(self._infos, self._stacks, strict=True):
            order.setdefault(info.study_instance_uid, []).append(info)
            first_group.setdefault(info.study_instance_uid, group)
        out = []
        for uid, infos in order.items():
            ds = first_group[uid].first.ds
            out.append(
                StudyInfo(
                    study_instance_uid=uid,
                    description=text_of(ds, "StudyDescription"),
                    date=text_of(ds, "StudyDate"),
                    series=tuple(infos),
                )
            )
        return out

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Files that could not be used, with the reason (not DICOM, truncated...)."""
        return list(self._skipped)

    @property
    def non_image(self) -> list[tuple[str, str]]:
        """DICOM files without pixel data (SR, RT plans, DICOMDIR...), with what they are."""
        return list(self._non_image)

    def __len__(self) -> int:
        return len(self._stacks)

    def open(self, key: int | str) -> Series:
        """Open a series by index in :attr:`series` or by SeriesInstanceUID.

        A UID naming a series that was split into stacks opens the largest stack (with a
        warning naming the others); open the others by index.

        Raises
        ------
        IndexError, KeyError
            If there is no such series.
        """
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            index = int(key)
            if index < 0:
                index += len(self._stacks)
            if not 0 <= index < len(self._stacks):
                raise IndexError(
                    f"series index {key} is out of range; this study has {len(self._stacks)}"
                )
        elif isinstance(key, str):
            matches = [i for i, g in enumerate(self._stacks) if g.series_uid == key]
            if not matches:
                raise KeyError(
                    f"no series with SeriesInstanceUID {key!r} under '{self._root}'; "
                    "see study.series_info"
                )
            index = max(matches, key=lambda i: self._stacks[i].n_slices)
            if len(matches) > 1:
                others = ", ".join(
                    f"index {i} ({self._stacks[i].n_slices} slices)" for i in matches if i != index
                )
                warnings.warn(
                    f"series {key} was split into {len(matches)} stacks; opened index {index} "
                    f"({self._stacks[index].n_slices} slices). Others: {others}.",
                    DicomLoadWarning,
                    stacklevel=2,
                )
        else:
            raise TypeError(f"key must be an int index or a UID string, not {type(key).__name__}")
        with self._lock:
            if index not in self._opened:
                self._opened[index] = series_from_stack(self._stacks[index], source=self._root)
            return self._opened[index]

    def opened(self, index: int) -> Series | None:
        """Series ``index`` if :meth:`open` opened it already, else None (opens nothing)."""
        return self._opened.get(index)

    def close(self) -> None:
        """Close every series opened from this study."""
        with self._lock:
            opened = list(self._opened.values())
        for s in opened:
            s.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _table(self) -> str:
        lines = []
        for study in self.studies:
            head = f"Study {study.study_instance_uid}"
            extra = ", ".join(
                x for x in (study.date, repr(study.description) if study.description else "") if x
            )
            lines.append(head + (f" ({extra})" if extra else ""))
            lines.append(
                f"  {'#':>3}  {'ser#':>5}  {'mod':<5} {'description':<32} {'slices':>6}  "
                f"{'matrix':>9}  {'plane':<8}"
            )
            for info in study.series:
                num = "" if info.series_number is None else str(info.series_number)
                desc = info.description
                if info.n_stacks > 1:
                    desc = f"{desc} [stack {info.stack + 1}/{info.n_stacks}]"
                lines.append(
                    f"  {info.index:>3}  {num:>5}  {_cell(info.modality, 5):<5} "
                    f"{_cell(desc, 32):<32} {info.n_slices:>6}  "
                    f"{f'{info.rows}x{info.columns}':>9}  {info.plane:<8}"
                )
        if self._skipped:
            lines.append(f"({len(self._skipped)} file(s) skipped; see .skipped)")
        if self._non_image:
            lines.append(
                f"({len(self._non_image)} DICOM file(s) without pixel data; see .non_image)"
            )
        if not lines:
            lines.append(f"No DICOM images under '{self._root}'.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._table()
