"""Packaging: one version for Python and JS, the built front end ships in the package."""

from __future__ import annotations

import json
from pathlib import Path

import dicom_annot_widget as daw

ROOT = Path(__file__).resolve().parents[1]
STATIC = Path(daw.__file__).parent / "static"


def test_python_and_js_share_one_version() -> None:
    package_json = json.loads((ROOT / "package.json").read_text())
    assert daw.__version__ == package_json["version"]
    # the bundle carries the same version (read by the page and set as data-version)
    bundle = (STATIC / "widget.js").read_text()
    assert f'"{package_json["version"]}"' in bundle


def test_built_front_end_is_in_the_package() -> None:
    esm, css = STATIC / "widget.js", STATIC / "widget.css"
    assert esm.stat().st_size > 1000 and "export" in esm.read_text()
    assert ".daw-root" in css.read_text()
    # the widget class serves exactly these files
    assert str(daw.DicomAnnotator._esm) == esm.read_text()


def test_public_api_and_one_exception_hierarchy() -> None:
    for name in ("open_series", "open_study", "Series", "Study", "DicomAnnotator"):
        assert hasattr(daw, name), name
    for exc in (daw.DicomLoadError, daw.MissingDecoderError, daw.LabelError, daw.ProtocolError):
        assert issubclass(exc, daw.DicomAnnotError)
    assert issubclass(daw.DicomLoadError, ValueError)
