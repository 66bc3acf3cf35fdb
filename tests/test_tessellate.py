"""Grid and seat cells on hand-built rectangles: counts and areas worked out by hand."""

import math

import numpy as np
import pytest
import shapely
from shapely import box

from riskmap.analysis.tessellate import SLIVER_SHARE, grid_cells, merge_slivers, seat_cells
from riskmap.errors import RiskmapError

KM = 1000.0


def test_squares_of_an_aligned_rectangle():
    # 10 × 6 km with 2 km squares: 5 columns × 3 rows = 15 whole cells of 4 km², 60 km² in all
    cells = grid_cells(box(500_000, 4_000_000, 510_000, 4_006_000), 2 * KM)
    assert len(cells) == 15
    assert np.allclose(cells.areas(), 4e6)
    assert cells.areas().sum() == pytest.approx(60e6)
    assert cells.names[0] == "网格001" and cells.names[-1] == "网格015"
    assert cells.codes[0] == "01-01" and cells.codes[-1] == "03-05"
    # reading order: the first cell is the north-west one
    x0, y0, x1, y1 = cells.geoms[0].bounds
    assert (x0, y1) == (500_000, 4_006_000)


def test_squares_cut_in_half_are_kept():
    # 1 km off the 2 km lattice: 6 columns (the two outer ones half cells) × 3 rows = 18 cells, 60 km²
    cells = grid_cells(box(1 * KM, 0, 11 * KM, 6 * KM), 2 * KM)
    assert len(cells) == 18
    assert sorted(set(np.round(cells.areas() / 1e6, 6))) == [2.0, 4.0]
    assert cells.areas().sum() == pytest.approx(60e6)


def test_slivers_join_their_neighbour():
    # 0.1 km past the last column: a 0.1 × 2 km sliver (5 % of a cell, under SLIVER_SHARE) per row joins the
    # cell to its west, so 15 cells remain and the east column holds 4.2 km² each; the west column lost
    # 0.1 km (3.8 km²). The total stays 60 km².
    assert SLIVER_SHARE > 0.05
    cells = grid_cells(box(0.1 * KM, 0, 10.1 * KM, 6 * KM), 2 * KM)
    a = np.round(cells.areas() / 1e6, 6)
    assert len(cells) == 15
    assert a.sum() == pytest.approx(60.0)
    assert sorted(a.tolist()) == [3.8] * 3 + [4.0] * 9 + [4.2] * 3
    # without merging the slivers stay cells of their own
    raw = grid_cells(box(0.1 * KM, 0, 10.1 * KM, 6 * KM), 2 * KM, sliver=0)
    assert len(raw) == 18


def test_hexagons_cover_the_boundary_with_whole_cells_inside():
    s = 1 * KM
    area = box(0, 0, 20 * KM, 20 * KM)
    cells = grid_cells(area, s, "hex")
    a = cells.areas()
    full = 3 * math.sqrt(3) / 2 * s * s
    assert cells.cell_area == pytest.approx(full)
    assert a.sum() == pytest.approx(400e6)  # the cells tile the square exactly
    inside = shapely.contains_properly(area.buffer(-1.0), cells.geoms)
    assert inside.sum() > 100 and np.allclose(a[inside], full)  # interior hexagons: 3√3/2·s²
    # no overlaps: the union has the same area as the sum
    assert shapely.union_all(cells.geoms).area == pytest.approx(a.sum())
    # every piece is at least SLIVER_SHARE of a cell, unless it touches no full-sized neighbour
    assert (a >= SLIVER_SHARE * full - 1e-6).all()


def test_a_concave_boundary_drops_cells_outside():
    # an L shape of 3 × 3 km missing its north-east 2 × 2 km: 9 - 4 = 5 one-km cells
    L = shapely.Polygon([(0, 0), (3 * KM, 0), (3 * KM, 1 * KM), (1 * KM, 1 * KM), (1 * KM, 3 * KM), (0, 3 * KM)])
    cells = grid_cells(L, 1 * KM)
    assert len(cells) == 5
    assert cells.areas().sum() == pytest.approx(5e6)


def test_bad_sizes_and_shapes():
    with pytest.raises(RiskmapError):
        grid_cells(box(0, 0, 1, 1), 0)
    with pytest.raises(RiskmapError):
        grid_cells(box(0, 0, 1, 1), 1, "triangle")
    with pytest.raises(RiskmapError, match="网格过多"):
        grid_cells(box(0, 0, 1e6, 1e6), 1.0)


def test_merge_slivers_picks_the_longest_shared_border():
    a = box(0, 0, 10, 10)
    b = box(10, 0, 20, 2)  # shares 2 with a ... and 10 with c
    c = box(10, 2, 20, 12)
    kept, geoms = merge_slivers(np.array([a, b, c], dtype=object), np.array([False, True, False]))
    assert kept.tolist() == [0, 2]
    assert geoms[1].area == pytest.approx(120)


def test_seat_cells_split_a_rectangle_between_seats():
    area = box(0, 0, 12 * KM, 6 * KM)
    cells = seat_cells(area, [(2 * KM, 3 * KM), (6 * KM, 3 * KM), (10 * KM, 3 * KM)], ["甲镇", "乙镇", "丙镇"])
    # the bisectors are at x = 4 km and 8 km: three 4 × 6 km cells, in the order of the seats
    assert np.round(shapely.area(cells) / 1e6, 6).tolist() == [24.0, 24.0, 24.0]
    assert [round(c.centroid.x) for c in cells] == [2000, 6000, 10000]


def test_seat_errors_name_the_rows():
    area = box(0, 0, 10 * KM, 10 * KM)
    with pytest.raises(RiskmapError, match="第 3 行"):
        seat_cells(area, [(1, 1), (2, 2), (50 * KM, 1)], ["甲", "乙", "丙"], [1, 2, 3])
    with pytest.raises(RiskmapError, match="镇街名称重复.*第 1 行和第 2 行"):
        seat_cells(area, [(1, 1), (2, 2)], ["甲", "甲"], [1, 2])
    with pytest.raises(RiskmapError, match="驻地坐标相同"):
        seat_cells(area, [(1, 1), (1, 1)], ["甲", "乙"], [1, 2])
    one = seat_cells(area, [(5 * KM, 5 * KM)], ["甲"])
    assert one[0].area == pytest.approx(100e6)
