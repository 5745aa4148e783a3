"""Durable label files: restore on reopen, atomic snapshots, journal replay, refusal of
damaged files (which are never overwritten), locking, and a real SIGKILL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.labels import (
    LabelDocument,
    LabelFileError,
    Labels,
    Ontology,
    default_label_path,
)
from dicom_annot_widget.labels.store import LABEL_DIR_ENV

ROOT = Path(__file__).resolve().parents[1]
SERIES = {"series_instance_uid": "1.2.840.99.1", "shape": [30, 64, 64]}


def ontology() -> Ontology:
    return (
        Ontology.builder()
        .object("Lesion", "bounding_box")
        .checklist("Findings", ["cyst", "mass"])
        .object("Liver", "polygon")
        .build()
    )


def open_labels(path: Path, **kwargs: object) -> Labels:
    kwargs.setdefault("idle_snapshot", None)
    return Labels.open(SERIES, ontology(), path, **kwargs)  # type: ignore[arg-type]


def crash_copy(path: Path, dest: Path) -> Path:
    """Copy a label file and its journal as a crash would leave them (the store stays open)."""
    dest.mkdir()
    shutil.copy2(path, dest / path.name)
    journal = path.with_name(path.name + ".journal")
    if journal.exists():
        shutil.copy2(journal, dest / journal.name)
    return dest / path.name


def test_open_creates_then_reopening_restores(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    with open_labels(path) as labels:
        uid = labels.add_box("Lesion", 3, (1, 1, 5, 5))
        labels.set_static(uid, "Findings", ["mass"])
        text = labels.to_json()
        assert labels.path == path and labels.revision == 2
    # the snapshot alone is complete after close
    assert LabelDocument.from_json(path.read_text()).to_json() == text
    with Labels.open(SERIES, None, path) as again:  # ontology taken from the file
        assert again.to_json() == text and again.revision == 2
        again.add_box("Lesion", 4, (1, 1, 5, 5))
        assert again.revision == 3  # revisions continue across sessions


def test_an_exported_file_without_journal_can_be_opened(tmp_path: Path) -> None:
    labels = Labels(SERIES, ontology())
    labels.add_box("Lesion", 3, (1, 1, 5, 5))
    path = labels.save(tmp_path / "export.json")
    with Labels.open(SERIES, None, path, idle_snapshot=None) as opened:
        assert opened.to_json() == labels.to_json()
        opened.add_box("Lesion", 4, (1, 1, 5, 5))
    with Labels.open(SERIES, None, path, idle_snapshot=None) as again:
        assert len(again) == 2


def test_default_path_is_derived_from_the_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LABEL_DIR_ENV, str(tmp_path / "store"))
    expected = default_label_path(SERIES["series_instance_uid"])  # type: ignore[arg-type]
    assert expected.parent == tmp_path / "store" and expected.suffix == ".json"
    assert "1.2.840" not in expected.name  # a hash, not the uid
    with Labels.open(SERIES, ontology()) as labels:
        assert labels.path == expected
        labels.add_box("Lesion", 3, (1, 1, 5, 5))
    with Labels.open(SERIES) as again:
        assert len(again) == 1
    other = {"series_instance_uid": "1.2.840.99.2", "shape": [30, 64, 64]}
    with Labels.open(other, ontology()) as fresh:
        assert len(fresh) == 0 and fresh.path != expected
    monkeypatch.delenv(LABEL_DIR_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert str(default_label_path("1.2")).startswith(
            str(tmp_path / "xdg" / "dicom_annot_widget" / "labels")
        )


def test_acknowledged_edits_survive_a_crash_without_close(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    uids = [labels.add_box("Lesion", k, (1, 1, 5, 5)) for k in range(5)]
    labels.delete_object(uids[1])
    labels.undo()
    copy = crash_copy(path, tmp_path / "crash")
    restored = Labels.open(SERIES, None, copy, idle_snapshot=None)
    assert restored.to_json() == labels.to_json()
    restored.close()
    labels.close()


def test_journal_holds_one_line_per_edit(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    labels.add_box("Lesion", 3, (1, 1, 5, 5))
    labels.add_box("Lesion", 4, (1, 1, 5, 5))
    lines = path.with_name("labels.json.journal").read_bytes().splitlines()
    assert len(lines) == 3  # header + 2 edits
    header = json.loads(lines[0][9:])
    assert header == {"journal": "dicom-annot/1", "base_revision": 0}
    entry = json.loads(lines[2][9:])
    assert entry["rev"] == 2 and entry["op"]["op"] == "create_object"
    assert json.loads(path.read_text())["objects"] == []  # not yet folded in
    labels.flush()
    assert len(json.loads(path.read_text())["objects"]) == 2
    assert len(path.with_name("labels.json.journal").read_bytes().splitlines()) == 1
    labels.close()


CHILD = r"""
import sys
from dicom_annot_widget.labels import Labels, Ontology

onto = Ontology.builder().object("Lesion", "bounding_box").build()
labels = Labels.open({"series_instance_uid": "1.2.3", "shape": [50, 64, 64]}, onto, sys.argv[1],
                     compact_every=int(sys.argv[2]), idle_snapshot=0.005)
i = 0
while True:
    uid = labels.add_box("Lesion", i % 50, (1, 1, 2 + i % 60, 3))
    print(labels.revision, uid, flush=True)  # the acknowledgement, after apply() returned
    i += 1
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("compact_every", [4, 100_000])
def test_sigkill_loses_no_acknowledged_edit(tmp_path: Path, compact_every: int) -> None:
    path = tmp_path / "labels.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(compact_every)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None
    acked: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 120
        while len(acked) < 60 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            rev, uid = line.split()
            acked.append((int(rev), uid))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert len(acked) == 60, err
    for line in rest.splitlines():  # everything printed before the kill was acknowledged too
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 36:
            acked.append((int(parts[0]), parts[1]))
    labels = Labels.open(
        {"series_instance_uid": "1.2.3", "shape": [50, 64, 64]}, None, path, idle_snapshot=None
    )
    try:
        missing = [uid for _rev, uid in acked if uid not in labels]
        assert missing == []
        assert labels.revision >= acked[-1][0]
        assert len(labels) == labels.revision  # every revision was one add_box, none torn
    finally:
        labels.close()


def test_a_torn_journal_tail_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    for k in range(3):
        labels.add_box("Lesion", k, (1, 1, 5, 5))
    copy = crash_copy(path, tmp_path / "crash")
    journal = copy.with_name("labels.json.journal")
    with journal.open("ab") as handle:
        handle.write(b'1a2b3c4d {"rev": 4, "op": {"op": "delete_obj')  # cut short, never acked
    restored = Labels.open(SERIES, None, copy, idle_snapshot=None)
    assert restored.to_json() == labels.to_json()
    restored.add_box("Lesion", 9, (1, 1, 5, 5))  # and the journal is usable again
    restored.close()
    again = Labels.open(SERIES, None, copy, idle_snapshot=None)
    assert again.revision == 4 and len(again) == 4
    again.close()
    labels.close()


def crashed_after_three_edits(tmp_path: Path, name: str) -> Path:
    """A label file holding three edits in its journal only, as a crash leaves it, in
    ``tmp_path / name``."""
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    for k in range(3):
        labels.add_box("Lesion", k, (1, 1, 5, 5))
    copy = crash_copy(path, tmp_path / name)
    labels.close()
    return copy


def _bad_checksum(line: bytes) -> bytes:
    return (b"1" if line[:1] == b"0" else b"0") + line[1:]  # one checksum digit flipped


def _bad_json(line: bytes) -> bytes:
    body = b'{"rev": 3, "op": '  # the right checksum of a body that is not JSON
    return b"%08x %s\n" % (zlib.crc32(body), body)


@pytest.mark.parametrize(
    "damage", [_bad_checksum, _bad_json, lambda line: b"\n"], ids=["checksum", "json", "empty"]
)
def test_a_damaged_complete_last_journal_line_is_refused(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    # a last line that ends with its newline was written whole, so it may have been
    # acknowledged: damage there is not a torn append and must not lose the edit silently
    copy = crashed_after_three_edits(tmp_path, "crash")
    journal = copy.with_name("labels.json.journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4 and lines[-1].endswith(b"\n")  # header + 3 edits
    lines[-1] = damage(lines[-1])
    journal.write_bytes(b"".join(lines))
    before = (copy.read_bytes(), journal.read_bytes())
    where = re.escape(f"journal {journal}, line 4: damaged")
    with pytest.raises(LabelFileError, match=where):
        Labels.open(SERIES, None, copy, idle_snapshot=None)
    assert (copy.read_bytes(), journal.read_bytes()) == before
    with pytest.raises(LabelFileError, match="line 4: damaged"):  # and again: nothing was dropped
        Labels.open(SERIES, None, copy, idle_snapshot=None)


def test_damaged_files_are_refused_and_left_as_they_are(tmp_path: Path) -> None:
    good = crashed_after_three_edits(tmp_path, "good")

    def variant(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(good.parent, dest)
        return dest / "labels.json"

    # a damaged line in the middle of the journal
    bad = variant("midline")
    journal = bad.with_name("labels.json.journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4  # header + 3 edits
    lines[2] = lines[2][:40] + b"X" + lines[2][41:]  # one flipped byte, the line stays whole
    journal.write_bytes(b"".join(lines))
    before = journal.read_bytes()
    with pytest.raises(LabelError, match=r"journal .*, line 3: damaged \(bad checksum"):
        Labels.open(SERIES, None, bad)
    assert journal.read_bytes() == before

    # a truncated snapshot
    bad = variant("truncated")
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        LabelError, match=r"label file .* is not valid: not a label document: invalid"
    ):
        Labels.open(SERIES, None, bad)
    assert bad.read_bytes() == data[: len(data) // 2]

    # a snapshot with a bad field
    bad = variant("field")
    doc = json.loads(bad.read_text())
    doc["ontology"]["objects"][0]["shape"] = "circle"
    bad.write_text(json.dumps(doc))
    text = bad.read_text()
    with pytest.raises(LabelError, match=r"is not valid: ontology\.objects\[0\]\.shape: unknown"):
        Labels.open(SERIES, None, bad)
    assert bad.read_text() == text

    # a journal whose edits do not follow the snapshot
    bad = variant("gap")
    journal = bad.with_name("labels.json.journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join([lines[0], *lines[2:]]))
    with pytest.raises(
        LabelError, match=r"line 2: revision 2 follows revision 0; edits are missing"
    ):
        Labels.open(SERIES, None, bad)

    # a journal without its label file
    bad = variant("orphan")
    bad.unlink()
    with pytest.raises(LabelError, match=r"is missing but its journal .* exists"):
        Labels.open(SERIES, ontology(), bad)
    assert not bad.exists()

    # the good copy still opens
    with Labels.open(SERIES, None, good, idle_snapshot=None) as fine:
        assert len(fine) == 3


def test_other_series_missing_ontology_and_incompatible_ontology(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    with open_labels(path) as labels:
        uid = labels.add_box("Lesion", 3, (1, 1, 5, 5))
        labels.set_static(uid, "Findings", ["cyst"])
    text = path.read_text()
    with pytest.raises(LabelError, match=r"belongs to series '1\.2\.840\.99\.1', not '7\.7'"):
        Labels.open({"series_instance_uid": "7.7", "shape": [30, 64, 64]}, None, path)
    with pytest.raises(LabelError, match=r"was made for a series of shape \(30, 64, 64\)"):
        Labels.open({**SERIES, "shape": [31, 64, 64]}, None, path)
    with pytest.raises(LabelError, match="does not exist yet; give an ontology"):
        Labels.open(SERIES, None, tmp_path / "new.json")
    narrow = Ontology.builder().object("Lesion", "bounding_box").build()
    with pytest.raises(LabelError, match=r"do not fit the given ontology: objects\[0\]\.static"):
        Labels.open(SERIES, narrow, path)
    assert path.read_text() == text
    wider = Ontology.from_dict(
        {
            "objects": [
                *ontology().to_dict()["objects"],
                {"name": "Cyst", "shape": "point"},
            ]
        }
    )
    with Labels.open(SERIES, wider, path, idle_snapshot=None) as adopted:
        assert adopted.ontology == wider and len(adopted) == 1
    assert LabelDocument.from_json(path.read_text()).ontology == wider


def test_stale_temp_files_and_crash_between_snapshot_and_journal(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    for k in range(4):
        labels.add_box("Lesion", k, (1, 1, 5, 5))
    copy = crash_copy(path, tmp_path / "crash")
    # crash while writing a snapshot: a half-written temp file beside a good file
    stale = copy.with_name("labels.json.tmp-999-1")
    stale.write_text('{"schema": "dicom-annot/1", "objec')
    # ... or after the snapshot was renamed but before the journal was reset: the snapshot
    # already holds the journal's edits, which must not be applied twice
    copy.write_text(labels.to_json())
    restored = Labels.open(SERIES, None, copy, idle_snapshot=None)
    assert restored.to_json() == labels.to_json() and not stale.exists()
    restored.close()
    labels.close()


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_a_label_file_open_in_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    open_labels(path).close()  # the file exists: the child opens it without an ontology
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        assert child.stdout.readline().strip() == "open", child.stderr
        pattern = (
            rf"label file {re.escape(str(path))} is open in another process \(pid {child.pid}\)"
        )
        with pytest.raises(LabelFileError, match=pattern):
            open_labels(path)
    finally:
        child.stdin.close()  # the child closes its labels and exits
        child.wait(timeout=60)
    open_labels(path).close()  # free again once the other process let it go


HOLDER = r"""
import sys
from dicom_annot_widget.labels import Labels

labels = Labels.open({"series_instance_uid": "1.2.840.99.1", "shape": [30, 64, 64]}, None,
                     sys.argv[1], idle_snapshot=None)
print("open", flush=True)
sys.stdin.read()  # hold the file until the parent closes our stdin
labels.close()
"""


def test_a_second_labels_of_this_process_takes_the_file_over(tmp_path: Path) -> None:
    """QA 21b D3: opening a label file that another Labels object of this process holds (the
    previous run of a notebook cell) takes it over, with every label; the old object then
    refuses edits with a message saying so, and the file is not corrupted."""
    path = tmp_path / "labels.json"
    old = open_labels(path, compact_every=1000)
    boxes = [old.add_box("Lesion", k, (1, 1, 5 + k, 5)) for k in range(3)]
    old.set_static(boxes[0], "Findings", ["mass"])
    old.delete_object(boxes[2])
    old.undo()  # every acknowledged edit, undo included, is in the journal
    text, revision = old.to_json(), old.revision
    new = open_labels(path)
    assert new.to_json() == text and new.revision == revision
    assert old.path == path
    taken = rf"label file {re.escape(str(path))} was taken over by a newer Labels"
    with pytest.raises(LabelFileError, match=taken):
        old.add_box("Lesion", 9, (1, 1, 5, 5))
    with pytest.raises(LabelFileError, match=taken):
        old.undo()
    assert old.to_json() == text  # nothing changed in the old object either
    old.close()  # a no-op: it must not release the new one's lock
    old.flush()
    new.add_box("Lesion", 10, (1, 1, 5, 5))
    new.close()
    with Labels.open(SERIES, None, path, idle_snapshot=None) as again:
        assert len(again) == 4 and again.revision == revision + 1
        assert set(boxes) <= {o.uuid for o in again}


def test_a_takeover_that_does_not_fit_leaves_the_holder_open(tmp_path: Path) -> None:
    """Opening the file for another series (or with an ontology its labels do not fit) is
    refused before the holder is closed: the holder keeps editing."""
    path = tmp_path / "labels.json"
    old = open_labels(path)
    old.add_box("Lesion", 3, (1, 1, 5, 5))
    other_shape = {**SERIES, "shape": [31, 64, 64]}
    with pytest.raises(LabelFileError, match="was made for a series of shape"):
        Labels.open(other_shape, None, path, idle_snapshot=None)
    no_lesion = Ontology.builder().object("Liver", "polygon").build()
    with pytest.raises(LabelFileError, match="unknown object class 'lesion'"):
        Labels.open(SERIES, no_lesion, path, idle_snapshot=None)
    old.add_box("Lesion", 4, (1, 1, 5, 5))  # still the file's holder
    old.close()
    with Labels.open(SERIES, None, path, idle_snapshot=None) as again:
        assert len(again) == 2


def test_compaction_by_count_and_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    journal = path.with_name("labels.json.journal")
    with open_labels(path, compact_every=3) as labels:
        for k in range(3):
            labels.add_box("Lesion", k, (1, 1, 5, 5))
        assert len(journal.read_bytes().splitlines()) == 1  # folded into the snapshot
        assert json.loads(path.read_text())["revision"] == 3
    with open_labels(tmp_path / "idle.json", idle_snapshot=0.05) as labels:
        labels.add_box("Lesion", 1, (1, 1, 5, 5))
        labels.add_box("Lesion", 2, (1, 1, 5, 5))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if json.loads((tmp_path / "idle.json").read_text())["revision"] == 2:
                break
            time.sleep(0.02)
        assert json.loads((tmp_path / "idle.json").read_text())["revision"] == 2


def test_closed_labels_refuse_edits_and_write_failures_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    labels.add_box("Lesion", 1, (1, 1, 5, 5))
    before = labels.to_json()
    store = labels._store
    assert store is not None

    def disk_full(revision: int, op: object) -> None:
        raise LabelFileError("journal: cannot write ([Errno 28] No space left on device)")

    monkeypatch.setattr(store, "append", disk_full)
    with pytest.raises(LabelError, match="No space left"):
        labels.add_box("Lesion", 2, (1, 1, 5, 5))
    assert labels.to_json() == before and labels.revision == 1

    def cannot_encode(revision: int, op: object) -> None:  # anything else the journal hits
        raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(store, "append", cannot_encode)
    with pytest.raises(UnicodeEncodeError):
        labels.add_box("Lesion", 2, (1, 1, 5, 5))
    assert labels.to_json() == before and labels.revision == 1  # rolled back as well
    monkeypatch.undo()
    labels.close()
    with pytest.raises(LabelFileError, match="is closed"):
        labels.add_box("Lesion", 2, (1, 1, 5, 5))
    labels.close()  # closing twice is fine


def test_a_file_that_cannot_be_written_gives_a_label_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dicom_annot_widget.labels.store as store_module

    def no_space(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write", no_space)
    with pytest.raises(LabelError, match=r"labels\.json: cannot write .*No space left"):
        Labels.open(SERIES, ontology(), tmp_path / "labels.json")
    monkeypatch.undo()
    open_labels(tmp_path / "labels.json").close()  # the lock was released


def test_saving_to_a_folder_that_does_not_exist_names_the_target(tmp_path: Path) -> None:
    """QA: labels.save('/nope/x.json') raised a bare FileNotFoundError naming a temp file."""
    labels = Labels(SERIES, ontology())
    labels.add_box("Lesion", 1, (1, 1, 5, 5))
    target = tmp_path / "nope" / "x.json"
    with pytest.raises(LabelFileError, match=r"cannot save the labels to .*nope/x\.json"):
        labels.save(target)
    assert not (tmp_path / "nope").exists()


def test_object_numbers_are_not_given_twice(tmp_path: Path) -> None:
    """Deleting the newest object does not free its number: the next object gets a new one,
    in this session, after an undo, and after the file is opened again (the document keeps
    ``last_object_id`` once the object with the highest number is gone)."""
    path = tmp_path / "labels.json"
    labels = open_labels(path)
    a = labels.add_box("Lesion", 1, (1, 1, 5, 5))
    b = labels.add_box("Lesion", 2, (1, 1, 5, 5))
    assert [labels.get(u).object_id for u in (a, b)] == [1, 2]
    plain = labels.to_json()
    assert "last_object_id" not in plain  # nothing deleted: the document is as before
    labels.delete_object(b)
    assert json.loads(labels.to_json())["last_object_id"] == 2
    c = labels.add_box("Lesion", 3, (1, 1, 5, 5))
    assert labels.get(c).object_id == 3
    labels.undo()  # the creation of #3 is undone: #3 is not given again either
    d = labels.add_box("Lesion", 4, (1, 1, 5, 5))
    assert labels.get(d).object_id == 4
    labels.delete_object(d)
    text = labels.to_json()
    assert Labels.from_json(text).to_json() == text  # the field round-trips exactly
    labels.close()
    again = open_labels(path)
    e = again.add_box("Lesion", 5, (1, 1, 5, 5))
    assert again.get(e).object_id == 5
    again.close()


def test_mistyped_label_calls_say_what_is_wrong(tmp_path: Path) -> None:
    """QA: bare TypeErrors, silent empty answers, a probability map taken as one block, and a
    mistyped folder created at the file system root."""
    onto = Ontology.builder().object("Lesion", "bounding_box").object("Tumour", "bitmask").build()
    labels = Labels(SERIES, onto)
    u = labels.add_box("Lesion", 1, (1, 1, 5, 5))
    assert [o.uuid for o in labels.objects_on_slice(1)] == [u]
    for bad, message in ((-1, "minimum 0"), (30, "maximum 29"), ("a", "expected an integer")):
        with pytest.raises(LabelError, match=message):
            labels.objects_on_slice(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="uuids: expected a uuid string or a list"):
        labels.accept(1)  # type: ignore[arg-type]
    with pytest.raises(LabelError, match=r"labels\.by_object_id\(1\)"):
        labels[1]  # type: ignore[index]
    probabilities = np.full(SERIES["shape"], 0.3)
    with pytest.raises(LabelError, match="threshold a probability map first"):
        labels.add_mask("Tumour", probabilities)
    assert len(labels) == 1
    with pytest.raises(LabelError, match="does not exist"):
        Labels.open(SERIES, ontology(), tmp_path / "no" / "such" / "labels.json")
    assert not (tmp_path / "no").exists()
