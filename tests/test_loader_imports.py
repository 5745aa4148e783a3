"""Opening DICOM files does not import what only other inputs need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_opening_a_dicom_folder_does_not_import_nibabel(tmp_path: Path) -> None:
    """nibabel (about 80 modules, 20-40 ms) is imported only for a NIfTI input: a DICOM
    folder opened in a fresh interpreter leaves it out, which shortens the cell that shows a
    series."""
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import dicom_annot_widget as daw\n"
        f"folder = daw.write_phantom_series({str(tmp_path / 'ct')!r}, n_slices=3, rows=32,"
        " columns=32)\n"
        "before = 'nibabel' in sys.modules\n"
        "series = daw.open_series(folder)\n"
        "print(before, 'nibabel' in sys.modules, series.shape)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "False", "(3,", "32,", "32)"], out.stdout
