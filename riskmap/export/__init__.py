"""Writers: GeoPackage with QGIS styles, Shapefile, GeoJSON, KML/KMZ, DXF, XLSX, the offline web map, and
the shared pieces (the layers to export, atomic writes, the 示例数据 mark, statistics, the sheet layout).
The print layouts are in :mod:`riskmap.printing`; :func:`riskmap.printing.dispatch.export_project` is the
one entry point for all of them.
"""
