"""Exact answers on a layer queried in the database (riskmap.store.layer_query), on GeoPackage and PostGIS:
each figure is computed again by hand with pandas / shapely on the same rows read whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.layers import load_catalogue
from riskmap.store import layer_query as lq

CAT = load_catalogue()
ENTS = CAT["enterprises"]
HOSTILE = "%'; DROP TABLE enterprises;--"


class Flt:  # the shape of riskmap.ui.workspace.LayerFilter (the store knows no Qt)
    def __init__(self, values=None, text=""):
        self.values = values or {}
        self.text = text


@pytest.fixture
def store(any_store):
    """The demo on each store, with a few enterprises made ungraded (NULL level) and one with LIKE
    wildcards in its name."""
    p = any_store
    ids = p.read_table("enterprises", columns=["id"])["id"].to_numpy()
    for i in ids[[3, 17, 40]]:
        p.execute("UPDATE enterprises SET level = NULL WHERE id = :i", i=int(i))
    p.execute("UPDATE enterprises SET name = :n WHERE id = :i", n="示例百分之100%_合格\\化工厂", i=int(ids[7]))
    return p


def _hand_levels(df) -> dict:
    lv = df["level"]
    out = {n: int((lv == n).sum()) for n in (1, 2, 3, 4)}
    out[None] = int(lv.isna().sum())
    return out


def test_class_counts_equal_pandas(store):
    ents = store.read_layer(ENTS)
    assert lq.class_counts(store, ENTS) == _hand_levels(ents)
    assert lq.class_counts(store, ENTS)[None] == 3
    assert lq.row_count(store, ENTS) == len(ents)
    # a category layer with a catalogue where: hidden dangers not closed, by grade
    hd = CAT["hidden_dangers"]
    rows = store.read_table("hidden_dangers")
    rows = rows[rows["status"] != "closed"]
    want = {c.value: int((rows["grade"] == c.value).sum()) for c in hd.style.categories}
    want[lq.OTHER] = int((~rows["grade"].isin([c.value for c in hd.style.categories]) & rows["grade"].notna()).sum())
    want[None] = int(rows["grade"].isna().sum())
    assert lq.class_counts(store, hd) == want
    assert sum(want.values()) == lq.row_count(store, hd) == len(rows)
    # towns (zones where kind = 'town') and a single-style layer
    zones = store.read_table("zones")
    towns = zones[zones["kind"] == "town"]
    assert lq.class_counts(store, CAT["towns"]) == _hand_levels(towns)
    assert lq.class_counts(store, CAT["county"]) == {None: int((zones["kind"] == "county").sum())}


def test_class_counts_split_risk_points_by_geometry_kind(store):
    """risk_points holds points and areas: the area layer counts the areas, the point layer the points."""
    rp = store.read_table("risk_points")
    types = shapely.get_type_id(rp.geometry.array)
    areas = rp[np.isin(types, (3, 6))]
    points = rp[np.isin(types, (0, 4, -1)) & (rp["kind"] == "risk_point")]
    assert len(areas) and len(points)
    assert lq.class_counts(store, CAT["risk_points"]) == _hand_levels(areas)
    assert lq.class_counts(store, CAT["risk_point_points"]) == _hand_levels(points)


def test_class_counts_with_a_filter(store):
    ents = store.read_layer(ENTS)
    flt = Flt({"industry": frozenset({"gas_station", "fireworks_retail"}), "level": frozenset({3, 4, None})})
    sql = lq.filter_sql(ENTS, flt)
    assert "gas_station" not in sql[0] and "gas_station" in sql[1].values()  # bound, not spliced
    hand = ents[ents["industry"].isin(["gas_station", "fireworks_retail"])
                & (ents["level"].isin([3, 4]) | ents["level"].isna())]
    assert 0 < len(hand) < len(ents)
    assert lq.class_counts(store, ENTS, sql) == _hand_levels(hand)
    assert lq.row_count(store, ENTS, sql) == len(hand)
    # nothing allowed: nothing counted
    assert sum(lq.class_counts(store, ENTS, lq.filter_sql(ENTS, Flt({"level": frozenset()}))).values()) == 0


def test_text_filter_finds_words_and_raw_values(store):
    """The free text of a filter matches what the table shows: 加油站 (the industry's words), 重大 (the
    level's), a town's name — case-insensitively, as LayerFilter.mask does."""
    ents = store.read_layer(ENTS)
    town = ents["town"].dropna().iloc[0]
    for text, hand in [
        ("加油站", ents["name"].str.contains("加油站") | (ents["industry"] == "gas_station")),
        ("重大风险", ents["level"] == 1),
        (town, ents["town"] == town),
    ]:
        hand = ents[hand.fillna(False).to_numpy(dtype=bool)]
        got = lq.ordered_ids(store, ENTS, where=lq.filter_sql(ENTS, Flt(text=text)))
        assert sorted(got.tolist()) == sorted(hand["id"].tolist()), text


def test_hostile_text_is_data(store):
    n = lq.row_count(store, ENTS)
    assert lq.search(store, ENTS, HOSTILE).empty
    for flt in (Flt(text=HOSTILE), Flt({"name": frozenset({HOSTILE}), "level": frozenset({HOSTILE})}),
                Flt({HOSTILE: frozenset({1})})):  # a field that is not a column is no restriction, never SQL
        sql = lq.filter_sql(ENTS, flt)
        assert HOSTILE not in sql[0]
        counts = lq.class_counts(store, ENTS, sql)
        assert sum(counts.values()) == (n if HOSTILE in flt.values else 0)
    assert lq.row_count(store, ENTS) == n  # the table is still there, whole
    assert len(store.read_table("enterprises", columns=["id"])) == n
    with pytest.raises(RiskmapError):
        lq.page(store, ENTS, order_by="name; DROP TABLE enterprises")
    with pytest.raises(RiskmapError):
        lq.page(store, ENTS, order_by="credit_code")  # a column, but not one of the layer's fields
    assert lq.row_count(store, ENTS) == n


def test_like_wildcards_are_literal(store):
    ents = store.read_layer(ENTS)
    odd = ents[ents["name"].str.contains("%_", regex=False)]
    assert len(odd) == 1
    for text in ("%_", "100%", "_合格\\"):
        hits = lq.search(store, ENTS, text)
        assert hits["id"].tolist() == odd["id"].tolist(), text
        got = lq.ordered_ids(store, ENTS, where=lq.filter_sql(ENTS, Flt(text=text)))
        assert got.tolist() == odd["id"].tolist(), text
    assert lq.search(store, ENTS, "_").empty or set(lq.search(store, ENTS, "_")["id"]) <= set(odd["id"])


def test_search_exact_first_then_contains(store):
    ents = store.read_layer(ENTS).sort_values("id")
    target = ents.iloc[25]
    hits = lq.search(store, ENTS, target["name"])
    assert hits["id"].tolist() == ents[ents["name"] == target["name"]]["id"].tolist()  # the exact name only
    assert hits["label"].iloc[0] == f"{target['name']} — {target['address'] or ''}"
    assert hits["lon"].iloc[0] == pytest.approx(target.geometry.x, abs=1e-6)
    assert hits["lat"].iloc[0] == pytest.approx(target.geometry.y, abs=1e-6)
    word = "加油站"
    hand = ents[ents["name"].str.contains(word, regex=False) | ents["address"].fillna("").str.contains(word, regex=False)]
    assert (hand["name"] != word).all()  # no exact name: the names and addresses that contain it
    got = lq.search(store, ENTS, word, limit=10_000)
    assert got["id"].tolist() == hand["id"].tolist()
    assert lq.search(store, ENTS, word, limit=3)["id"].tolist() == hand["id"].tolist()[:3]
    towns = store.read_table("zones", where="kind = 'town'")
    t = towns.iloc[0]
    got = lq.search(store, CAT["towns"], t["name"])
    assert got["id"].tolist()[0] == int(t["id"])
    minx, miny, maxx, maxy = t.geometry.bounds
    assert got["lon"].iloc[0] == pytest.approx((minx + maxx) / 2, abs=1e-4)


def test_features_at_equals_shapely(store):
    ents = store.read_layer(ENTS)
    geoms = ents.geometry.array
    rng = np.random.default_rng(3)
    picks = [ents.geometry.iloc[i] for i in rng.choice(len(ents), 5, replace=False)]
    minx, miny, maxx, maxy = ents.total_bounds
    picks += [shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(5)]
    tol = 0.02
    found_any = 0
    for pt in picks:
        d = shapely.distance(geoms, pt)
        ok = d <= tol
        hand = ents["id"].to_numpy()[ok][np.lexsort((ents["id"].to_numpy()[ok], d[ok]))].tolist()
        got = lq.features_at(store, ENTS, pt.x, pt.y, tol)
        assert got == hand
        found_any += bool(hand)
    assert found_any >= 5
    # polygons: the towns containing the point (or within tolerance of their outline)
    towns = store.read_layer(CAT["towns"])
    for pt in picks:
        inside = towns[shapely.contains(towns.geometry.array, pt)
                       | (shapely.distance(shapely.boundary(towns.geometry.array), pt) <= 1e-4)]
        assert sorted(lq.features_at(store, CAT["towns"], pt.x, pt.y, 1e-4)) == sorted(inside["id"].tolist())


def test_features_at_in_the_map_crs(store):
    from riskmap.crs import reproject

    ents = store.read_layer(ENTS)
    epsg = store.metric_epsg or 4544
    proj = reproject(np.asarray(ents.geometry.array, dtype=object), 4490, epsg)
    target = ents.iloc[10]
    xy = reproject(np.array([target.geometry], dtype=object), 4490, epsg)[0]
    tol_m = 1500.0
    d = shapely.distance(proj, xy)
    hand = ents["id"].to_numpy()[d <= tol_m]
    got = lq.features_at(store, ENTS, target.geometry.x, target.geometry.y, 0.03, map_epsg=epsg,
                         map_xy=(xy.x, xy.y), tolerance=tol_m)
    assert sorted(got) == sorted(hand.tolist()) and got[0] == int(target["id"])


def _hand_order(df, field, desc):
    """By hand: rows with a value by it (ties by id; descending the exact reverse), then the others by id."""
    if field is None:
        return df.sort_values("id", ascending=not desc)["id"].tolist()
    has = df[df[field].notna()].sort_values([field, "id"], ascending=not desc)
    return has["id"].tolist() + df[df[field].isna()].sort_values("id")["id"].tolist()


def test_page_order_equals_pandas_sort(store):
    ents = store.read_layer(ENTS)
    for field, desc in [("name", False), ("name", True), ("level", False), ("level", True), ("employees", True),
                        (None, False), ("id", True)]:
        want = _hand_order(ents, None if field == "id" else field, desc)
        assert lq.ordered_ids(store, ENTS, order_by=field, descending=desc).tolist() == want, field
        for off in (0, 37, len(want) - 5, len(want) - 2):  # the last pages hold the rows without a value
            pg = lq.page(store, ENTS, order_by=field, descending=desc, offset=off, limit=20)
            assert pg["id"].tolist() == want[off:off + 20], (field, off)
    assert lq.page(store, ENTS, order_by="level", offset=len(ents) + 5).empty
    pg = lq.page(store, ENTS, order_by="level", offset=0, limit=5)
    assert list(pg.columns) == ["id"] + [f.name for f in ENTS.fields]
    # keyset paging in id order
    ids = sorted(ents["id"].tolist())
    assert lq.page(store, ENTS, after_id=ids[99], limit=10)["id"].tolist() == ids[100:110]
    # a filter as where
    flt = lq.filter_sql(ENTS, Flt({"level": frozenset({2})}))
    hand = _hand_order(ents[ents["level"] == 2], "name", False)
    assert lq.page(store, ENTS, order_by="name", where=flt, limit=1000)["id"].tolist() == hand
    assert lq.page(store, ENTS, order_by="name", where=flt, offset=2, limit=3)["id"].tolist() == hand[2:5]
    # ids with gaps in id order (the ids of a range are not assumed)
    assert lq.ordered_ids(store, ENTS, where=flt).tolist() == sorted(ents[ents["level"] == 2]["id"].tolist())
    none = lq.filter_sql(ENTS, Flt({"level": frozenset()}))
    assert lq.ordered_ids(store, ENTS, where=none).tolist() == []
    assert lq.ordered_ids(store, ENTS, order_by="level", where=none).tolist() == []


def test_rows_record_extent_distinct(store):
    ents = store.read_layer(ENTS)
    ids = ents["id"].tolist()[::-7][:12]
    rows = lq.rows_by_ids(store, ENTS, ids + [10**9])
    assert rows["id"].tolist() == ids
    hand = ents.set_index("id").loc[ids]
    assert rows["name"].tolist() == hand["name"].tolist()
    assert rows["level"].astype("Float64").tolist() == hand["level"].astype("Float64").tolist()
    assert rows["major_hazard"].tolist() == hand["major_hazard"].astype("boolean").tolist()  # 是/否, not 0/1
    assert str(rows["major_hazard"].dtype) == "boolean"
    rec = lq.record(store, ENTS, ids[0])
    assert rec["name"] == hand["name"].iloc[0] and rec["credit_code"] == hand["credit_code"].iloc[0]
    assert rec.geometry.equals_exact(hand.geometry.iloc[0], 1e-9)
    assert lq.record(store, ENTS, 10**9) is None
    sub = ents[ents["id"].isin(ids)]
    for got, want in ((lq.extent(store, ENTS, ids), sub.total_bounds), (lq.extent(store, ENTS), ents.total_bounds)):
        # the GeoPackage R-tree keeps 32-bit floats rounded outwards: the box holds the features, within 1e-4°
        assert got[0] <= want[0] and got[1] <= want[1] and got[2] >= want[2] and got[3] >= want[3]
        assert got == pytest.approx(tuple(want), abs=1e-4)
    assert lq.extent(store, ENTS, []) is None
    vc = ents["industry"].value_counts()
    assert lq.distinct_values(store, ENTS, "industry") == sorted((k, int(v)) for k, v in vc.items())
    lv = lq.distinct_values(store, ENTS, "level")
    assert lv[-1] == (None, 3) and [v for v, _ in lv[:-1]] == sorted(ents["level"].dropna().unique().tolist())
    names = lq.distinct_values(store, ENTS, "name", limit=81)
    assert len(names) == 81 and names[0][1] is None  # more than 80: not counted
    with pytest.raises(RiskmapError):
        lq.distinct_values(store, ENTS, "qr_id")


def test_features_in_box_equal_shapely(store):
    from riskmap.crs import reproject

    ents = store.read_layer(ENTS)
    minx, miny, maxx, maxy = ents.total_bounds
    box = (minx + 0.2 * (maxx - minx), miny + 0.3 * (maxy - miny), minx + 0.6 * (maxx - minx), miny + 0.7 * (maxy - miny))
    hand = ents[shapely.intersects(ents.geometry.array, shapely.box(*box))]["id"]
    assert 0 < len(hand) < len(ents)
    assert lq.features_in_box(store, ENTS, box) == sorted(hand.tolist())
    # a box in the map CRS: the R-tree box covering it, then the exact test in metres
    epsg = store.metric_epsg or 4544
    proj = reproject(np.asarray(ents.geometry.array, dtype=object), 4490, epsg)
    mb = shapely.bounds(shapely.union_all(proj[:40]))
    hand = ents["id"].to_numpy()[shapely.intersects(proj, shapely.box(*mb))]
    cover = reproject(np.array([shapely.box(*mb).segmentize(10.0)], dtype=object), epsg, 4490)[0].bounds
    assert lq.features_in_box(store, ENTS, cover, map_epsg=epsg, map_box=tuple(mb)) == sorted(hand.tolist())


def test_bbox_counts(store):
    ents = store.read_layer(ENTS)
    minx, miny, maxx, maxy = ents.total_bounds
    box = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    x, y = ents.geometry.x, ents.geometry.y
    inside = ents[(x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])]
    assert 0 < len(inside) < len(ents)
    assert lq.class_counts(store, ENTS, bbox=box) == _hand_levels(inside)
