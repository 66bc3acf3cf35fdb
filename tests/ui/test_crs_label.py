"""The status bar's name of the map's CRS is looked up while the project is read (riskmap.crs.crs_name, kept),
not built by pyproj on the GUI thread between the layers and the first frame (about 20 ms)."""

from __future__ import annotations

import threading

from tests.ui.conftest import open_window


def test_crs_name_is_looked_up_off_the_gui_thread(app, qtbot, prefs, demo_copy, monkeypatch):
    import pyproj

    import riskmap.crs as crs

    crs.crs_name.cache_clear()
    built = []
    real = pyproj.CRS.from_epsg

    def from_epsg(code):
        built.append((int(code), threading.current_thread() is threading.main_thread()))
        return real(code)

    monkeypatch.setattr(pyproj.CRS, "from_epsg", staticmethod(from_epsg))
    w = open_window(qtbot, prefs, demo_copy)
    try:
        epsg = w.workspace.map_epsg
        assert (epsg, False) in built and (epsg, True) not in built  # built on the opening thread only
        assert w.crs_label.text() == f"EPSG:{epsg} {real(epsg).name}"
        assert crs.crs_name(999_999) == ""  # an unknown code: no name, no error
    finally:
        w.close()
        w.deleteLater()
