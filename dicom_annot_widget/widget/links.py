"""View links: a compact, PHI-free string that restores a view (mirror of ``js/link.ts``).

``daw:`` + URL-safe base64 (no padding) of compact JSON with a fixed key order::

    {"v":1,"s":<series hash>,"p":<plane>,"k":<slice>,"w":[center,width],"z":<zoom>,
     "c":[pan_x,pan_y],"r":<rotation>,"f":[flip_h,flip_v]}

and after them ``"i":1`` when the view is inverted, ``"m":<view plane>`` for a coronal or
sagittal reformat and ``"b":<slab>`` for a maximum intensity projection (links of other views
are as before). ``"p"`` is the plane the series was acquired in (a check that the link fits the
series); ``"m"`` uses the label document's plane names, as ``DicomAnnotator.plane`` does.

Numbers are rounded half up to a few decimals and written like JavaScript writes them, so the
page's "copy link" button and :attr:`DicomAnnotator.view_link` give the very same string. The
series is identified by a hash of its SeriesInstanceUID (and, for one of the stacks a series
was split into, of its first slice's SOPInstanceUID; or, when the UID is blank, of its
geometry): never by a name, date or any other value from the header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LINK_PREFIX", "ViewLink", "decode_view_link", "encode_view_link", "series_identity"]

LINK_PREFIX = "daw:"
LINK_VERSION = 1


@dataclass(frozen=True)
class ViewLink:
    """The view a link restores."""

    series: str
    plane: str
    slice: int
    window: tuple[float, float]
    zoom: float
    pan: tuple[float, float]
    rotation: float
    flip: tuple[bool, bool]
    invert: bool = False
    #: the plane shown (label document names: "axial" is the series' own slices)
    view_plane: str = "axial"
    #: slices in the maximum intensity projection (1: none)
    slab: int = 1


def _round(x: float, digits: int) -> int | float:
    """Round half up (as ``Math.floor(x * 10**d + 0.5) / 10**d`` in JavaScript); whole
    numbers come out as ``int`` so that JSON reads ``40``, not ``40.0``."""
    f = 10.0**digits
    r = math.floor(float(x) * f + 0.5) / f
    if r == 0:
        return 0
    if r.is_integer() and abs(r) < 2**53:
        return int(r)
    return r


def encode_view_link(link: ViewLink) -> str:
    """The link string of a view."""
    body = {
        "v": LINK_VERSION,
        "s": link.series,
        "p": link.plane,
        "k": int(link.slice),
        "w": [_round(link.window[0], 3), _round(link.window[1], 3)],
        "z": _round(link.zoom, 4),
        "c": [_round(link.pan[0], 3), _round(link.pan[1], 3)],
        "r": _round(link.rotation, 3),
        "f": [1 if link.flip[0] else 0, 1 if link.flip[1] else 0],
    }
    if link.invert:
        body["i"] = 1
    if link.view_plane != "axial":
        body["m"] = link.view_plane
    if link.slab != 1:
        body["b"] = int(link.slab)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return LINK_PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"view link: {what} must be a number, got {value!r}")
    return float(value)


def _pair(value: Any, what: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"view link: {what} must be a pair of numbers, got {value!r}")
    return (_number(value[0], what), _number(value[1], what))


def decode_view_link(text: str) -> ViewLink:
    """Parse a link.

    Raises
    ------
    ValueError
        If the text is not a view link of a supported version, or a field is missing or of
        the wrong type; the message says which.
    """
    if not isinstance(text, str):
        raise ValueError(f"a view link is a string starting with {LINK_PREFIX!r}, got {text!r}")
    t = text.strip()
    if not t.startswith(LINK_PREFIX):
        raise ValueError(f"a view link starts with {LINK_PREFIX!r}, got {t[:20]!r}")
    payload = t[len(LINK_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        body = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        raise ValueError("view link is not valid (corrupted or truncated)") from None
    if not isinstance(body, dict):
        raise ValueError("view link is not valid (corrupted or truncated)")
    if body.get("v") != LINK_VERSION:
        raise ValueError(f"view link version {body.get('v')!r} is not supported")
    series, plane = body.get("s"), body.get("p")
    if not isinstance(series, str) or not isinstance(plane, str):
        raise ValueError("view link lacks its series or plane")
    k = body.get("k")
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"view link: slice must be a non-negative integer, got {k!r}")
    flip = _pair(body.get("f"), "flip")
    invert = body.get("i", 0)
    if invert not in (0, 1) or isinstance(invert, bool):
        raise ValueError(f"view link: invert must be 0 or 1, got {invert!r}")
    view_plane = body.get("m", "axial")
    if view_plane not in ("axial", "coronal", "sagittal"):
        raise ValueError(
            f"view link: plane shown must be axial, coronal or sagittal, got {view_plane!r}"
        )
    slab = body.get("b", 1)
    if isinstance(slab, bool) or not isinstance(slab, int) or slab < 1:
        raise ValueError(f"view link: slab must be a positive integer, got {slab!r}")
    return ViewLink(
        series=series,
        plane=plane,
        slice=k,
        window=_pair(body.get("w"), "window"),
        zoom=_number(body.get("z"), "zoom"),
        pan=_pair(body.get("c"), "pan"),
        rotation=_number(body.get("r"), "rotation"),
        flip=(flip[0] != 0, flip[1] != 0),
        invert=invert == 1,
        view_plane=view_plane,
        slab=slab,
    )


def _find_keyword(tree: Any, keyword: str, depth: int = 0) -> str:
    """The value of the first top-level element called ``keyword`` in a metadata tree."""
    if depth > 1:
        return ""
    elements = tree.get("elements") if isinstance(tree, dict) else tree
    if isinstance(elements, dict):  # {keyword: value} or {tag: element}
        v = elements.get(keyword)
        if isinstance(v, dict):
            v = v.get("value", v.get("Value"))
        return str(v) if isinstance(v, (str, int, float)) else ""
    if isinstance(elements, list):
        for e in elements:
            if isinstance(e, dict) and e.get("keyword") == keyword:
                v = e.get("value")
                if isinstance(v, list) and len(v) == 1:
                    v = v[0]
                return str(v) if isinstance(v, (str, int, float)) and str(v) else ""
    return ""


def series_identity(series: Any) -> str:
    """A short hash naming a series in view links: of its SeriesInstanceUID (with, for one of
    the stacks a series was split into, its first slice's SOPInstanceUID and frame), or (when
    the loader had to make one up: arrays, NIfTI, blanked DICOM) of its geometry and the
    values of its middle slice, so the same data gets the same hash whenever it is opened.
    Never reversible into header values, and never a name."""
    uid = ""
    value = getattr(series, "series_instance_uid", None)
    if isinstance(value, str) and value.strip():
        uid = value.strip()
    substituted = any(
        getattr(sub, "keyword", "") == "SeriesInstanceUID"
        for sub in getattr(series, "uid_substitutions", None) or []
    )
    if substituted:
        # made up by the loader (arrays, NIfTI, blanked DICOM): may differ on every open
        uid = ""
    if not uid and getattr(series, "metadata", None) is not None and not substituted:
        try:
            uid = _find_keyword(series.metadata, "SeriesInstanceUID").strip()
        except Exception:  # metadata is optional for identity
            uid = ""
    if uid:
        basis = f"uid:{uid}"
        stack = getattr(series, "stack", (0, 1))
        if isinstance(stack, tuple) and len(stack) == 2 and stack[1] > 1:
            # one of the stacks of a split series (echoes, a localizer's planes): named by its
            # first slice, which is its own (QA 23a D10: an echo-2 link restored echo 1)
            uids = getattr(series, "sop_instance_uids", None) or [""]
            frames = getattr(series, "slice_frames", None) or [None]
            basis += f"|stack:{uids[0]}#{frames[0]}"
    else:
        shape = [int(s) for s in series.shape]
        try:
            affine = np.round(np.asarray(series.affine, dtype=float), 3).tolist()
        except Exception:
            affine = []
        spacing = [round(float(s), 4) for s in series.spacing]
        digest = ""
        try:  # the middle slice's values tell apart series of the same geometry
            middle = np.ascontiguousarray(series.get_stored_slice(shape[0] // 2))
            digest = hashlib.sha256(middle.tobytes()).hexdigest()
        except Exception:
            digest = ""
        basis = f"content:{shape}:{affine}:{spacing}:{digest}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
