"""The shared renderer (QtGui only, never the widget module): what the canvas shows is what the paper prints.

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲化工", "乙加油站", "丙"], "level": [1, 2, 4]},
...                        geometry=shapely.points([[105.0, 35.0], [105.01, 35.0], [105.0, 35.01]]), crs=4490)
>>> from riskmap.render import MapSettings, PreparedLayer, ensure_fonts, render_image
>>> bool(ensure_fonts())
True
>>> prep = PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)
>>> img = render_image(MapSettings(prep.total_bounds(), 1920, 1080, crs_epsg=4544), [prep])
>>> img.width(), img.height()
(1920, 1080)
"""

from riskmap.render.decorations import (
    LegendEntry, draw_legend, draw_north_arrow, draw_scale_bar, legend_entries, nice_scale_length, scale_text,
)
from riskmap.render.fonts import ensure_fonts, map_font
from riskmap.render.image import LabelJob, RenderJob, new_image, render_image
from riskmap.render.labels import PlacedLabel, place_labels
from riskmap.render.painter import RenderStats, render, render_labels
from riskmap.render.prepared import PreparedLayer, StyleClass
from riskmap.render.settings import MapSettings

__all__ = [
    "LabelJob", "LegendEntry", "MapSettings", "PlacedLabel", "PreparedLayer", "RenderJob", "RenderStats",
    "StyleClass", "draw_legend", "draw_north_arrow", "draw_scale_bar", "ensure_fonts", "legend_entries",
    "map_font", "new_image", "nice_scale_length", "place_labels", "render", "render_image", "render_labels",
    "scale_text",
]
