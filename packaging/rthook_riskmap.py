"""Run-time hook of the riskmap bundle (runs before riskmap): GDAL and PROJ find their data inside it.

pyogrio's GDAL reads ``pyogrio/gdal_data`` (and points its own PROJ at ``pyogrio/proj_data``). pyproj reads
``pyproj/proj_dir/share/proj`` when the bundle has it; the Linux build carries one PROJ data folder only
(riskmap.spec, one_proj_data: pyogrio's newer proj.db serves both PROJs), and pyproj then reads PROJ_DATA.
Setting the variables here makes that independent of what the machine has set (a bureau PC with QGIS
installed may carry a GDAL_DATA or PROJ_DATA of another version).
"""

import os
import sys

_base = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
_gdal = os.path.join(_base, "pyogrio", "gdal_data")
_proj = os.path.join(_base, "pyproj", "proj_dir", "share", "proj")
if not os.path.isfile(os.path.join(_proj, "proj.db")):
    _proj = os.path.join(_base, "pyogrio", "proj_data")
if os.path.isdir(_gdal):
    os.environ["GDAL_DATA"] = _gdal
if os.path.isdir(_proj):
    os.environ["PROJ_DATA"] = _proj
    os.environ.pop("PROJ_LIB", None)
# PROJ never downloads grids here (offline; the Linux bundle's libcurl is a stub, see postbuild.py)
os.environ["PROJ_NETWORK"] = "OFF"
# a minimal Linux without fontconfig's configuration (fontconfig-config): the bundle's own, quiet one
_fc = os.path.join(_base, "fontconfig", "fonts.conf")
if sys.platform.startswith("linux") and "FONTCONFIG_FILE" not in os.environ \
        and not os.path.exists("/etc/fonts/fonts.conf") and os.path.exists(_fc):
    os.environ["FONTCONFIG_FILE"] = _fc
