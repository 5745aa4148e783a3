"""Durable label files: a JSON snapshot plus an append-only journal of operations.

Layout for a label file ``labels.json``:

``labels.json``
    The label document (``dicom-annot/1``), always complete and valid: it is only ever
    replaced atomically (written to ``labels.json.tmp-*``, fsynced, renamed over, directory
    fsynced). Its ``revision`` says which edits it contains.
``labels.json.journal``
    Edits since the snapshot, one line each: ``<crc32 hex> {"rev": N, "op": {...}}``. Every
    edit is appended and ``fdatasync``-ed *before* it is acknowledged (before
    :meth:`~dicom_annot_widget.labels.Labels.apply` returns and observers hear of it), so a
    killed process loses no acknowledged edit. The first line is a header naming the
    revision the journal starts after.
``labels.json.lock``
    Held with ``flock`` while a session has the file open, so two kernels cannot write the
    same labels (POSIX only; the lock dies with the process). It holds the pid of the
    process that has the file open, for the message refusing the others.

Within one process, opening a file that another store holds (typically a notebook cell run
again while the widget it made before is still alive) *takes it over*: the holder is closed
cleanly (every edit it acknowledged is already in the journal; closing folds it into the
snapshot) and refuses later edits with a :class:`LabelFileError` saying it was taken over.

Opening replays the journal onto the snapshot. A torn last journal line (one without its
newline: a write cut short by a crash, never acknowledged) is dropped; any other damage — an
unreadable snapshot, a journal line with a bad checksum or bad JSON (the last one too, when it
is complete), a gap in revisions, an edit that does not apply — refuses the file
with a :class:`~dicom_annot_widget.errors.LabelError` giving the reason, and nothing is
overwritten. The journal is folded into a new snapshot (*compaction*) after
``compact_every`` edits, when edits pause for ``idle_snapshot`` seconds, and on close.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import sys
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from pathlib import Path
from typing import IO, Any

from ..errors import LabelError
from ._check import dumps, loads
from .document import SCHEMA, LabelDocument, SeriesInfo
from .ontology import Ontology
from .operations import Operation, operation_from_dict

try:  # POSIX advisory locks
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LabelFileError", "LabelStore", "default_label_dir", "default_label_path"]

LABEL_DIR_ENV = "DICOM_ANNOT_WIDGET_LABEL_DIR"

log = logging.getLogger(__name__)


class LabelFileError(LabelError):
    """A label file cannot be opened, read or written; the message names the file and why."""


def default_label_dir() -> Path:
    """Where labels go when no file is given.

    ``$DICOM_ANNOT_WIDGET_LABEL_DIR`` if set, else ``$XDG_DATA_HOME/dicom_annot_widget/labels``
    (``~/.local/share/...``) on Linux, ``~/Library/Application Support/dicom_annot_widget/
    labels`` on macOS and ``%LOCALAPPDATA%\\dicom_annot_widget\\labels`` on Windows.
    """
    env = os.environ.get(LABEL_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":  # pragma: no cover - platform specific
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "dicom_annot_widget" / "labels"


def default_label_path(series_instance_uid: str) -> Path:
    """The label file of a series: ``<default_label_dir()>/<hash of the uid>.json``."""
    digest = hashlib.sha256(series_instance_uid.encode("utf-8")).hexdigest()[:24]
    return default_label_dir() / f"{digest}.json"


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be fsynced on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically and durably (temp file, fsync, rename, fsync)."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _line(record: dict[str, Any]) -> bytes:
    body = dumps(record)
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _parse_line(raw: bytes) -> dict[str, Any] | str:
    """The record of a journal line, or why the line is damaged."""
    if not raw.endswith(b"\n"):
        return "cut short: no newline at its end"
    if len(raw) < 10 or raw[8:9] != b" ":
        return "not a '<crc32 hex> <record>' line"
    body = raw[9:-1]
    try:
        checksum = int(raw[:8], 16)
    except ValueError:
        return "bad checksum"
    if checksum != zlib.crc32(body):
        return "bad checksum"
    try:
        record = loads(body)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    return record if isinstance(record, dict) else "the record is not a JSON object"


_OPEN_STORES: weakref.WeakSet[LabelStore] = weakref.WeakSet()
#: The open stores of this process by the real path of their lock file: a store opening a
#: file one of them holds takes it over (see :meth:`LabelStore.open`). Weak, so a store no
#: longer referenced anywhere leaves it.
_HOLDERS: weakref.WeakValueDictionary[str, LabelStore] = weakref.WeakValueDictionary()
_HOLDERS_LOCK = threading.Lock()


@atexit.register
def _close_open_stores() -> None:  # pragma: no cover - runs at interpreter exit
    for store in list(_OPEN_STORES):
        with suppress(Exception):
            store.close()


class LabelStore(AbstractContextManager["LabelStore"]):
    """A label file kept durable edit by edit (see the module docstring).

    Parameters
    ----------
    path
        The label file (``.json``); the journal and lock live beside it.
    compact_every
        Fold the journal into the snapshot after this many edits.
    idle_snapshot
        Also fold it in once no edit came for this many seconds (``None``: only by count and
        on close), so the ``.json`` file on its own is soon up to date.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compact_every: int = 500,
        idle_snapshot: float | None = 2.0,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.compact_every = max(1, int(compact_every))
        self.idle_snapshot = idle_snapshot
        self._lock_file: IO[bytes] | None = None
        self._journal_fd: int | None = None
        self._pending = 0  # journal entries since the snapshot
        self._last_edit = 0.0
        self._source: Callable[[], LabelDocument] | None = None
        self._source_lock: threading.RLock | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = True
        #: the real path of the lock file: this store's key in ``_HOLDERS`` while it is open
        self._holder_key = str(self.lock_path)
        #: closed because a newer store of this process opened the same file
        self._taken_over = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"open, {self._pending} journal entries"
        return f"LabelStore({str(self.path)!r}, {state})"

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the file is closed (never opened, closed, or taken over)."""
        return self._closed

    @property
    def taken_over(self) -> bool:
        """Whether another store of this process opened the same file, which closed this one."""
        return self._taken_over

    def closed_error(self) -> LabelFileError:
        """The error an edit of a closed store raises: it says whether the file was taken
        over (and by what) or closed."""
        if self._taken_over:
            return LabelFileError(
                f"label file {self.path} was taken over by a newer Labels/widget opened on the "
                "same file in this process (e.g. the notebook cell was run again); edit through "
                "that one: it has every label made here"
            )
        return LabelFileError(f"label file {self.path} is closed")

    # ------------------------------------------------------------------ opening

    def open(
        self,
        series: SeriesInfo,
        ontology: Ontology | None,
    ) -> tuple[LabelDocument, bool]:
        """Lock the file and load it, or create it when it does not exist yet.

        Parameters
        ----------
        series
            The series the labels must belong to.
        ontology
            The ontology to use. ``None`` keeps the one stored in the file (required when the
            file does not exist). When it differs from the stored one, the stored labels are
            validated against it and the file is rewritten with it.

        Returns
        -------
        (document, existed)

        Raises
        ------
        LabelFileError
            If the file is locked by another process, unreadable, malformed, belongs to
            another series, or its labels do not fit ``ontology``. Nothing is overwritten.

        Notes
        -----
        When another store of this process holds the file, this one takes it over: the file
        is checked first (a file that does not fit refuses this open and leaves the holder
        as it was), then the holder is closed (see :attr:`taken_over`) and the file opened
        here with every edit the holder made.
        """
        if not self._closed:
            raise LabelFileError(f"label file {self.path} is already open")
        if not self.path.parent.is_dir():  # a mistyped path makes no folders
            raise LabelFileError(
                f"label file {self.path}: its folder {self.path.parent} does not exist"
            )
        self._holder_key = os.path.realpath(self.lock_path)
        holder = self._holder()
        if holder is not None:
            self._take_over(holder, series, ontology)
        try:
            self._acquire_lock()
        except OSError as exc:
            raise LabelFileError(f"label file {self.path}: cannot lock it ({exc})") from None
        try:
            doc, existed, dirty = self._load(series, ontology)
            if dirty or not existed:
                self._write_snapshot(doc)
            elif not self.journal_path.exists():  # e.g. a file written by Labels.save()
                atomic_write(self.journal_path, self._header(doc))
            self._open_journal()
        except OSError as exc:
            self._release_lock()
            raise LabelFileError(f"label file {self.path}: cannot write ({exc})") from None
        except BaseException:
            self._release_lock()
            raise
        self._closed = False
        self._taken_over = False
        _OPEN_STORES.add(self)
        with _HOLDERS_LOCK:
            _HOLDERS[self._holder_key] = self
        return doc, existed

    def _holder(self) -> LabelStore | None:
        """The open store of this process that holds this file, if any."""
        with _HOLDERS_LOCK:
            holder = _HOLDERS.get(self._holder_key)
        if holder is None or holder is self or holder.closed:
            return None
        return holder

    def _take_over(self, holder: LabelStore, series: SeriesInfo, ontology: Ontology | None) -> None:
        """Close ``holder`` (another store of this process on this file) so that this one
        can open the file, once the file is known to fit ``series`` and ``ontology``.

        Its labels' lock is held throughout: no edit and no snapshot of the holder happens
        meanwhile, and every edit it acknowledged is already in the journal (appended and
        synced before it was acknowledged), which its close folds into the snapshot."""
        with holder._source_lock if holder._source_lock is not None else nullcontext():
            if holder.closed:
                return
            # refuse a file that does not fit before the holder is closed (not after: the
            # holder would be closed for nothing). Temporary files may be the holder's: kept
            self._load(series, ontology, clean=False)
            holder._taken_over = True
            holder.close()
        log.info("label file %s: taken over from an older Labels of this process", self.path)

    def _acquire_lock(self) -> None:
        handle = open(self.lock_path, "ab")  # noqa: SIM115 - held until close()
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                pid = self._lock_holder_pid()
                if pid == os.getpid():  # another store of this process, opening it right now
                    raise LabelFileError(
                        f"label file {self.path} is being opened by other labels of this "
                        "process at the same time; open it once that is done"
                    ) from None
                where = "another process" + ("" if pid is None else f" (pid {pid})")
                raise LabelFileError(
                    f"label file {self.path} is open in {where}; close it there (labels.close() "
                    "or widget.close(), or end that kernel) first"
                ) from None
        with suppress(OSError):  # who holds the file, for the message refusing the others
            os.ftruncate(handle.fileno(), 0)
            _write_all(handle.fileno(), b"%d\n" % os.getpid())
        self._lock_file = handle

    def _lock_holder_pid(self) -> int | None:
        """The pid the lock file names (None if unknown: a holder of an older version)."""
        try:
            text = self.lock_path.read_bytes()[:32].strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            if fcntl is not None:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _clean_temp_files(self) -> None:
        for stale in self.path.parent.glob(f"{self.path.name}.tmp-*"):
            stale.unlink(missing_ok=True)
        for stale in self.path.parent.glob(f"{self.journal_path.name}.tmp-*"):
            stale.unlink(missing_ok=True)

    def _load(
        self, series: SeriesInfo, ontology: Ontology | None, *, clean: bool = True
    ) -> tuple[LabelDocument, bool, bool]:
        if clean:
            self._clean_temp_files()
        if not self.path.exists():
            if self.journal_path.exists() and self.journal_path.stat().st_size > 0:
                raise LabelFileError(
                    f"label file {self.path} is missing but its journal {self.journal_path} "
                    "exists; restore the label file or move the journal away"
                )
            if ontology is None:
                raise LabelFileError(
                    f"label file {self.path} does not exist yet; give an ontology to create it"
                )
            return LabelDocument(series, ontology), False, True
        try:
            text = self.path.read_bytes()
        except OSError as exc:
            raise LabelFileError(f"label file {self.path}: cannot read it ({exc})") from None
        try:
            stored = LabelDocument.from_json(text)
        except LabelError as exc:
            raise LabelFileError(f"label file {self.path} is not valid: {exc}") from None
        if stored.series.series_instance_uid != series.series_instance_uid:
            raise LabelFileError(
                f"label file {self.path} belongs to series "
                f"{stored.series.series_instance_uid!r}, not {series.series_instance_uid!r}"
            )
        if stored.series.shape != series.shape:
            raise LabelFileError(
                f"label file {self.path} was made for a series of shape {stored.series.shape} "
                f"(slices, rows, columns); this one is {series.shape}"
            )
        doc = stored
        dirty = False
        if ontology is not None and ontology != stored.ontology:
            try:
                doc = LabelDocument.from_json(text, ontology=ontology)
            except LabelError as exc:
                raise LabelFileError(
                    f"the labels in {self.path} do not fit the given ontology: {exc}"
                ) from None
            dirty = True
        if series != stored.series:  # same uid and shape; record the other uids given now
            doc.series = series
            dirty = True
        replayed, torn = self._replay(doc)
        return doc, True, dirty or replayed > 0 or torn

    def _replay(self, doc: LabelDocument) -> tuple[int, bool]:
        """Apply the journal's edits newer than the snapshot; returns (count, torn tail).

        Only a last line without its newline is a torn tail (dropped); any other damaged line,
        the last one included, refuses the file.
        """
        if not self.journal_path.exists():
            return 0, False
        try:
            lines = self.journal_path.read_bytes().splitlines(keepends=True)
        except OSError as exc:
            raise LabelFileError(f"journal {self.journal_path}: cannot read it ({exc})") from None
        where = f"journal {self.journal_path}"
        torn = False
        records: list[dict[str, Any]] = []
        for number, raw in enumerate(lines, start=1):
            record = _parse_line(raw)
            if isinstance(record, str):
                if number == len(lines) and not raw.endswith(b"\n"):
                    # an append cut short by a crash, so never acknowledged. A complete last
                    # line was written whole and may have been acknowledged: damage there is
                    # refused like anywhere else, never dropped
                    torn = True
                    break
                raise LabelFileError(
                    f"{where}, line {number}: damaged ({record}); the label file was left unchanged"
                )
            records.append(record)
        if not records:
            return 0, torn
        header = records[0]
        if header.get("journal") != SCHEMA or not isinstance(header.get("base_revision"), int):
            raise LabelFileError(f"{where}, line 1: not a {SCHEMA} journal header")
        count = 0
        expected = doc.revision + 1
        for number, record in enumerate(records[1:], start=2):
            rev = record.get("rev")
            if not isinstance(rev, int) or "op" not in record:
                raise LabelFileError(f"{where}, line {number}: not a journal entry")
            if rev < expected:
                continue  # already in the snapshot
            if rev != expected:
                raise LabelFileError(
                    f"{where}, line {number}: revision {rev} follows revision {expected - 1}; "
                    "edits are missing, so the journal does not belong to this label file"
                )
            try:
                operation_from_dict(record["op"]).apply(doc)
            except LabelError as exc:
                raise LabelFileError(
                    f"{where}, line {number} (revision {rev}): the edit does not apply: {exc}"
                ) from None
            doc.revision = rev
            expected = rev + 1
            count += 1
        return count, torn

    # ------------------------------------------------------------------ writing

    def _open_journal(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
        flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._journal_fd = os.open(self.journal_path, flags)

    @staticmethod
    def _header(doc: LabelDocument) -> bytes:
        return _line({"journal": SCHEMA, "base_revision": doc.revision})

    def _write_snapshot(self, doc: LabelDocument) -> None:
        atomic_write(self.path, doc.to_bytes())
        atomic_write(self.journal_path, self._header(doc))
        self._pending = 0

    def append(self, revision: int, op: Operation) -> None:
        """Append one edit to the journal and make it durable before returning.

        Raises
        ------
        LabelFileError
            If the edit could not be written (disk full, file removed...).
        """
        if self._closed or self._journal_fd is None:
            raise self.closed_error()
        data = _line({"rev": revision, "op": op.to_dict()})
        try:
            _write_all(self._journal_fd, data)
            _sync(self._journal_fd)
        except OSError as exc:
            raise LabelFileError(f"journal {self.journal_path}: cannot write ({exc})") from None
        self._pending += 1
        self._last_edit = time.monotonic()
        if self._thread is not None:
            with self._wake:
                self._wake.notify()

    @property
    def needs_compaction(self) -> bool:
        return self._pending >= self.compact_every

    def compact(self, doc: LabelDocument) -> None:
        """Write ``doc`` as the new snapshot and start an empty journal."""
        if self._closed:
            raise self.closed_error()
        if self._pending == 0 and self.path.exists():
            return
        try:
            self._write_snapshot(doc)
            self._open_journal()
        except OSError as exc:
            # the old snapshot + journal are still complete; keep appending to the journal
            raise LabelFileError(f"label file {self.path}: cannot write ({exc})") from None

    # ------------------------------------------------------------------ background snapshot

    def attach(self, source: Callable[[], LabelDocument], lock: threading.RLock) -> None:
        """Let the store snapshot on its own (when idle, and at exit): ``source()`` gives the
        current document and is called with ``lock`` held."""
        self._source = source
        self._source_lock = lock
        if self.idle_snapshot is not None and self._thread is None:
            self._thread = threading.Thread(
                target=self._idle_loop, name=f"labels-snapshot-{self.path.name}", daemon=True
            )
            self._thread.start()

    def _idle_loop(self) -> None:
        assert self.idle_snapshot is not None
        delay = self.idle_snapshot
        while True:
            with self._wake:
                if self._closed:
                    return
                if self._pending == 0:
                    self._wake.wait()
                    continue
                remaining = self._last_edit + delay - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
            # never block on the lock: whoever holds it may be closing us and joining this thread
            self._snapshot_from_source(timeout=0.2)

    def _snapshot_from_source(self, timeout: float = -1) -> None:
        if self._source is None or self._source_lock is None:
            return
        if not self._source_lock.acquire(timeout=timeout):
            return
        try:
            if self._closed or self._pending == 0:
                return
            try:
                self.compact(self._source())
            except LabelError:
                # compaction is an optimisation: the journal still holds every edit
                self._last_edit = time.monotonic()
        finally:
            self._source_lock.release()

    def flush(self) -> None:
        """Fold the journal into the snapshot now (the ``.json`` file is then complete)."""
        self._snapshot_from_source()

    def close(self) -> None:
        """Write a final snapshot, stop the background thread and release the lock."""
        if self._closed:
            return
        try:
            self._snapshot_from_source()
        finally:
            with self._wake:
                self._closed = True
                self._wake.notify_all()
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            self._release_lock()
            _OPEN_STORES.discard(self)
            with _HOLDERS_LOCK:
                if _HOLDERS.get(self._holder_key) is self:
                    del _HOLDERS[self._holder_key]
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
