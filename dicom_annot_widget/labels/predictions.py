"""Import model predictions (boxes, polygons, points, ...) as pending objects.

A prediction record is a dict (a DataFrame row, a JSON object) with

``feature``
    Object class id, name or hotkey (required).
``slice``
    Slice index in ``plane`` (required).
``plane``
    ``axial`` (default), ``coronal`` or ``sagittal``.
``source``
    Name of the model (required here or as the ``source=`` argument); not ``manual`` or
    ``interpolation``.
``confidence``
    A number in [0, 1] (optional).
``track``
    Optional key: records sharing ``(source, feature, plane, track)`` become keyframes of one
    object (its confidence is their mean); without it each record is its own object.
geometry, matching the class's shape
    ``box`` ``[x0, y0, x1, y1]`` or columns ``x0, y0, x1, y1``; ``points`` ``[[x, y], ...]``
    (polygon, polyline); ``point`` ``[x, y]`` or columns ``x, y``; ``nodes`` (+ ``edges``) for
    primitives; ``mask`` (2D array or run-length string) for bitmasks; or ``geometry``, the
    JSON form of a keyframe.

Missing values (``None``, NaN — as pandas fills columns a row does not use) count as absent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._check import check_keys, check_mapping, describe, fail, loads
from .document import (
    LabelDocument,
    check_confidence,
    check_model_source,
    check_plane,
    check_slice,
)
from .geometry import geometry_from_value
from .operations import CreateObject

__all__ = ["PREDICTION_KEYS", "prediction_ops", "prediction_records"]

PREDICTION_KEYS: tuple[str, ...] = (
    "feature",
    "slice",
    "plane",
    "source",
    "confidence",
    "track",
    "geometry",
    "box",
    "x0",
    "y0",
    "x1",
    "y1",
    "points",
    "point",
    "x",
    "y",
    "nodes",
    "edges",
    "mask",
)

_SHAPE_KEYS = {
    "bounding_box": ({"box"}, {"x0", "y0", "x1", "y1"}),
    "polygon": ({"points"},),
    "polyline": ({"points"},),
    "point": ({"point"}, {"x", "y"}),
    "primitive": ({"nodes"},),
    "bitmask": ({"mask"},),
}
_GEOMETRY_KEYS = {"geometry", "box", "x0", "y0", "x1", "y1", "points", "point", "x", "y", "nodes",
                  "edges", "mask"}  # fmt: skip


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def prediction_records(data: Any) -> list[Mapping[str, Any]]:
    """Normalise the accepted inputs to a list of records.

    Accepts a pandas DataFrame, a list of dicts, JSON text (a list, or ``{"predictions":
    [...]}``) or a path (:class:`os.PathLike`) to such a JSON file.
    """
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        records = data.to_dict("records")
    elif isinstance(data, os.PathLike):
        try:
            with open(data, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            fail("predictions", f"cannot read {os.fspath(data)!r} ({exc})")
        return prediction_records(text)
    elif isinstance(data, (str, bytes)):
        try:
            parsed = loads(data)
        except ValueError as exc:
            fail(
                "predictions",
                f"not valid JSON ({exc}); pass a DataFrame, a list of dicts, JSON text or a "
                "pathlib.Path",
            )
        return prediction_records(parsed)
    elif isinstance(data, Mapping):
        check_keys(data, "predictions", required=("predictions",))
        records = data["predictions"]
    else:
        records = data
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        fail("predictions", f"expected a list of records, got {describe(records)}")
    return [check_mapping(r, f"predictions[{i}]") for i, r in enumerate(records)]


def _geometry_value(shape: str, rec: Mapping[str, Any], feature: str, path: str) -> Any:
    given = _GEOMETRY_KEYS & set(rec)
    if "geometry" in given:
        if len(given) > 1:
            fail(path, "give either 'geometry' or the shape's own fields, not both")
        return rec["geometry"]
    for keys in _SHAPE_KEYS[shape]:
        if keys <= given:
            extra = given - keys - ({"edges"} if shape == "primitive" else set())
            if extra:
                fail(
                    path,
                    f"field {', '.join(sorted(map(repr, extra)))} does not apply to {feature!r}, "
                    f"a {shape} class",
                )
            if keys == {"x0", "y0", "x1", "y1"}:
                return [rec["x0"], rec["y0"], rec["x1"], rec["y1"]]
            if keys == {"x", "y"}:
                return [rec["x"], rec["y"]]
            if shape == "primitive":
                return {"nodes": rec["nodes"], "edges": rec.get("edges")}
            return rec[next(iter(keys))]
    wanted = " or ".join("+".join(sorted(k)) for k in _SHAPE_KEYS[shape])
    fail(path, f"{feature!r} is a {shape} class; its geometry needs {wanted}")


def prediction_ops(
    doc: LabelDocument,
    data: Any,
    *,
    source: str | None = None,
    confidence: float | None = None,
    plane: str = "axial",
) -> list[CreateObject]:
    """Validate every record and return one :class:`CreateObject` per predicted object."""
    records = prediction_records(data)
    groups: dict[Any, dict[str, Any]] = {}
    confidences: dict[Any, list[float]] = {}
    for i, raw in enumerate(records):
        path = f"predictions[{i}]"
        rec = {k: v for k, v in raw.items() if not _missing(v)}
        check_keys(rec, path, required=("feature", "slice"), optional=PREDICTION_KEYS)
        cls = doc.ontology.find_feature(rec["feature"])
        if cls is None:
            known = ", ".join(repr(c.id) for c in doc.ontology.objects) or "none"
            fail(
                f"{path}.feature",
                f"unknown object class {describe(rec['feature'])} (known: {known})",
            )
        src = rec.get("source", source)
        if src is None:
            fail(f"{path}.source", "missing: give the model name per record or as source=...")
        src = check_model_source(src, f"{path}.source")
        conf = rec.get("confidence", confidence)
        if conf is not None:
            conf = check_confidence(conf, f"{path}.confidence")
        pl = check_plane(rec.get("plane", plane), f"{path}.plane")
        width, height, n = doc.plane_size(pl)
        k = check_slice(rec["slice"], n, f"{path}.slice")
        value = _geometry_value(cls.shape, rec, cls.id, path)
        geometry = geometry_from_value(cls, value, width, height, f"{path}.geometry")
        track = rec.get("track")
        key: Any = (src, cls.id, pl, track) if track is not None else ("#", i)
        try:
            hash(key)
        except TypeError:
            fail(f"{path}.track", f"{describe(track)} cannot be used as a track key")
        group = groups.get(key)
        if group is None:
            group = {
                "feature": cls.id,
                "plane": pl,
                "source": src,
                "review": "pending",
                "keyframes": {},
            }
            groups[key] = group
            confidences[key] = []
        if str(k) in group["keyframes"]:
            fail(f"{path}.slice", f"track {track!r} already has a keyframe on slice {k}")
        group["keyframes"][str(k)] = {"manual": True, **geometry.to_json()}
        if conf is not None:
            confidences[key].append(conf)
    ops = []
    for key, group in groups.items():
        values = confidences[key]
        group["confidence"] = sum(values) / len(values) if values else None
        ops.append(CreateObject(object=group))
    return ops
