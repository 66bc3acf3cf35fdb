import numpy as np
import pytest

from riskmap.errors import RiskmapError
from riskmap.render.settings import MapSettings


def test_scale_denominator_by_hand():
    # 10 000 m across 1000 px at 96 dpi: 1000 px = 1000 / 96 in = 264.58 mm on paper
    s = MapSettings((0, 0, 10_000, 10_000), 1000, 1000, dpi=96)
    assert s.resolution == pytest.approx(10.0)
    assert s.scale_denominator() == pytest.approx(10_000 / 0.26458333, rel=1e-6)
    assert round(s.scale_denominator()) == 37_795
    # same ground at 300 dpi in 3125 px: the same scale
    assert MapSettings((0, 0, 10_000, 10_000), 3125, 3125, dpi=300).scale_denominator() == pytest.approx(37_795, abs=1)


def test_aspect_is_kept_centred():
    s = MapSettings((0, 0, 100, 50), 200, 200)
    assert s.extent == pytest.approx((0, -25, 100, 75))  # widened vertically about the centre
    s = MapSettings((0, 0, 100, 100), 400, 100)
    assert s.extent == pytest.approx((-150, 0, 250, 100))
    assert s.resolution == pytest.approx(1.0)


def test_pixel_round_trip_and_orientation():
    s = MapSettings((500_000, 3_900_000, 510_000, 3_905_000), 800, 400)
    px, py = s.map_to_pixel(np.array([500_000.0, 510_000.0]), np.array([3_905_000.0, 3_900_000.0]))
    assert px == pytest.approx([0, 800]) and py == pytest.approx([0, 400])  # north up, y down
    rng = np.random.default_rng(1)
    xy = np.column_stack([rng.uniform(500_000, 510_000, 50), rng.uniform(3_900_000, 3_905_000, 50)])
    assert s.pixel_to_map(s.map_to_pixel(xy)) == pytest.approx(xy)


def test_zoom_keeps_point_under_cursor_and_pan_moves_content():
    s = MapSettings((0, 0, 1000, 1000), 100, 100)
    about = (20.0, 70.0)
    before = s.pixel_to_map(*about)
    z = s.zoomed(10, about=about)
    assert z.resolution == pytest.approx(1.0)
    assert z.pixel_to_map(*about) == pytest.approx(before)
    p = s.panned(10, 5)  # drag right and down: the map point at (0, 0) is now at (10, 5)
    assert p.map_to_pixel(*s.pixel_to_map(0, 0)) == pytest.approx((10, 5))


def test_at_scale_and_with_dpi():
    s = MapSettings.at_scale((1000, 2000), 50_000, 500, 300, dpi=96)
    assert s.scale_denominator() == pytest.approx(50_000)
    assert s.centre == pytest.approx((1000, 2000))
    d = s.with_dpi(192)
    assert (d.width_px, d.height_px) == (1000, 600)
    assert d.scale_denominator() == pytest.approx(50_000)


def test_bad_sizes_raise_the_project_error():
    with pytest.raises(RiskmapError):
        MapSettings((0, 0, 1, 1), 0, 10)
    with pytest.raises(RiskmapError):
        MapSettings((0, 0, float("nan"), 1), 10, 10)
