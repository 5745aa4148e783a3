"""A synthetic abdominal CT phantom, written as a real single-frame DICOM CT series.

The phantom is for demos, tests and benchmarks: it looks like an upper-abdomen CT (body outline
with subcutaneous fat and a muscle wall, lungs in the upper slices, heart, liver, spleen,
stomach, kidneys, bowel, spine with vertebral bodies, discs and posterior arches, ribs, aorta,
inferior vena cava, psoas muscles, a patient table) with the Hounsfield values of a
contrast-enhanced portal-venous scan (see :data:`NOMINAL_HU`: liver 100, spleen 110, kidneys
150, aorta 180 HU), three kinds of lesion (hypodense liver lesions, a lung nodule, a kidney
cyst), a one-pixel partial-volume edge around every structure and slightly correlated Gaussian
noise (sigma 10 HU). It contains no patient data.

:func:`phantom_volume` is the single source of truth: :func:`write_phantom_series` writes exactly
its voxels, so the ground truth (HU and organ labels) of any written series is known.

Geometry and slice order
------------------------
Arrays are indexed ``[slice, row, column]`` with slices in ascending position along the slice
normal (+z, feet to head), the order in which :func:`dicom_annot_widget.io.open_series` (and
SimpleITK) return a series, so ``open_series(folder).array`` equals :func:`phantom_volume`'s
``hu`` exactly. Slice ``k`` is at ``ImagePositionPatient`` z = ``-(n_slices - 1 - k) *
slice_spacing`` (the most superior slice is at z = 0). The files are numbered from head to feet,
as scanners usually do: slice ``k`` has ``InstanceNumber`` ``n_slices - k``. The orientation is
axial, ``ImageOrientationPatient = [1, 0, 0, 0, 1, 0]``: columns go to the patient's left, rows
to posterior (the patient's right is on the image's left); the isocentre is the image centre.

The anatomy is laid out relative to the field of view and the number of slices, so even a small
test volume (a few slices of 64 x 64) shows every organ; pixel and slice spacing only set the
physical scale written in the headers.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

__all__ = [
    "HU_MAX",
    "HU_MIN",
    "LABEL_NAMES",
    "NOMINAL_HU",
    "PHANTOM_VERSION",
    "default_demo_series",
    "phantom_volume",
    "write_phantom_series",
]

#: Bumped whenever the anatomy or the written headers change; part of the demo cache folder name.
PHANTOM_VERSION = 1

#: Label value -> structure name of the ground-truth label map (0 is air / background).
LABEL_NAMES: dict[int, str] = {
    1: "fat",
    2: "muscle",
    3: "lung_right",
    4: "lung_left",
    5: "heart",
    6: "liver",
    7: "spleen",
    8: "stomach",
    9: "kidney_right",
    10: "kidney_left",
    11: "bowel",
    12: "vertebra",
    13: "intervertebral_disc",
    14: "spinal_canal",
    15: "rib",
    16: "aorta",
    17: "inferior_vena_cava",
    18: "liver_lesion",
    19: "lung_nodule",
    20: "kidney_cyst",
    21: "table",
}

_LABEL = {name: value for value, name in LABEL_NAMES.items()}

#: Nominal HU of each homogeneous structure (before partial-volume edges and noise). Structures
#: made of several tissues ("vertebra": cancellous 300 and cortical 1000 HU; "stomach" and
#: "bowel": contents, wall and gas; "rib") are not listed.
NOMINAL_HU: dict[str, float] = {
    "air": -1000.0,
    "fat": -100.0,
    "muscle": 50.0,
    "lung_right": -850.0,
    "lung_left": -850.0,
    "heart": 130.0,
    "liver": 100.0,
    "spleen": 110.0,
    "kidney_right": 150.0,
    "kidney_left": 150.0,
    "intervertebral_disc": 90.0,
    "spinal_canal": 30.0,
    "aorta": 180.0,
    "inferior_vena_cava": 140.0,
    "liver_lesion": 20.0,
    "lung_nodule": 30.0,
    "kidney_cyst": 5.0,
    "table": -200.0,
}

_CANCELLOUS_HU = 300.0
_CORTICAL_HU = 1000.0
_POSTERIOR_ARCH_HU = 650.0
_RIB_HU = 700.0
_GAS_HU = -950.0
_BOWEL_WALL_HU = 40.0
_BOWEL_FLUID_HU = 10.0
_STOMACH_CONTENT_HU = 25.0

#: HU range of the phantom (that of 12-bit unsigned storage with intercept -1024).
HU_MIN = -1024
HU_MAX = 3071

_NOISE_SIGMA_HU = 10.0
_LOSSLESS_COMPRESSED = frozenset({RLELossless, JPEG2000Lossless, JPEGLSLossless, HTJ2KLossless})
_PIXEL_DATA = Tag(0x7FE0, 0x0010)
_UID_NAMESPACE = "dicom_annot_widget.io.phantom"
_STUDY_DATE = "20240115"
_STUDY_TIME = "093000"

# --------------------------------------------------------------------------------------------
# Shapes. Coordinates are normalised: the shorter half of the field of view is 1, x grows to the
# patient's left (image right) and y to posterior (image down), origin at the image centre.
# Each shape returns an approximate signed distance (negative inside) in normalised units; the
# zero level set is exact, the distance scale only sets the width of the partial-volume edge.
# --------------------------------------------------------------------------------------------

_F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Ellipse:
    cx: float
    cy: float
    a: float
    b: float
    angle: float = 0.0
    #: Boundary modulation r(phi) = 1 + sum(amp * cos(order * phi + phase)), orders 1 to 3.
    harmonics: tuple[tuple[int, float, float], ...] = ()

    def bbox(self) -> tuple[float, float, float, float]:
        r = max(self.a, self.b) * (1.0 + sum(abs(h[1]) for h in self.harmonics))
        return self.cx - r, self.cx + r, self.cy - r, self.cy + r

    def sdf(self, x: _F32, y: _F32) -> _F32:
        """Signed distance on the grid ``x`` (1, C) by ``y`` (R, 1), shape (R, C)."""
        f32 = np.float32
        dx = x - f32(self.cx)
        dy = y - f32(self.cy)
        if self.angle:
            c, s = f32(math.cos(self.angle)), f32(math.sin(self.angle))
            u = (c * dx + s * dy) * f32(1.0 / self.a)
            v = (c * dy - s * dx) * f32(1.0 / self.b)
        else:
            u = dx * f32(1.0 / self.a)
            v = dy * f32(1.0 / self.b)
        d = u * u + v * v
        np.sqrt(d, out=d)
        if self.harmonics:
            inv = 1.0 / np.maximum(d, f32(1e-6))
            cos1, sin1 = u * inv, v * inv
            cos2, sin2 = cos1 * cos1 - sin1 * sin1, 2.0 * cos1 * sin1
            trig = {
                1: (cos1, sin1),
                2: (cos2, sin2),
                3: (cos1 * cos2 - sin1 * sin2, sin1 * cos2 + cos1 * sin2),
            }
            r = np.ones_like(d)
            for order, amp, phase in self.harmonics:
                cn, sn = trig[order]
                r += f32(amp * math.cos(phase)) * cn - f32(amp * math.sin(phase)) * sn
            d -= r
        else:
            d -= f32(1.0)
        d *= f32(math.sqrt(self.a * self.b))
        return d

    def sdf_exact(self, x: _F32, y: _F32) -> _F32:
        """A closer distance estimate (axis-aligned, no harmonics): (d - 1) / |grad d|."""
        f32 = np.float32
        u2 = ((x - f32(self.cx)) * f32(1.0 / self.a)) ** 2
        v2 = ((y - f32(self.cy)) * f32(1.0 / self.b)) ** 2
        d = np.sqrt(u2 + v2)
        g = np.sqrt(u2 * f32(1.0 / self.a**2) + v2 * f32(1.0 / self.b**2))
        np.maximum(g, f32(1e-6), out=g)
        sd: _F32 = (d - f32(1.0)) * d
        sd /= g
        return sd


@dataclass(frozen=True)
class _HalfPlane:
    """The half plane y <= y0 (or y >= y0 when ``below`` is False)."""

    y: float
    below: bool = True

    def bbox(self) -> tuple[float, float, float, float]:
        big = 1e3
        return (-big, big, -big, self.y) if self.below else (-big, big, self.y, big)

    def sdf(self, x: _F32, y: _F32) -> _F32:
        s = (y - np.float32(self.y)) if self.below else (np.float32(self.y) - y)
        return np.broadcast_to(s, np.broadcast_shapes(x.shape, y.shape))


@dataclass(frozen=True)
class _Body:
    """The body outline: an ellipse cut flat at the back (where it lies on the table)."""

    outline: _Ellipse
    back: float

    def sdf(self, x: _F32, y: _F32) -> _F32:
        sd = self.outline.sdf_exact(x, y)
        np.maximum(sd, y - np.float32(self.back), out=sd)
        return sd


@dataclass(frozen=True)
class _Layer:
    """The part of the body deeper than ``depth`` below the skin (a parallel curve)."""

    body: _Body
    depth: float

    def bbox(self) -> tuple[float, float, float, float]:
        o = self.body.outline
        r = self.depth
        return o.cx - o.a + r, o.cx + o.a - r, o.cy - o.b + r, min(o.cy + o.b, self.body.back) - r


_Shape = _Ellipse | _HalfPlane | _Layer


@dataclass(frozen=True)
class _Paint:
    shape: _Ellipse | _Layer
    hu: float
    label: int
    within: tuple[_Shape, ...] = ()


def _profile(t: float, t0: float, tp: float, t1: float) -> float:
    """Relative size along z: 0 outside (t0, t1), 1 at tp, elliptic in between."""
    if t <= t0 or t >= t1:
        return 0.0
    u = (t - tp) / (tp - t0) if t < tp else (t - tp) / (t1 - tp)
    return math.sqrt(max(0.0, 1.0 - u * u))


@dataclass(frozen=True)
class _Lesion:
    name: str
    organ: str
    t: float  # normalised z of the centre (snapped to a slice centre)
    cx: float
    cy: float
    radius: float  # normalised units (physical: times the half field of view)


def _lesions(seed: int) -> tuple[_Lesion, ...]:
    """Lesion positions and sizes, jittered a little by the seed."""
    rng = np.random.default_rng([seed, 7_919])
    j = rng.uniform(-1.0, 1.0, size=(4, 3))
    return (
        _Lesion("liver_lesion", "liver", 0.32, -0.42 + 0.03 * j[0, 0], -0.06 + 0.03 * j[0, 1],
                0.075 * (1 + 0.15 * j[0, 2])),
        _Lesion("liver_lesion", "liver", 0.47, -0.30 + 0.02 * j[1, 0], -0.17 + 0.02 * j[1, 1],
                0.045 * (1 + 0.15 * j[1, 2])),
        _Lesion("lung_nodule", "lung_left", 0.07, 0.47 + 0.03 * j[2, 0], 0.10 + 0.03 * j[2, 1],
                0.04 * (1 + 0.15 * j[2, 2])),
        _Lesion("kidney_cyst", "kidney_left", 0.60, 0.31 + 0.01 * j[3, 0], 0.20 + 0.01 * j[3, 1],
                0.04 * (1 + 0.15 * j[3, 2])),
    )  # fmt: skip


def _anatomy(t: float) -> tuple[_Body, list[_Paint], dict[str, _Ellipse]]:
    """The body outline and painting operations (in order) of the slice at height ``t``.

    ``t`` runs from 0 (top, most superior) to 1 (bottom, most inferior). Also returns the
    organ shapes lesions are confined to.
    """
    ops: list[_Paint] = []
    organs: dict[str, _Ellipse] = {}
    lab = _LABEL
    tau = 2.0 * math.pi

    body_a = 0.84 + 0.04 * math.sin(math.pi * t)
    body_b = 0.60 + 0.02 * math.sin(math.pi * t)
    back = 0.55
    fat_thick = 0.05 + 0.02 * t
    wall_thick = 0.035
    body = _Body(_Ellipse(0.0, 0.0, body_a, body_b), back)
    skin = _Layer(body, 0.0)
    cavity = _Layer(body, fat_thick + wall_thick)

    ops.append(_Paint(_Ellipse(0.0, 0.68, 0.98, 0.035), NOMINAL_HU["table"], lab["table"]))
    ops.append(_Paint(skin, NOMINAL_HU["fat"], lab["fat"]))
    ops.append(_Paint(_Layer(body, fat_thick), NOMINAL_HU["muscle"], lab["muscle"]))
    ops.append(_Paint(cavity, NOMINAL_HU["fat"], lab["fat"]))
    in_cavity: tuple[_Shape, ...] = (cavity,)

    # Paraspinal (erector spinae) muscles.
    for side in (-1.0, 1.0):
        ops.append(
            _Paint(_Ellipse(side * 0.15, 0.44, 0.13, 0.095, side * 0.3), NOMINAL_HU["muscle"],
                   lab["muscle"], (_Layer(body, fat_thick),))
        )  # fmt: skip

    # Lungs: large at the top, shrinking to the posterior costophrenic recesses.
    for side, name in ((-1.0, "lung_right"), (1.0, "lung_left")):
        p = _profile(t, -0.7, -0.1, 0.30 if side < 0 else 0.33)
        if p > 0.0:
            lung = _Ellipse(
                side * (0.44 + 0.04 * t), 0.10 + 0.45 * t, 0.30 * p + 0.02, 0.40 * p + 0.02,
                side * 0.25, ((2, 0.06, 1.0 + side), (3, 0.03, 2.0 * t)),
            )  # fmt: skip
            ops.append(_Paint(lung, NOMINAL_HU[name], lab[name], in_cavity))
            organs[name] = lung

    p = _profile(t, -0.5, -0.1, 0.15)
    if p > 0.0:
        heart = _Ellipse(0.10, -0.16, 0.32 * p, 0.25 * p, 0.5, ((2, 0.05, 0.3),))
        ops.append(_Paint(heart, NOMINAL_HU["heart"], lab["heart"], in_cavity))

    # Bowel loops in the lower abdomen: wall plus fluid or gas contents.
    loops = (
        (-0.25, -0.30, 0.075, 0.45, 1.05, False),
        (0.05, -0.36, 0.060, 0.50, 1.10, True),
        (0.32, -0.26, 0.080, 0.48, 1.05, False),
        (-0.05, -0.13, 0.065, 0.58, 1.10, False),
        (0.24, -0.02, 0.060, 0.55, 1.00, True),
        (-0.36, -0.04, 0.070, 0.70, 1.10, False),
    )
    for i, (bx, by, br, t0, t1, gas) in enumerate(loops):
        p = _profile(t, t0, 0.5 * (t0 + t1), t1)
        if p > 0.15:
            wob = 0.04 * math.sin(tau * (2.0 * t + 0.3 * i))
            r = br * (0.6 + 0.4 * p)
            outer = _Ellipse(bx + wob, by - wob, r, r * 0.85, 0.4 * i)
            inner = _Ellipse(bx + wob, by - wob, r - 0.014, r * 0.85 - 0.014, 0.4 * i)
            ops.append(_Paint(outer, _BOWEL_WALL_HU, lab["bowel"], in_cavity))
            ops.append(_Paint(inner, _GAS_HU if gas else _BOWEL_FLUID_HU, lab["bowel"], in_cavity))

    # Liver: large right upper quadrant organ with a lobulated outline.
    p = _profile(t, 0.06, 0.30, 0.74)
    if p > 0.0:
        liver = _Ellipse(
            -0.30 - 0.12 * max(0.0, t - 0.3), -0.06 + 0.10 * max(0.0, t - 0.3),
            0.44 * p + 0.02, 0.40 * p + 0.02, 0.25,
            ((2, 0.10, 1.2 + 2.0 * t), (3, 0.05, 0.7 - 3.0 * t)),
        )  # fmt: skip
        ops.append(_Paint(liver, NOMINAL_HU["liver"], lab["liver"], in_cavity))
        organs["liver"] = liver

    p = _profile(t, 0.12, 0.25, 0.46)
    if p > 0.0:
        stomach = _Ellipse(0.28, -0.20, 0.22 * p + 0.02, 0.15 * p + 0.02, -0.3)
        ops.append(_Paint(stomach, _STOMACH_CONTENT_HU, lab["stomach"], in_cavity))
        # Gas cap in the anterior (non-dependent) part.
        gas_line = _HalfPlane(stomach.cy - 0.45 * stomach.b)
        ops.append(_Paint(stomach, _GAS_HU, lab["stomach"], (*in_cavity, gas_line)))

    p = _profile(t, 0.12, 0.28, 0.52)
    if p > 0.0:
        spleen = _Ellipse(
            0.50, 0.16, 0.13 * p + 0.015, 0.22 * p + 0.015, -0.55, ((2, 0.06, 0.5 + t),)
        )
        ops.append(_Paint(spleen, NOMINAL_HU["spleen"], lab["spleen"], in_cavity))

    # Kidneys, the right one a little lower (below the liver), with renal sinus fat medially.
    for side, name, t0, t1 in (
        (-1.0, "kidney_right", 0.46, 0.88),
        (1.0, "kidney_left", 0.40, 0.82),
    ):
        p = _profile(t, t0, 0.5 * (t0 + t1), t1)
        if p > 0.0:
            ka, kb = 0.10 * p + 0.01, 0.15 * p + 0.01
            kidney = _Ellipse(side * 0.31, 0.22, ka, kb, -side * 0.45)
            ops.append(_Paint(kidney, NOMINAL_HU[name], lab[name], in_cavity))
            organs[name] = kidney
            ps = _profile(t, t0 + 0.25 * (t1 - t0), 0.5 * (t0 + t1), t1 - 0.25 * (t1 - t0))
            if ps > 0.0:
                sinus = _Ellipse(
                    side * 0.31 - side * 0.55 * ka, 0.22, 0.45 * ka * ps, 0.40 * kb * ps,
                    -side * 0.45,
                )  # fmt: skip
                ops.append(_Paint(sinus, NOMINAL_HU["fat"], lab["fat"], (kidney,)))

    # Psoas muscles appear in the lower slices beside the vertebral bodies.
    p = _profile(t, 0.55, 1.2, 1.9)
    if p > 0.0:
        for side in (-1.0, 1.0):
            r = 0.085 * p
            ops.append(
                _Paint(_Ellipse(side * (0.11 + 0.5 * r), 0.20, r, 0.8 * r), NOMINAL_HU["muscle"],
                       lab["muscle"], in_cavity)
            )  # fmt: skip

    # Spine: vertebral body (cortical shell, cancellous core) or disc, posterior arch, canal.
    phase = (t * 5.5 + 0.1) % 1.0
    if phase < 0.16:
        ops.append(
            _Paint(_Ellipse(0.0, 0.22, 0.115, 0.095), NOMINAL_HU["intervertebral_disc"],
                   lab["intervertebral_disc"])
        )  # fmt: skip
    else:
        ops.append(_Paint(_Ellipse(0.0, 0.22, 0.115, 0.095), _CORTICAL_HU, lab["vertebra"]))
        ops.append(_Paint(_Ellipse(0.0, 0.22, 0.095, 0.075), _CANCELLOUS_HU, lab["vertebra"]))
    ops.append(_Paint(_Ellipse(0.0, 0.385, 0.08, 0.066), _POSTERIOR_ARCH_HU, lab["vertebra"]))
    if 0.25 < phase < 0.85:
        ops.append(
            _Paint(_Ellipse(0.0, 0.48, 0.022, 0.05), _POSTERIOR_ARCH_HU, lab["vertebra"], (skin,))
        )
        for side in (-1.0, 1.0):
            ops.append(
                _Paint(_Ellipse(side * 0.12, 0.37, 0.06, 0.018, side * 0.3), _POSTERIOR_ARCH_HU,
                       lab["vertebra"])
            )  # fmt: skip
    ops.append(
        _Paint(_Ellipse(0.0, 0.375, 0.042, 0.038), NOMINAL_HU["spinal_canal"], lab["spinal_canal"])
    )

    # Great vessels.
    aorta = _Ellipse(0.05 + 0.02 * t, 0.07 + 0.03 * t, 0.045, 0.045)
    ops.append(_Paint(aorta, NOMINAL_HU["aorta"], lab["aorta"]))
    ivc = _Ellipse(-0.11, 0.05 - 0.04 * max(0.0, 0.3 - t), 0.05, 0.035, 0.2)
    ops.append(_Paint(ivc, NOMINAL_HU["inferior_vena_cava"], lab["inferior_vena_cava"]))

    # Ribs: oblique cross-sections in the chest and upper-abdomen wall.
    if t < 0.78:
        ra, rb = body_a - fat_thick - 0.5 * wall_thick, body_b - fat_thick - 0.5 * wall_thick
        for side in (-1.0, 1.0):
            for j in range(6):
                if math.cos(tau * (3.0 * t + 0.17 * j)) < -0.55:
                    continue  # between two ribs
                phi = math.pi * (0.40 - 0.12 * j) + 0.05 * math.pi * math.sin(
                    tau * (2 * t + 0.3 * j)
                )
                x, y = ra * math.cos(phi), rb * math.sin(phi)
                if y > back - 0.04:
                    continue
                rib = _Ellipse(side * x, y, 0.032, 0.016, side * (phi + math.pi / 2))
                ops.append(_Paint(rib, _RIB_HU, lab["rib"], (skin,)))
    return body, ops, organs


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """Normalised coordinates of the pixel centres of one slice, and the geometry along z."""

    n_slices: int
    rows: int
    columns: int
    slice_spacing: float
    row_spacing: float
    column_spacing: float

    @property
    def half_fov(self) -> float:
        return 0.5 * min(self.rows * self.row_spacing, self.columns * self.column_spacing)

    def xs(self) -> _F32:
        mm = np.arange(self.columns, dtype=np.float64) - (self.columns - 1) / 2.0
        return (mm * self.column_spacing / self.half_fov).astype(np.float32)

    def ys(self) -> _F32:
        mm = np.arange(self.rows, dtype=np.float64) - (self.rows - 1) / 2.0
        return (mm * self.row_spacing / self.half_fov).astype(np.float32)

    @property
    def pixel(self) -> float:
        """Pixel size in normalised units (the mean of both directions)."""
        return 0.5 * (self.row_spacing + self.column_spacing) / self.half_fov

    def t(self, k: int) -> float:
        """Normalised height of slice ``k``: 0 at the top (last slice), 1 at the bottom."""
        return 1.0 - (k + 0.5) / self.n_slices


def _paint(
    hu: _F32,
    labels: npt.NDArray[np.uint8],
    xs: _F32,
    ys: _F32,
    pixel: float,
    field: _F32,
    op: _Paint,
) -> None:
    """Composite one structure into a slice, with a one-pixel partial-volume edge.

    ``field`` is the signed distance to the body outline on the whole slice (for ``_Layer``).
    """
    x0, x1, y0, y1 = op.shape.bbox()
    margin = 2.0 * pixel
    c0 = int(np.searchsorted(xs, x0 - margin))
    c1 = int(np.searchsorted(xs, x1 + margin, side="right"))
    r0 = int(np.searchsorted(ys, y0 - margin))
    r1 = int(np.searchsorted(ys, y1 + margin, side="right"))
    if c1 <= c0 or r1 <= r0:
        return
    x = xs[None, c0:c1]
    y = ys[r0:r1, None]

    def sdf(shape: _Shape) -> _F32:
        if isinstance(shape, _Layer):
            return field[r0:r1, c0:c1] + np.float32(shape.depth)
        return shape.sdf(x, y)

    sd = sdf(op.shape)
    for w in op.within:
        np.maximum(sd, sdf(w), out=sd)  # intersection
    # Coverage of the pixel: 1 inside, 0 outside, linear across one pixel at the boundary.
    alpha = sd
    alpha *= np.float32(-1.0 / pixel)
    alpha += np.float32(0.5)
    np.clip(alpha, 0.0, 1.0, out=alpha)
    sub = hu[r0:r1, c0:c1]
    delta = np.float32(op.hu) - sub
    delta *= alpha
    sub += delta
    np.copyto(labels[r0:r1, c0:c1], np.uint8(op.label), where=alpha >= 0.5)


def _noise_pool(grid: _Grid, seed: int) -> _F32:
    """Unit-variance, slightly correlated (CT-like grain) noise, twice the slice size each way."""
    rng = np.random.default_rng([seed, 104_729])
    white = rng.standard_normal((2 * grid.rows + 2, 2 * grid.columns + 2), dtype=np.float32)
    # Separable [1, 2, 1] / 4 smoothing; the variance drops by (3/8)^2.
    rows = white[:-2] + 2.0 * white[1:-1] + white[2:]
    pool = rows[:, :-2] + 2.0 * rows[:, 1:-1] + rows[:, 2:]
    pool *= np.float32(1.0 / (16.0 * 0.375))
    return pool


def _render_slice(
    grid: _Grid, k: int, seed: int, xs: _F32, ys: _F32, pool: _F32
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8]]:
    hu = np.full((grid.rows, grid.columns), NOMINAL_HU["air"], dtype=np.float32)
    labels = np.zeros((grid.rows, grid.columns), dtype=np.uint8)
    body, ops, organs = _anatomy(grid.t(k))
    pixel = grid.pixel
    field = body.sdf(xs[None, :], ys[:, None])
    for op in ops:
        _paint(hu, labels, xs, ys, pixel, field, op)
    # Lesions: balls of physical size, confined to their organ.
    for lesion in _lesions(seed):
        container = organs.get(lesion.organ)
        if container is None:
            continue
        # Centred on the slice whose height interval holds lesion.t.
        kc = grid.n_slices - 1 - min(grid.n_slices - 1, int(lesion.t * grid.n_slices))
        dz = abs(k - kc) * grid.slice_spacing / grid.half_fov
        if dz >= lesion.radius:
            continue
        r = math.sqrt(lesion.radius**2 - dz**2)
        ball = _Paint(
            _Ellipse(lesion.cx, lesion.cy, r, r),
            NOMINAL_HU[lesion.name],
            _LABEL[lesion.name],
            (container,),
        )
        _paint(hu, labels, xs, ys, pixel, field, ball)
    # Noise: the sum of two windows of the pool at offsets drawn for this slice alone, so any
    # slice can be rendered on its own and always comes out the same.
    oy1, ox1, oy2, ox2 = np.random.default_rng([seed, k]).integers(
        0, (grid.rows, grid.columns, grid.rows, grid.columns)
    )
    noise = pool[oy1 : oy1 + grid.rows, ox1 : ox1 + grid.columns]
    noise = noise + pool[oy2 : oy2 + grid.rows, ox2 : ox2 + grid.columns]
    noise *= np.float32(_NOISE_SIGMA_HU / math.sqrt(2.0))
    hu += noise
    np.rint(hu, out=hu)
    np.clip(hu, HU_MIN, HU_MAX, out=hu)
    return hu.astype(np.int16), labels


def _check_geometry(shape: Sequence[int], spacing: Sequence[float], seed: int) -> _Grid:
    if len(shape) != 3 or any(int(n) != n or n < 1 for n in shape):
        raise ValueError(
            f"shape must be three positive integers (slices, rows, columns), got {tuple(shape)!r}."
        )
    if len(spacing) != 3 or any(not math.isfinite(s) or s <= 0 for s in spacing):
        raise ValueError(
            "spacing must be three positive millimetre values (slice, row, column), "
            f"got {tuple(spacing)!r}."
        )
    if min(shape[1], shape[2]) < 8:
        raise ValueError(f"rows and columns must be at least 8, got {tuple(shape)!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return _Grid(
        int(shape[0]), int(shape[1]), int(shape[2]),
        float(spacing[0]), float(spacing[1]), float(spacing[2]),
    )  # fmt: skip


def _iter_slices(
    grid: _Grid, seed: int
) -> Iterator[tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8]]]:
    xs, ys = grid.xs(), grid.ys()
    pool = _noise_pool(grid, int(seed))
    for k in range(grid.n_slices):
        yield _render_slice(grid, k, int(seed), xs, ys, pool)


def phantom_volume(
    shape: Sequence[int] = (120, 256, 256),
    spacing: Sequence[float] = (2.0, 0.8, 0.8),
    seed: int = 0,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], dict[int, str]]:
    """Generate the phantom's Hounsfield units and organ labels.

    Parameters
    ----------
    shape : sequence of 3 int
        ``(n_slices, rows, columns)``. Rows and columns must be at least 8.
    spacing : sequence of 3 float
        ``(slice_spacing, row_spacing, column_spacing)`` in millimetres. The anatomy scales with
        the field of view; spacing sets the physical size of the lesions along z and the
        partial-volume edge width.
    seed : int
        Non-negative seed of the noise and of the small jitter of lesion positions and sizes.
        The same arguments always give the same arrays.

    Returns
    -------
    hu : numpy.ndarray of int16, shape (n_slices, rows, columns)
        Hounsfield units, clipped to [-1024, 3071], indexed ``[slice, row, column]``, slices in
        ascending position along the normal (feet to head), as ``open_series`` returns them.
    labels : numpy.ndarray of uint8, same shape
        Ground-truth structure of each voxel (0 = air / background); a voxel on an edge belongs
        to the structure covering at least half of it.
    label_names : dict of int to str
        Label value -> structure name (a copy of :data:`LABEL_NAMES`).

    Raises
    ------
    ValueError
        If the shape, spacing or seed is not valid.
    """
    grid = _check_geometry(shape, spacing, seed)
    hu = np.empty((grid.n_slices, grid.rows, grid.columns), dtype=np.int16)
    labels = np.empty(hu.shape, dtype=np.uint8)
    for k, (h, lab) in enumerate(_iter_slices(grid, seed)):
        hu[k] = h
        labels[k] = lab
    return hu, labels, dict(LABEL_NAMES)


# --------------------------------------------------------------------------------------------
# DICOM writer
# --------------------------------------------------------------------------------------------


def _uid(entropy: Sequence[object], what: str) -> UID:
    return generate_uid(entropy_srcs=[_UID_NAMESPACE, *(str(e) for e in entropy), what])


def _ds(value: float) -> str:
    """A decimal string of at most 16 characters that round-trips the value when possible."""
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) > 16:
        text = f"{value:.10g}"
    return text


def write_phantom_series(
    folder: str | os.PathLike[str],
    *,
    n_slices: int = 120,
    rows: int = 256,
    columns: int = 256,
    pixel_spacing: tuple[float, float] = (0.8, 0.8),
    slice_spacing: float = 2.0,
    seed: int = 0,
    transfer_syntax: str = ExplicitVRLittleEndian,
    patient_name: str = "PHANTOM^DEMO",
    patient_id: str = "PHANTOM-0001",
    bits_stored: int = 12,
    pixel_representation: int = 0,
    rescale_intercept: float = -1024.0,
    study_instance_uid: str | None = None,
    series_number: int = 1,
    series_description: str = "Synthetic abdomen phantom",
    overwrite: bool = False,
) -> list[Path]:
    """Write the phantom as a single-frame CT Image Storage series, one file per slice.

    The files hold exactly :func:`phantom_volume` ``((n_slices, rows, columns), (slice_spacing,
    *pixel_spacing), seed)``: stored value * 1 + ``rescale_intercept`` is its HU. UIDs are
    generated deterministically from the arguments, so writing twice gives identical files.

    Parameters
    ----------
    folder : path
        Output folder, created if missing. Files are named ``CT000001.dcm`` (``InstanceNumber`` 1,
        the top slice), ``CT000002.dcm``...
    n_slices, rows, columns : int
        Size of the series.
    pixel_spacing : (float, float)
        DICOM ``PixelSpacing``: (spacing between rows, spacing between columns) in mm.
    slice_spacing : float
        Distance between slice positions in mm (also written as ``SliceThickness``).
    seed : int
        Non-negative seed of the noise, the lesion jitter and the UIDs.
    transfer_syntax : str
        Transfer syntax UID. Explicit and Implicit VR Little Endian are written directly; a
        compressed one (RLE Lossless, JPEG 2000 Lossless, JPEG-LS Lossless...) needs the
        matching pydicom encoder plugin.
    patient_name, patient_id : str
        Patient identification written into the headers.
    bits_stored : int
        12 or 16 (``BitsAllocated`` is always 16).
    pixel_representation : int
        0 for unsigned (uint16) stored values, 1 for signed (int16).
    rescale_intercept : float
        ``RescaleIntercept`` (``RescaleSlope`` is 1). Must be an integer value, and the stored
        values must fit ``bits_stored`` / ``pixel_representation``.
    study_instance_uid : str, optional
        Put the series into an existing study; by default the study UID is derived from the seed
        and the patient.
    series_number : int
        ``SeriesNumber``.
    series_description : str
        ``SeriesDescription``.
    overwrite : bool
        Replace existing files of the same name; by default an existing file is an error.

    Returns
    -------
    list of pathlib.Path
        The files written, in the slice order of :func:`phantom_volume` (ascending position
        along the normal): ``paths[k]`` holds ``hu[k]`` and has ``InstanceNumber``
        ``n_slices - k`` (file ``CT{InstanceNumber:06d}.dcm``).

    Raises
    ------
    ValueError
        If an argument is invalid, a stored value would not fit the requested pixel format, or
        a file exists and ``overwrite`` is False.
    """
    if bits_stored not in (12, 16):
        raise ValueError(f"bits_stored must be 12 or 16, got {bits_stored!r}.")
    if pixel_representation not in (0, 1):
        raise ValueError(
            "pixel_representation must be 0 (unsigned) or 1 (signed), "
            f"got {pixel_representation!r}."
        )
    if not float(rescale_intercept).is_integer():
        raise ValueError(
            f"rescale_intercept must be a whole number of HU, got {rescale_intercept!r}."
        )
    if len(pixel_spacing) != 2:
        raise ValueError(
            f"pixel_spacing must be (row spacing, column spacing), got {pixel_spacing!r}."
        )
    ts = UID(transfer_syntax)
    if not ts.is_transfer_syntax:
        raise ValueError(f"{transfer_syntax!r} is not a transfer syntax UID known to pydicom.")
    if ts.is_compressed and ts not in _LOSSLESS_COMPRESSED:
        raise ValueError(
            f"transfer syntax {ts.name} is not a lossless one that pydicom can encode; the "
            "phantom must round-trip exactly (use e.g. RLE Lossless or JPEG 2000 Lossless)."
        )
    grid = _check_geometry(
        (n_slices, rows, columns), (slice_spacing, pixel_spacing[0], pixel_spacing[1]), seed
    )
    intercept = int(rescale_intercept)
    if pixel_representation:
        lo, hi = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    else:
        lo, hi = 0, (1 << bits_stored) - 1
    dtype = np.dtype("<i2" if pixel_representation else "<u2")

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"CT{grid.n_slices - k:06d}.dcm" for k in range(grid.n_slices)]
    if not overwrite:
        existing = [p for p in paths if p.exists()]
        if existing:
            raise ValueError(
                f"{existing[0]} already exists; pass overwrite=True or choose an empty folder."
            )

    entropy = (
        seed, patient_name, patient_id, grid.n_slices, grid.rows, grid.columns,
        grid.slice_spacing, grid.row_spacing, grid.column_spacing, series_number,
    )  # fmt: skip
    study_uid = (
        UID(study_instance_uid)
        if study_instance_uid
        else _uid((seed, patient_name, patient_id), "study")
    )
    series_uid = _uid(entropy, "series")
    # one frame of reference per study (the same patient in the same place): series written
    # for one study, whatever their grids, are reconstructions whose positions correspond
    frame_uid = _uid((seed, patient_name, patient_id, str(study_uid)), "frame-of-reference")

    ds = _template(
        grid,
        patient_name=patient_name,
        patient_id=patient_id,
        study_uid=study_uid,
        series_uid=series_uid,
        frame_uid=frame_uid,
        series_number=series_number,
        series_description=series_description,
        bits_stored=bits_stored,
        pixel_representation=pixel_representation,
        intercept=intercept,
        seed=seed,
    )
    writer = _SliceWriter(ds, ts)
    for k, (hu, _labels) in enumerate(_iter_slices(grid, seed)):
        hmin, hmax = int(hu.min()), int(hu.max())
        if hmin - intercept < lo or hmax - intercept > hi:
            raise ValueError(
                f"HU values of slice {k} ({hmin}..{hmax}) need stored values "
                f"{hmin - intercept}..{hmax - intercept}, which do not fit {bits_stored}-bit "
                f"{'signed' if pixel_representation else 'unsigned'} pixels with "
                f"RescaleIntercept {intercept}; change rescale_intercept, bits_stored or "
                "pixel_representation."
            )
        stored = np.subtract(hu, intercept, dtype=np.int32).astype(dtype)
        writer.write(paths[k], _slice_attributes(grid, k, entropy), stored)
    return paths


#: The attributes that differ between the slices of a series (besides the pixel data).
_PER_SLICE = ("SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "SliceLocation")


def _slice_attributes(grid: _Grid, k: int, entropy: Sequence[object]) -> dict[str, object]:
    x0 = -(grid.columns - 1) / 2.0 * grid.column_spacing
    y0 = -(grid.rows - 1) / 2.0 * grid.row_spacing
    instance = grid.n_slices - k
    z = -(instance - 1) * grid.slice_spacing
    return {
        "SOPInstanceUID": _uid(entropy, f"instance-{instance}"),
        "InstanceNumber": instance,
        "ImagePositionPatient": [_ds(x0), _ds(y0), _ds(z)],
        "SliceLocation": _ds(z),
    }


class _SliceWriter:
    """Write the slices of a series: one shared header, a few per-slice attributes, pixels.

    For uncompressed transfer syntaxes pydicom encodes the shared elements once and, per slice,
    only the file meta and the per-slice elements (pydicom spends ~0.1 ms per element, which
    would dominate writing a large series). The bytes are those :func:`pydicom.dcmwrite`
    writes for the full dataset. Compressed transfer syntaxes go through pydicom's encoders.
    """

    def __init__(self, template: Dataset, transfer_syntax: UID) -> None:
        self.template = template
        self.ts = transfer_syntax
        self.implicit = transfer_syntax == ImplicitVRLittleEndian
        self.charset = str(template.SpecificCharacterSet)
        self.chunks: list[bytes | str] = []
        if transfer_syntax.is_compressed:
            return
        per_slice = {Tag(keyword) for keyword in _PER_SLICE}
        run = Dataset()
        for tag in sorted(template.keys()):
            if tag == _PIXEL_DATA:
                continue
            if tag in per_slice:
                if len(run):
                    self.chunks.append(self._encode(run))
                    run = Dataset()
                self.chunks.append(str(template[tag].keyword))
            else:
                run.add(template[tag])
        if len(run):
            self.chunks.append(self._encode(run))

    def _encode(self, ds: Dataset) -> bytes:
        fp = DicomBytesIO()
        fp.is_little_endian = True
        fp.is_implicit_VR = self.implicit
        write_dataset(fp, ds, parent_encoding=self.charset)
        return fp.getvalue()

    def dataset(self, values: dict[str, object], pixels: npt.NDArray[np.integer]) -> Dataset:
        """The complete dataset of one slice (the template, updated in place)."""
        ds = self.template
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PixelData = pixels.tobytes()
        ds["PixelData"].VR = "OW"
        if self.ts.is_compressed:
            ds.compress(self.ts, pixels, generate_instance_uid=False)
        else:
            ds.file_meta.TransferSyntaxUID = self.ts
        return ds

    def write(self, path: Path, values: dict[str, object], pixels: npt.NDArray[np.integer]) -> None:
        if self.ts.is_compressed:
            ds = self.dataset(values, pixels)
            ds.save_as(path, enforce_file_format=True)
            return
        ds = self.template
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        meta = ds.file_meta
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = self.ts
        fp = DicomBytesIO()
        fp.is_little_endian = True
        fp.is_implicit_VR = False
        fp.write(b"\x00" * 128 + b"DICM")
        write_file_meta_info(fp, meta, enforce_standard=True)
        parts: list[bytes | memoryview] = [fp.getvalue()]
        for chunk in self.chunks:
            if isinstance(chunk, bytes):
                parts.append(chunk)
            else:
                part = Dataset()
                part.add(ds[chunk])
                parts.append(self._encode(part))
        data = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).data
        if self.implicit:
            parts.append(struct.pack("<HHI", 0x7FE0, 0x0010, data.nbytes))
        else:
            parts.append(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, data.nbytes))
        parts.append(data.cast("B"))
        with open(path, "wb") as f:
            f.writelines(parts)


def _template(
    grid: _Grid,
    *,
    patient_name: str,
    patient_id: str,
    study_uid: str,
    series_uid: str,
    frame_uid: str,
    series_number: int,
    series_description: str,
    bits_stored: int,
    pixel_representation: int,
    intercept: int,
    seed: int,
) -> Dataset:
    """The header shared by every slice (per-slice attributes are filled in by the writer)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate = _STUDY_DATE
    ds.InstanceCreationTime = _STUDY_TIME
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = _STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = _STUDY_TIME
    ds.AccessionNumber = ""
    ds.Modality = "CT"
    ds.Manufacturer = "dicom_annot_widget"
    ds.ManufacturerModelName = "Synthetic phantom"
    ds.SoftwareVersions = f"phantom-v{PHANTOM_VERSION}"
    ds.InstitutionName = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Synthetic CT phantom"
    ds.SeriesDescription = series_description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.BodyPartExamined = "ABDOMEN"
    ds.ContrastBolusAgent = "IODINATED CONTRAST"
    ds.SliceThickness = _ds(grid.slice_spacing)
    ds.KVP = "120"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = ["0", "0", "0"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = "0"
    ds.ImageComments = (
        f"Synthetic phantom (dicom_annot_widget phantom-v{PHANTOM_VERSION}, seed {seed}); "
        "not patient data."
    )
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = grid.rows
    ds.Columns = grid.columns
    ds.PixelSpacing = [_ds(grid.row_spacing), _ds(grid.column_spacing)]
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = pixel_representation
    ds.WindowCenter = ["40", "-600", "400"]
    ds.WindowWidth = ["400", "1500", "1800"]
    ds.WindowCenterWidthExplanation = ["ABDOMEN", "LUNG", "BONE"]
    ds.RescaleIntercept = _ds(intercept)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.SOPInstanceUID = "1.2"  # replaced per slice
    return ds


# --------------------------------------------------------------------------------------------
# Demo series cache
# --------------------------------------------------------------------------------------------

_DEMO_SLICES = 120
_DEMO_SIZE = 256


def _user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "dicom_annot_widget" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "dicom_annot_widget"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dicom_annot_widget"


def _is_complete(folder: Path, n_files: int) -> bool:
    return folder.is_dir() and len(list(folder.glob("CT*.dcm"))) == n_files


def default_demo_series(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder of the demo's default phantom series, writing it the first time.

    The series (120 axial slices of 256 x 256, 0.8 mm pixels, 2 mm apart, seed 0) is written to
    a temporary folder beside the target and renamed into place, so concurrent callers and
    interrupted runs never see a half-written series.

    Parameters
    ----------
    cache_dir : path, optional
        Where to keep it. By default the user cache directory (``$XDG_CACHE_HOME`` or
        ``~/.cache`` + ``/dicom_annot_widget`` on Linux).

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/phantom-v1``, holding ``CT000001.dcm`` ... ``CT000120.dcm``.
    """
    root = Path(cache_dir) if cache_dir is not None else _user_cache_dir()
    target = root / f"phantom-v{PHANTOM_VERSION}"
    n_files = _DEMO_SLICES
    if _is_complete(target, n_files):
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        write_phantom_series(
            tmp, n_slices=_DEMO_SLICES, rows=_DEMO_SIZE, columns=_DEMO_SIZE, seed=0
        )
        for _attempt in range(3):
            try:
                os.replace(tmp, target)  # atomic; fails if target is a non-empty folder
                return target
            except OSError:
                if _is_complete(target, n_files):
                    return target  # another process won the race
                # An incomplete leftover (e.g. files deleted by hand): move it away, retry.
                trash = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=root))
                with contextlib.suppress(OSError):
                    os.replace(target, trash / "old")
                shutil.rmtree(trash, ignore_errors=True)
        raise OSError(f"Could not move the demo phantom series into {target}.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
