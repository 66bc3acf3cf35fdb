#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages riskmap needs and that are missing; does nothing for those present.
#   scripts/system-deps.sh app    Qt libraries for the desktop application (and offscreen rendering)
#   scripts/system-deps.sh bundle the above + what scripts/build-bundle.sh uses to make the bundle smaller:
#                                 icupkg (icu-devtools: Qt's ICU data cut to zh/en), gcc and binutils (strip),
#                                 g++ and pkg-config (numpy built without OpenBLAS)
#   scripts/system-deps.sh test   the above + what the tests use: headless Chromium, poppler (PDF to PNG),
#                                 gdalinfo (GeoPDF), PostgreSQL with PostGIS, a virtual X server
# Chinese text needs no system font: riskmap bundles Noto Sans CJK SC (resources/fonts).
set -euo pipefail
what="${1:-app}"

app_pkgs=(libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libgssapi-krb5-2
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0
          libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1)
test_pkgs=(xvfb xauth chromium poppler-utils gdal-bin)
bundle_pkgs=(icu-devtools gcc g++ binutils pkg-config)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "riskmap: not a Debian/Ubuntu system; install the Qt 6 runtime libraries yourself (see README)." >&2
    exit 0
fi

pkgs=("${app_pkgs[@]}")
if [ "$what" = "test" ]; then
    pkgs+=("${test_pkgs[@]}")
fi
if [ "$what" = "bundle" ]; then
    pkgs+=("${bundle_pkgs[@]}")
fi
# python3 -m venv needs ensurepip, which Debian ships separately
if ! "${PYTHON:-python3}" -c "import ensurepip" >/dev/null 2>&1; then
    pkgs+=(python3-venv)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        "${sudo_cmd[@]}" apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@"
}

if [ "${#missing[@]}" -gt 0 ]; then
    echo "riskmap: installing system packages: ${missing[*]}" >&2
    apt_install "${missing[@]}"
fi

# PostgreSQL + PostGIS for the shared-database tests: whichever major version the distribution ships.
if [ "$what" = "test" ] && ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
    if [ "$apt_updated" -eq 0 ]; then "${sudo_cmd[@]}" apt-get update -qq; apt_updated=1; fi
    pg=$(apt-cache search --names-only '^postgresql-[0-9]+-postgis-3$' | awk '{print $1}' | sort -V | tail -n 1)
    if [ -n "$pg" ]; then
        echo "riskmap: installing $pg" >&2
        apt_install "$pg"
    else
        echo "riskmap: no postgresql-N-postgis-3 package found; PostGIS tests will be skipped" >&2
    fi
fi
