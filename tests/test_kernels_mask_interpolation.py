"""Shape-based interpolation of bitmask keyframes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels import (
    interpolate_mask_volume,
    interpolate_masks,
    interpolate_track,
    signed_distance,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def disc(shape, cx, cy, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * (a & b).sum() / s


def ncomp(m):
    return ndi.label(m, structure=np.ones((3, 3)))[1]


def textbook(keys, masks, slices):
    """Classic shape-based interpolation: full-slice SDFs, linear, float32 like the kernel."""
    sd = {}
    for z, m in zip(keys, masks, strict=True):
        out = ndi.distance_transform_edt(~m) - ndi.distance_transform_edt(m)
        sd[z] = out.astype(np.float32)
    res = {}
    for s in slices:
        j = int(np.searchsorted(keys, s))
        a, b = keys[j - 1], keys[j]
        t = (s - a) / (b - a)
        res[s] = (1.0 - t) * sd[a] + t * sd[b] <= 0
    return res


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_keyframes_is_an_error(n):
    keys = {4: disc((20, 20), 10, 10, 5)} if n else {}
    with pytest.raises(LabelError, match="at least two manual keyframes"):
        interpolate_masks(keys)
    with pytest.raises(LabelError, match="at least two manual keyframes"):
        interpolate_track(keys, "bitmask")


def test_bad_keyframes_are_errors():
    with pytest.raises(LabelError, match="same shape"):
        interpolate_masks({0: np.zeros((5, 5), bool), 3: np.zeros((6, 5), bool)})
    with pytest.raises(LabelError, match="2-D"):
        interpolate_masks({0: np.zeros((5, 5, 2), bool), 3: np.zeros((5, 5, 2), bool)})
    with pytest.raises(LabelError, match="integers"):
        interpolate_masks({0.5: np.zeros((5, 5), bool), 3: np.zeros((5, 5), bool)})


def test_returns_only_slices_between_keyframes():
    a = disc((30, 30), 15, 15, 6)
    out = interpolate_masks({8: a, 2: a, 5: a}, slices=range(0, 12))
    assert sorted(out) == [3, 4, 6, 7]
    for m in out.values():
        np.testing.assert_array_equal(m, a)


def test_classic_mode_reproduces_textbook_shape_based_interpolation():
    shape = (70, 80)
    a = disc(shape, 30, 30, 12) | disc(shape, 50, 40, 6)
    b = disc(shape, 36, 34, 16)
    c = disc(shape, 40, 36, 9)
    keys = [0, 3, 7]
    got = interpolate_masks(
        {0: a, 3: b, 7: c},
        method="linear",
        match_components=False,
        preserve_area=False,
    )
    ref = textbook(keys, [a, b, c], [1, 2, 4, 5, 6])
    for s, m in ref.items():
        np.testing.assert_array_equal(got[s], m)


def test_growing_disc_follows_the_radius():
    shape = (80, 80)
    keys = {0: disc(shape, 40, 40, 10), 4: disc(shape, 40, 40, 18), 8: disc(shape, 40, 40, 26)}
    out = interpolate_masks(keys)
    for s, m in out.items():
        expected = disc(shape, 40, 40, 10 + 2 * s)
        assert dice(m, expected) > 0.97, s


def test_thin_structure_that_moves_is_translated_not_faded():
    # A blob of radius 3 that moves 14 px between keyframes: no overlap between keyframes.
    shape = (40, 60)
    a = disc(shape, 15, 20, 3)
    b = disc(shape, 29, 20, 3)
    out = interpolate_masks({0: a, 4: b})
    for s, m in out.items():
        assert ncomp(m) == 1, s
        expected = disc(shape, 15 + 3.5 * s, 20, 3)
        assert dice(m, expected) > 0.8, s
        assert 0.7 * a.sum() <= m.sum() <= 1.3 * a.sum()  # neither faded nor smeared
    # The classic method loses it in the middle.
    classic = interpolate_masks({0: a, 4: b}, match_components=False, method="linear")
    assert not classic[2].any()


def test_separate_components_are_not_smeared_together():
    shape = (60, 100)
    a = disc(shape, 20, 30, 6) | disc(shape, 70, 30, 6)
    b = disc(shape, 24, 32, 7) | disc(shape, 76, 28, 5)
    out = interpolate_masks({0: a, 6: b})
    gap = np.zeros(shape, dtype=bool)
    gap[:, 35:55] = True  # between the two objects
    for s, m in out.items():
        assert ncomp(m) == 2, s
        assert not (m & gap).any()


def test_label_that_splits_in_two():
    shape = (60, 90)
    one = np.zeros(shape, dtype=bool)
    one[20:40, 20:70] = True  # a bar...
    two = np.zeros(shape, dtype=bool)
    two[20:40, 15:38] = True  # ...that splits into two blocks
    two[20:40, 52:75] = True
    out = interpolate_masks({0: one, 10: two}, slices=[1, 5, 9])
    assert ncomp(out[1]) == 1
    assert ncomp(out[9]) == 2
    assert not out[9][:, 42:48].any()  # the split opened in the middle
    hull = ndi.binary_dilation(one | two)
    for m in out.values():
        assert not (m & ~hull).any()  # nothing outside where the object was
    # The gap opens progressively.
    assert out[1][:, 45].sum() > out[5][:, 45].sum() >= out[9][:, 45].sum() == 0


def test_empty_keyframes():
    shape = (40, 40)
    empty = np.zeros(shape, dtype=bool)
    blob = disc(shape, 20, 20, 8)
    # Empty everywhere: empty everywhere.
    out = interpolate_masks({0: empty, 5: empty})
    assert all(not m.any() for m in out.values())
    # Object appears: absent near the empty keyframe, growing towards the full one, and only
    # where the object is.
    out = interpolate_masks({0: empty, 8: blob})
    assert not out[1].any() and not out[3].any()
    assert 0 < out[5].sum() < out[6].sum() < out[7].sum() <= blob.sum()
    assert not (out[7] & ~blob).any()
    # Object disappears the same way.
    out = interpolate_masks({0: blob, 8: empty})
    assert out[1].sum() > out[3].sum() > 0 and not out[5].any()


def test_mask_volume_fills_between_keyframes_along_any_axis():
    vol = np.zeros((9, 30, 40), dtype=bool)
    vol[0] = disc((30, 40), 15, 15, 5)
    vol[8] = disc((30, 40), 25, 15, 9)
    before = vol.copy()
    out = interpolate_mask_volume(vol, [0, 8])
    np.testing.assert_array_equal(vol, before)  # not in place
    np.testing.assert_array_equal(out[0], before[0])
    np.testing.assert_array_equal(out[8], before[8])
    direct = interpolate_masks({0: before[0], 8: before[8]})
    for s, m in direct.items():
        np.testing.assert_array_equal(out[s], m)
    # Same object with slices along axis 2.
    vol2 = np.ascontiguousarray(np.moveaxis(before, 0, 2))
    out2 = interpolate_mask_volume(vol2, [0, 8], axis=2, inplace=True)
    assert out2 is vol2
    np.testing.assert_array_equal(np.moveaxis(out2, 2, 0), out)
    with pytest.raises(LabelError, match="outside"):
        interpolate_mask_volume(before, [0, 12])


def test_signed_distance_is_negative_inside():
    m = np.zeros((9, 9), dtype=bool)
    m[3:6, 3:6] = True
    d = signed_distance(m)
    assert d.dtype == np.float32
    assert d[4, 4] == -2 and d[3, 3] == -1 and d[2, 4] == 1 and d[0, 4] == 3
    assert (signed_distance(np.zeros((4, 4), bool)) > 0).all()


def test_anisotropic_spacing_is_accepted():
    shape = (40, 40)
    a = disc(shape, 20, 20, 5)
    b = disc(shape, 20, 20, 10)
    out = interpolate_masks({0: a, 2: b}, spacing=(0.7, 0.7))
    same = interpolate_masks({0: a, 2: b})
    np.testing.assert_array_equal(out[1], same[1])  # isotropic scaling changes nothing
    with pytest.raises(LabelError, match="spacing"):
        interpolate_masks({0: a, 2: b}, spacing=(0.0, 1.0))


@pytest.mark.skipif(not (DATA / "ct_small_nifti").exists(), reason="shared test data missing")
def test_real_organs_beat_classic_interpolation():
    nib = pytest.importorskip("nibabel")
    seg = np.asarray(nib.load(DATA / "ct_small_nifti" / "segmentation.nii.gz").dataobj)
    vol = np.moveaxis(seg, 2, 0)  # axial slices first
    inter_ours = inter_ref = total_ours = total_ref = 0
    for label in (1, 2, 3, 5, 6, 52, 63):  # spleen, kidneys, liver, stomach, aorta, IVC
        m = vol == label
        z = np.flatnonzero(m.any(axis=(1, 2)))
        keys = list(range(z[0], z[-1] + 1, 4))
        if keys[-1] != z[-1]:
            keys.append(int(z[-1]))
        targets = [s for s in range(z[0], z[-1]) if s not in keys]
        ours = interpolate_masks({k: m[k] for k in keys}, targets)
        ref = textbook(keys, [m[k] for k in keys], targets)
        for s in targets:
            inter_ours += (ours[s] & m[s]).sum()
            inter_ref += (ref[s] & m[s]).sum()
            total_ours += ours[s].sum() + m[s].sum()
            total_ref += ref[s].sum() + m[s].sum()
    d_ours, d_ref = 2 * inter_ours / total_ours, 2 * inter_ref / total_ref
    assert d_ours > 0.93
    assert d_ours > d_ref


def test_end_gaps_follow_the_trend_of_three_keyframes():
    # A disc whose radius grows ever slower (a parabola in z): in the first and last gaps the
    # tangent comes from the parabola through the three keyframes, not the secant, so the
    # radius is followed there too (the secant end lagged by about half a pixel).
    shape = (64, 64)

    def radius(z):
        return 6.0 + 4.0 * z - 0.25 * z * z

    def eq_radius(m):
        return float(np.sqrt(m.sum() / np.pi))

    keys = {z: disc(shape, 32, 32, radius(z)) for z in (0, 4, 8)}
    for flipped in (False, True):
        frames = {8 - z: m for z, m in keys.items()} if flipped else keys
        out = interpolate_masks(frames)
        assert sorted(out) == [1, 2, 3, 5, 6, 7]
        for s, m in out.items():
            expected = disc(shape, 32, 32, radius(8 - s if flipped else s))
            assert abs(eq_radius(m) - eq_radius(expected)) < 0.3, (flipped, s)
    # Two keyframes only: no trend to follow, the radius is interpolated linearly.
    out = interpolate_masks({0: keys[0], 4: keys[4]})
    for s, m in out.items():
        assert abs(eq_radius(m) - eq_radius(disc(shape, 32, 32, 6.0 + 3.0 * s))) < 0.3, s
