"""The example notebooks run from top to bottom without errors (a kernel really executes them)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
#: What each notebook must print (its last cells' facts), besides showing a widget.
EXPECTED = {
    "demo.ipynb": ["(120, 256, 256)"],
    "labeling.ipynb": [
        "keyframes 50..62, manual on [50, 62]",  # two drawn, eleven interpolated
        "of them kidney",
        "of them)",  # the kidney painted from a coronal reformat
        "spleen from the model, accepted: 1",
        "predicted boxes",
        "feature_name  keyframes  voxels  volume_ml",  # segment statistics
        "lesion boxes after undo",
        '{"schema":"dicom-annot/1"',
        "1 Liver objects [1]",  # the NIfTI legend
        "DICOM SEG with 4 segments",
    ],
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_example_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the demo writes its phantom
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # the widget cell produced a widget view, and the cells printed what they should
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    for fact in EXPECTED[path.name]:
        assert fact in text, (fact, text[-2000:])
