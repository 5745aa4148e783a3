"""Compressed slices decoded in worker processes equal in-process decoding; failures fall back."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicom_annot_widget.io import _pool, open_series, shutdown_workers
from dicom_annot_widget.io import series as series_module


def test_worker_task_is_picklable_and_exact(ct_abdomen_dir: Path) -> None:
    with open_series(ct_abdomen_dir) as s:
        backend = s._backend
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            for k in (0, 11):
                task = backend.pool_task(k)
                assert task is not None
                fn, args, kwargs = task
                remote = backend.finish(k, ex.submit(fn, *args, **kwargs).result(timeout=120))
                np.testing.assert_array_equal(remote, backend.decode(k))
                np.testing.assert_array_equal(remote, s.get_stored_slice(k))


class _BrokenExecutor:
    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_exception(BrokenProcessPool("a worker died"))
        return fut


def test_a_broken_pool_falls_back_to_in_process_decoding(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pool, "acquire", lambda *a, **k: _BrokenExecutor())
    monkeypatch.setattr(_pool, "_broken", False)
    monkeypatch.setattr(series_module, "_MIN_POOL_SLICES", 1)
    files = sorted(ct_abdomen_dir.glob("*.dcm"))[:4]
    with open_series(files) as s:
        arr = s.array
        assert _pool.is_broken()
        assert s.decoded.all()
        np.testing.assert_array_equal(arr[2], s.get_stored_slice(2).astype(np.int32) - 1024)


def test_closing_releases_the_shared_workers(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _pool.worker_count() == 0 or _pool.is_broken():
        pytest.skip("worker processes disabled")
    shutdown_workers()
    users = _pool._users  # other open series may hold the pool too
    monkeypatch.setattr(series_module, "_MIN_POOL_SLICES", 1)
    s = open_series(sorted(ct_abdomen_dir.glob("*.dcm"))[:4])
    s.prefetch(list(range(len(s))))
    s.get_slice(0)  # the first slice decodes in-process; then the workers start
    s.array  # noqa: B018
    assert _pool._executor is not None and _pool._users == users + 1
    s.close()
    assert _pool._users == users
    if users == 0:
        assert _pool._timer is not None  # idle shutdown scheduled
    shutdown_workers()
    assert _pool._executor is None


_SCRIPT = """
import os, sys
os.write(1, f"ran {{os.getpid()}}\\n".encode())  # one write: lines of the processes stay whole
import dicom_annot_widget as daw
from dicom_annot_widget.io import _pool
{body}
"""
_WORK = """
s = daw.open_series(sys.argv[1])
s.array  # decodes every JPEG 2000 slice
print("workers", _pool.worker_count(), flush=True)
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_a_script_without_a_main_guard_runs_once(
    ct_abdomen_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guarded: bool
) -> None:
    """Spawned decode workers import the main module: a script without an ``if __name__ ==
    "__main__":`` guard would run again in each of them, so it decodes in-process; with the
    guard it gets the workers."""
    import subprocess
    import sys
    import textwrap

    body = _WORK if not guarded else "if __name__ == '__main__':\n" + textwrap.indent(_WORK, "    ")
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT.format(body=body))
    monkeypatch.delenv("DICOM_ANNOT_WIDGET_DECODE_WORKERS", raising=False)
    text = subprocess.run(
        [sys.executable, str(script), str(ct_abdomen_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    out = text.split("\n")
    ran = [line for line in out if line.startswith("ran ")]
    workers = [line for line in out if line.startswith("workers ")]
    assert workers == [f"workers {2 if guarded else 0}"]
    # unguarded: the script ran once. Guarded: each of the 2 workers imported it too (its
    # first line, outside the guard, printed again), which is why the guard matters
    assert len(ran) == (3 if guarded else 1), out


def test_a_script_read_from_stdin_decodes_in_process(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: ``python - <<EOF`` (the main module's file is "<stdin>") started the workers, which
    could not run "<stdin>" again and each printed a FileNotFoundError traceback."""
    import subprocess
    import sys

    monkeypatch.delenv("DICOM_ANNOT_WIDGET_DECODE_WORKERS", raising=False)
    done = subprocess.run(
        [sys.executable, "-", str(ct_abdomen_dir)],
        input=_SCRIPT.format(body=_WORK),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "workers 0" in done.stdout.split("\n")
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("read", ["array", "get_slice"])
def test_an_interrupted_read_can_be_read_again(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    """QA 22b D2: the stop button during ``s.array`` (a KeyboardInterrupt while the cell
    decoded a slice itself) left that slice "in flight" for good: every later read of it,
    the volume and a widget's loading waited for ever. The slice is decoded by the next
    reader."""
    monkeypatch.setattr(_pool, "worker_count", lambda: 0)  # the cell decodes every slice
    files = sorted(ct_abdomen_dir.glob("*.dcm"))[:4]
    with open_series(files) as s:
        decode_here = s._decode_here
        calls: list[int] = []

        def interrupted_once(k: int) -> None:
            # the signal lands after the slice was claimed, before or while it decodes
            calls.append(k)
            if len(calls) == (2 if read == "array" else 1):
                raise KeyboardInterrupt
            decode_here(k)

        monkeypatch.setattr(s, "_decode_here", interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            if read == "array":
                s.array  # noqa: B018
            else:
                s.get_slice(1)
        stopped = calls[-1]
        assert s._inflight.get(stopped) is None
        done: list[Any] = []
        reader = threading.Thread(target=lambda: done.append(s.get_slice(stopped)), daemon=True)
        reader.start()
        reader.join(timeout=30)
        assert done, f"reading slice {stopped} again waited for ever"
        assert s.array.shape[0] == 4 and s.decoded.all()
        np.testing.assert_array_equal(s.array[stopped], done[0])


def test_an_interrupt_in_a_worker_is_not_the_files_fault(
    ct_abdomen_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA 22b D1 (a): a KeyboardInterrupt that came back from a busy worker was recorded as
    the file's decode failure ("the decoder failed: KeyboardInterrupt") for the rest of the
    session. The slice is decoded again."""

    class InterruptedExecutor:
        def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
            fut: Future[Any] = Future()
            fut.set_exception(KeyboardInterrupt())
            return fut

    monkeypatch.setattr(_pool, "acquire", lambda *a, **k: InterruptedExecutor())
    monkeypatch.setattr(_pool, "_broken", False)
    monkeypatch.setattr(series_module, "_MIN_POOL_SLICES", 1)
    files = sorted(ct_abdomen_dir.glob("*.dcm"))[:4]
    with open_series(files) as s:
        s.prefetch(list(range(4)))
        arr = s.array
        assert s.decoded.all() and not s._errors
        np.testing.assert_array_equal(arr[2], s.get_stored_slice(2).astype(np.int32) - 1024)


def test_the_workers_ignore_the_kernels_interrupt(ct_abdomen_dir: Path) -> None:
    """QA 22b D1 (b): Jupyter's interrupt signals the kernel's whole process group; an idle
    worker died of it and the pool was off for the session. The workers ignore SIGINT."""
    if _pool.worker_count() == 0 or _pool.is_broken():
        pytest.skip("worker processes disabled")
    shutdown_workers()
    executor = _pool.acquire()
    assert executor is not None
    try:
        executor.submit(int, 1).result(timeout=120)  # the workers are up
        workers = list(executor._processes.values())
        assert workers
        for proc in workers:
            os.kill(proc.pid, signal.SIGINT)
        time.sleep(1.0)
        assert all(proc.is_alive() for proc in workers)
        assert executor.submit(int, 2).result(timeout=60) == 2
        with open_series(sorted(ct_abdomen_dir.glob("*.dcm"))[:4]) as s:
            assert s.array.shape[0] == 4
        assert not _pool.is_broken()
    finally:
        _pool.release()
        shutdown_workers()


@pytest.mark.parametrize(
    ("source", "guarded"),
    [
        ("run()\nif __name__ == '__main__':\n    main()\n", True),
        ('if "__main__" == __name__:\n    main()\n', True),
        ("import sys\nif __name__ != '__main__':\n    sys.exit()\nmain()\n", True),
        ("print('run as __main__')  # a mention only\nmain()\n", False),
        ("def f():\n    if __name__ == '__main__':\n        pass\nf()\n", False),  # not top level
        ("s = '''\n__main__\n'''\nif (:\n", True),  # not Python: the text decides
    ],
)
def test_the_main_guard_is_read_from_the_code_not_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, guarded: bool
) -> None:
    """QA 22b O5: a script that only mentioned ``__main__`` (in a string) counted as guarded,
    and each spawned worker ran the whole script again (its output appeared three times)."""
    import types

    script = tmp_path / "script.py"
    script.write_text(source)
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(_pool, "_unguarded", {})
    assert _pool.unguarded_main() is not guarded
