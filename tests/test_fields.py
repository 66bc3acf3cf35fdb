"""Field labels shared by the screen and the exports (riskmap.fields)."""

import geopandas as gpd
import pandas as pd
import shapely

from riskmap.fields import derive_columns, display_column, field_title, format_value, word
from riskmap.layers import load_catalogue


def test_titles_from_catalogue_then_derived_then_name():
    ents = load_catalogue()["enterprises"]
    level = next(f for f in ents.fields if f.name == "level")
    assert field_title(ents, "level") == level.zh
    assert field_title(ents, "level", "en") == level.en
    assert field_title(ents, "level_name") == "风险等级"
    assert field_title(ents, "industry_name", "en") == "Industry"
    assert field_title(ents, "no_such_column") == "no_such_column"


def test_derived_columns_match_the_screen_words():
    ents = load_catalogue()["enterprises"]
    gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "level": [1, 4, None], "industry": ["gas_station", "zz_unknown", None]},
                           geometry=[shapely.Point(0, 0)] * 3, crs=4490)
    out = derive_columns(ents, gdf)
    assert out["level_name"].tolist()[:2] == ["重大风险", "低风险"] and pd.isna(out["level_name"].iloc[2])
    assert out["industry_name"].tolist()[1] == "zz_unknown"
    # the export's readable column and the attribute table's cell are the same words
    screen = display_column(ents, "industry", gdf["industry"]).tolist()
    assert out["industry_name"].tolist()[0] == screen[0] != "gas_station"
    assert derive_columns(ents, gdf, "en")["level_name"].tolist()[:2] == ["Major risk", "Low risk"]
    assert "level_name" not in gdf  # a copy


def test_words_and_values():
    assert word("hidden_dangers", "status", "supervised") == "挂牌督办"
    assert word("hidden_dangers", "status", "supervised", "en") == "Supervised"
    assert format_value(3.0) == "3" and format_value(float("nan")) == "" and format_value(True, "en") == "Yes"
    assert format_value(pd.NA) == ""
