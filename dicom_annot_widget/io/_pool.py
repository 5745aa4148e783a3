"""The worker processes that decode compressed pixel data, shared by all open series.

Compressed decoders (OpenJPEG, libjpeg) hold the GIL, so parallel decoding needs processes.
Starting a process (interpreter + NumPy + pydicom) costs far more than decoding a slice, so one
pool serves every series: it is started lazily by the first series that needs it, counted in
and out by :func:`acquire` / :func:`release`, and shut down ``IDLE_SECONDS`` after the last
user released it, at interpreter exit, or immediately by :func:`shutdown_workers`.

The pool uses the ``spawn`` start method on every platform (safe with threads and in Jupyter),
and runs only pydicom's own decoder methods, so a worker imports pydicom, not this package.
A spawned process does import the main module, though: in a script, the script itself. So
a script without an ``if __name__ == "__main__":`` guard would run again in every worker;
for such a script (its source has no ``__main__`` test) no pool is started unless the
environment variable asks for one. In Jupyter the main module has no file and nothing re-runs.
If the pool breaks (a worker died, spawning failed) it is marked broken and decoding
continues in-process.
"""

from __future__ import annotations

import ast
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

__all__ = [
    "IDLE_SECONDS",
    "acquire",
    "is_broken",
    "is_warm",
    "mark_broken",
    "mark_warm",
    "release",
    "shutdown_workers",
    "start_workers",
    "worker_count",
]

_log = logging.getLogger(__name__)

#: Seconds the pool stays alive after the last series released it.
IDLE_SECONDS = 60.0
_ENV = "DICOM_ANNOT_WIDGET_DECODE_WORKERS"

_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None
_users = 0
_broken = False
_warm = False
_timer: threading.Timer | None = None


def worker_count() -> int:
    """Number of decode worker processes (environment ``DICOM_ANNOT_WIDGET_DECODE_WORKERS``).

    Defaults to 2, or to 0 in a script without an ``if __name__ == "__main__":`` guard (the
    workers would run it again); 0 disables worker processes (everything decodes in-process).
    """
    raw = os.environ.get(_ENV)
    if raw is None:
        return 0 if unguarded_main() else 2
    try:
        return max(0, int(raw))
    except ValueError:
        return 2


_unguarded: dict[str, bool] = {}


def unguarded_main() -> bool:
    """Whether the main module is a script that spawned processes would run again: it has a
    file (unlike Jupyter's) whose source never tests ``__name__`` against ``"__main__"``."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not isinstance(path, str):
        return False
    if path.startswith("<"):
        # a script read from stdin ("<stdin>"): spawned processes cannot run it again, and
        # each would print a FileNotFoundError
        return True
    if path not in _unguarded:
        try:
            with open(path, "rb") as fp:
                source = fp.read(4 * 1024 * 1024)
        except OSError:
            source = b"__main__"  # not readable (frozen, zipped): assume the usual guard
        _unguarded[path] = not _has_main_guard(source)
    return _unguarded[path]


def _has_main_guard(source: bytes) -> bool:
    """Whether a script's top level has ``if __name__ == "__main__":`` (either order, ``==``
    or ``!=``). Not just the text: a script that only mentions ``__main__`` (in a string, a
    comment) ran again in each worker (QA 22b)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # not Python this version parses: the text decides
        return b"__main__" in source
    for node in tree.body:
        if not isinstance(node, ast.If):
            continue
        for part in ast.walk(node.test):
            if not isinstance(part, ast.Compare):
                continue
            sides = [part.left, *part.comparators]
            if any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides) and any(
                isinstance(x, ast.Constant) and x.value == "__main__" for x in sides
            ):
                return True
    return False


def _warmup_done(fut: Future[Any]) -> None:
    if fut.cancelled():
        return
    if fut.exception() is None:
        mark_warm()
    else:
        mark_broken(fut.exception())


def _ignore_interrupts() -> None:
    """In each worker: ignore SIGINT. Jupyter's interrupt (the stop button) signals the
    kernel's whole process group, the workers included: a busy worker's decode then failed
    with KeyboardInterrupt (recorded as the file's fault), an idle one died and the pool was
    switched off for the session (QA 22b). The user stops the cell, not the decoding."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def acquire(warmup_arg: Any = None) -> ProcessPoolExecutor | None:
    """Register a user of the pool, starting it if needed.

    Parameters
    ----------
    warmup_arg
        A transfer syntax UID; if the pool is started now, each worker imports pydicom's
        decoder for it right away so that the first real task does not pay for imports.

    Returns
    -------
    ProcessPoolExecutor or None
        ``None`` if worker processes are disabled or broken.
    """
    global _executor, _users, _timer
    n = worker_count()
    with _lock:
        if _broken or n == 0:
            return None
        if _timer is not None:
            _timer.cancel()
            _timer = None
        if _executor is None:
            try:
                _executor = ProcessPoolExecutor(
                    max_workers=n,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_ignore_interrupts,
                )
            except Exception as exc:  # pragma: no cover - platform without processes
                _log.debug("cannot start decode workers: %s", exc)
                return None
            if warmup_arg is not None:
                from pydicom.pixels import get_decoder

                for _ in range(n):
                    try:
                        _executor.submit(get_decoder, warmup_arg).add_done_callback(_warmup_done)
                    except Exception:  # pragma: no cover
                        break
        _users += 1
        return _executor


def start_workers(transfer_syntax: str = "1.2.840.10008.1.2.4.90") -> bool:
    """Start the decode worker processes now (they otherwise start on first need).

    Useful before timing or before opening many compressed series: the processes import
    pydicom once, in the background. They stop ``IDLE_SECONDS`` after the last series using
    them is closed (or now, with :func:`shutdown_workers`).

    Parameters
    ----------
    transfer_syntax
        Transfer syntax whose decoder the workers import while starting (JPEG 2000 by
        default).

    Returns
    -------
    bool
        False if worker processes are disabled or unavailable.
    """
    pool = acquire(transfer_syntax)
    if pool is None:
        return False
    release()
    return True


def release() -> None:
    """Unregister a user; the pool shuts down ``IDLE_SECONDS`` after the last one leaves."""
    global _users, _timer
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _executor is not None and _timer is None:
            _timer = threading.Timer(IDLE_SECONDS, _idle_shutdown)
            _timer.daemon = True
            _timer.start()


def _idle_shutdown() -> None:
    with _lock:
        if _users > 0:
            return
    shutdown_workers(wait=False)


def is_warm() -> bool:
    """True once a worker has completed a task (so waiting on the pool is cheap)."""
    return _warm and not _broken


def mark_warm() -> None:
    """Record that workers are up and answering."""
    global _warm
    _warm = True


def is_broken() -> bool:
    """True if the pool failed; callers then decode in-process."""
    return _broken


def mark_broken(exc: BaseException | None = None) -> None:
    """Stop using worker processes for the rest of the session (a worker crashed)."""
    global _broken
    with _lock:
        if _broken:
            return
        _broken = True
    _log.debug("decode worker pool broken (%s); decoding in-process from now on", exc)
    shutdown_workers(wait=False)


def shutdown_workers(wait: bool = True) -> None:
    """Shut the decode worker processes down now.

    Series keep working afterwards: pending slices decode in-process, and a later series
    starts a new pool when it needs one (unless the pool is marked broken).

    Parameters
    ----------
    wait
        Wait for the worker processes to exit.
    """
    global _executor, _timer, _warm
    with _lock:
        executor, _executor = _executor, None
        if _timer is not None:
            _timer.cancel()
            _timer = None
        _warm = False
    if executor is not None:
        executor.shutdown(wait=wait, cancel_futures=True)
