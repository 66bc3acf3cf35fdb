"""Georeferencing a plan: a synthetic 2000×1500 px plan of a 400 m × 300 m plant, rotated 12°, whose corners
are known; the transforms are computed by hand here and compared with riskmap.georef's fits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskmap import georef
from riskmap.errors import RiskmapError

W, H = 2000, 1500  # pixels
SIZE = (400.0, 300.0)  # metres: 0.2 m a pixel
ANGLE = math.radians(12)  # the plan's up lies 12° west of north
ORIGIN = (500_000.0, 3_900_000.0)  # the top-left corner, Gauss–Krüger metres


def known_corners() -> np.ndarray:
    """The plant's corners TL, TR, BR, BL on the map, by hand: the plan's x axis (its top edge) runs at 12°
    counter-clockwise from east, its y axis (down the plan) at 12° counter-clockwise from south."""
    ux = np.array([math.cos(ANGLE), math.sin(ANGLE)])  # along the top edge, per metre
    uy = np.array([math.sin(ANGLE), -math.cos(ANGLE)])  # down the left edge, per metre
    o = np.array(ORIGIN)
    w, h = SIZE
    return np.array([o, o + w * ux, o + w * ux + h * uy, o + h * uy])


PIX = np.array([(0, 0), (W, 0), (W, H), (0, H)], dtype=float)


def test_hand_made_corners_form_the_plant():
    c = known_corners()
    assert np.hypot(*(c[1] - c[0])) == pytest.approx(400.0)
    assert np.hypot(*(c[3] - c[0])) == pytest.approx(300.0)
    assert math.degrees(math.atan2(c[1][1] - c[0][1], c[1][0] - c[0][0])) == pytest.approx(12.0)


def test_four_corners_give_the_exact_affine():
    fit = georef.fit(PIX, known_corners())
    assert fit.method == "affine"
    s = 0.2
    a, b, c, d, e, f = fit.transform
    # by hand: x = x0 + 0.2 cos12°·col + 0.2 sin12°·row ; y = y0 + 0.2 sin12°·col − 0.2 cos12°·row
    assert (a, d) == pytest.approx(ORIGIN, abs=1e-6)
    assert (b, c, e, f) == pytest.approx((s * math.cos(ANGLE), s * math.sin(ANGLE), s * math.sin(ANGLE),
                                          -s * math.cos(ANGLE)), abs=1e-12)
    assert fit.max_m < 1e-6 and fit.rms_m < 1e-6
    assert fit.scale == pytest.approx(0.2)
    assert np.abs(georef.corners(fit.transform, W, H) - known_corners()).max() < 0.01
    # a pixel inside: the plan's centre is the centre of the corners
    x, y = georef.apply(fit.transform, W / 2, H / 2)
    assert (x, y) == pytest.approx(tuple(known_corners().mean(axis=0)), abs=0.01)


def test_two_points_give_the_similarity():
    c = known_corners()
    fit = georef.fit(PIX[[0, 2]], c[[0, 2]])  # two opposite corners
    assert fit.method == "similarity"
    assert fit.max_m < 1e-6  # two points: exact
    assert np.abs(georef.corners(fit.transform, W, H) - c).max() < 0.01  # and the other corners follow
    # rotation and scale by hand from the transform
    a, b, cc, d, e, f = fit.transform
    assert math.degrees(math.atan2(e, b)) == pytest.approx(12.0)
    assert (b, cc) == pytest.approx((-f, e))


def test_three_noisy_points_residuals_within_a_metre():
    rng = np.random.default_rng(4)
    c = known_corners()
    pix = np.array([(100, 80), (1900, 200), (1000, 1400), (300, 1300)], dtype=float)
    x, y = georef.apply(georef.fit(PIX, c).transform, pix[:, 0], pix[:, 1])
    truth = np.column_stack([x, y])
    noisy = truth + rng.normal(0, 0.3, truth.shape)  # surveyed to ~0.3 m
    fit3 = georef.fit(pix[:3], noisy[:3])
    assert fit3.method == "affine" and fit3.max_m < 1e-6  # 3 points fix an affine exactly
    fit4 = georef.fit(pix, noisy)
    assert fit4.max_m <= 1.0 and 0 < fit4.rms_m <= fit4.max_m
    # residuals by hand: distance from each mapped pixel to its surveyed point
    mx, my = georef.apply(fit4.transform, pix[:, 0], pix[:, 1])
    assert fit4.residuals_m == pytest.approx(np.hypot(mx - noisy[:, 0], my - noisy[:, 1]))
    assert fit4.rms_m == pytest.approx(math.sqrt(np.mean(fit4.residuals_m ** 2)))
    # the whole plan still lands within a metre of where it is
    assert np.abs(georef.corners(fit4.transform, W, H) - c).max() < 1.0


def test_a_bad_point_shows_in_its_residual():
    c = known_corners()
    world = c.copy()
    world[2] += (6.0, -8.0)  # one corner 10 m off
    fit = georef.fit(PIX, world)
    # by hand: four corners leave one degree of freedom per axis, along the pattern (+1, −1, +1, −1)/2; the
    # error projects onto it with half its size, so every point is left 10 m / 4 = 2.5 m off
    assert fit.residuals_m == pytest.approx([2.5, 2.5, 2.5, 2.5], abs=1e-6)
    assert fit.rms_m == pytest.approx(2.5) and fit.max_m == pytest.approx(2.5)


def test_invert_round_trip():
    fit = georef.fit(PIX, known_corners())
    inv = georef.invert(fit.transform)
    cols, rows = np.array([0.0, 123.4, 2000.0]), np.array([0.0, 987.6, 1500.0])
    x, y = georef.apply(fit.transform, cols, rows)
    c2, r2 = georef.apply(inv, x, y)
    assert c2 == pytest.approx(cols, abs=1e-6) and r2 == pytest.approx(rows, abs=1e-6)


@pytest.mark.parametrize("pixels, world, words", [
    ([(0, 0)], [(0, 0)], "至少需要 2 个控制点"),
    ([(0, 0), (0, 0)], [(0, 0), (10, 10)], "控制点 2 与控制点 1 的像素位置相同"),
    ([(0, 0), (5, 5)], [(3, 3), (3, 3)], "控制点 2 与控制点 1 的地图位置相同"),
    ([(0, 0), (10, 10), (20, 20)], [(0, 0), (10, 0), (0, 10)], "在一条直线上"),
    ([(0, 0), (10, 0), (0, 10)], [(0, 0), (10, 10), (20, 20)], "在一条直线上"),
    ([(0, 0), (1, 1)], [(0, 0), (1, 1), (2, 2)], "数目应相同"),
    ([(0, 0), (float("nan"), 1)], [(0, 0), (1, 1)], "控制点 2"),
])
def test_bad_control_points_are_refused(pixels, world, words):
    with pytest.raises(RiskmapError) as err:
        georef.fit(pixels, world)
    assert words in err.value.zh
