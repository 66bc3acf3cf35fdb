#!/usr/bin/env bash
# Builds the self-contained riskmap bundle for Linux (packaging/README.md):
#   dist/riskmap/                               one folder: the `riskmap` executable (window and commands) and
#                                               everything it needs (Python, Qt, GDAL, PROJ, fonts, data)
#   dist/riskmap-<version>-linux-<arch>.tar.gz  the folder packed, to unpack anywhere
#   dist/riskmap_<version>_<debarch>.deb        installs it under /opt/riskmap (desktop entry, icon, .gpkg type)
# and runs the bundle once (it fails loudly if the bundle does not start).
#
#   scripts/build-bundle.sh            build (always) and pack
#   scripts/build-bundle.sh --check    build unless dist/riskmap is newer than every source, pack, then run the
#                                      bundle as a bureau PC would: from a path with spaces and Chinese, as an
#                                      ordinary user, with no network, with an empty HOME (version, demo, PDF
#                                      export read back, window grabbed to build/bundle-check/window.png, cold
#                                      start to the first map frame); nothing may be written into the bundle
#   scripts/build-bundle.sh --check --reuse   the checks on the existing build even if sources changed since
#   scripts/build-bundle.sh --for-tests    build unless fresh and smoke-run, no packing (scripts/test.sh with
#                                      RISKMAP_BUILD_BUNDLE=1: tests/test_bundle.py then runs the bundle); a
#                                      Python that cannot be frozen is reported and skipped, not an error
#   scripts/build-bundle.sh --check --deb   the same checks after `dpkg -i` of the .deb in a fresh, minimal
#                                      Debian 12 (debootstrap into $RISKMAP_DEB_ROOT, default
#                                      /var/tmp/riskmap-bookworm; root only; the first run downloads ~50 MB)
# The build tools go into their own virtual environment build/bundle-venv (pip install -e ".[bundle,postgis]"),
# never into the user's .venv: the bundle then holds exactly what pyproject.toml asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
check=0; deb=0; for_tests=0; reuse=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        --for-tests) for_tests=1 ;;
        --reuse) reuse=1 ;;
        --deb) deb=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "build-bundle: unknown option $arg" >&2; exit 2 ;;
    esac
done
if [ "$deb" = 1 ] && [ "$check" = 0 ]; then check=1; fi

python="${PYTHON:-python3}"
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' riskmap/__init__.py)
arch=$(uname -m)
debarch=$(dpkg --print-architecture 2>/dev/null || echo "$arch")
BVENV=build/bundle-venv
DIST=dist/riskmap
TARBALL=dist/riskmap-$version-linux-$arch.tar.gz
DEB=dist/riskmap_${version}_${debarch}.deb
say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'build-bundle: FAILED: %s\n' "$*" >&2; exit 1; }

# Qt's run-time libraries must be on the build machine (PyInstaller copies them into the bundle), and the tools
# that make it smaller (icupkg, gcc, strip: packaging/postbuild.py)
scripts/system-deps.sh bundle >/dev/null

fresh() {  # the bundle exists and is newer than every file it is made of
    [ -x "$DIST/riskmap" ] || return 1
    [ -z "$(find riskmap layers data resources packaging pyproject.toml -newer "$DIST/riskmap" -type f \
            -not -path '*/__pycache__/*' -print -quit)" ]
}

build() {
    say "build venv $BVENV"
    if [ ! -x "$BVENV/bin/python" ]; then "$python" -m venv "$BVENV"; fi
    "$BVENV/bin/python" -c 'import sysconfig, sys; sys.exit(0 if sysconfig.get_config_var("Py_ENABLE_SHARED") else 1)' \
        || die "PyInstaller needs a Python built with --enable-shared (libpython3.x.so)"
    "$BVENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$BVENV/bin/python" -m pip install -q -e ".[bundle,postgis]"
    numpy_without_openblas
    say "PyInstaller (packaging/riskmap.spec)"
    local t0=$SECONDS
    rm -rf "$DIST"
    "$BVENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
        packaging/riskmap.spec
    echo "build time: $((SECONDS - t0)) s" >&2
}

# numpy's wheel carries OpenBLAS and gfortran (28 MB) for fast linear algebra; riskmap's only linear algebra is
# a few 2×2 to 6×6 least-squares fits (georef.py), which numpy's own LAPACK subset does. So the bundle venv gets
# the same numpy version built from its source without BLAS (once, about 10 min with a C/C++ compiler; the wheel
# is kept in build/wheels), dispatching SIMD kernels to x86-64-v3/v4 only (AVX2, AVX-512), not to newer AVX-512
# extensions: 3 MB less again.
numpy_without_openblas() {
    local v whl
    v=$("$BVENV/bin/python" -c 'import numpy; print(numpy.__version__)')
    if ! "$BVENV/bin/python" -c 'import numpy, pathlib, sys; sys.exit(pathlib.Path(numpy.__file__).parent.with_name("numpy.libs").exists())'; then
        say "numpy $v without OpenBLAS (build/wheels)"
        whl=$(ls build/wheels/numpy-"$v"-*.whl 2>/dev/null | head -n 1 || true)
        if [ -z "$whl" ]; then
            local setup=(-Csetup-args=-Dblas=none -Csetup-args=-Dlapack=none -Csetup-args=-Dallow-noblas=true)
            [ "$arch" = x86_64 ] && setup+=("-Csetup-args=-Dcpu-dispatch=X86_V3 X86_V4")
            "$BVENV/bin/python" -m pip wheel -q --no-deps --no-binary numpy -w build/wheels "numpy==$v" "${setup[@]}" \
                || die "numpy $v could not be built from source (a C/C++ compiler: scripts/system-deps.sh bundle)"
            whl=$(ls build/wheels/numpy-"$v"-*.whl | head -n 1)
        fi
        "$BVENV/bin/python" -m pip install -q --force-reinstall --no-deps "$whl"
    fi
    "$BVENV/bin/python" -c 'import numpy as np; a = np.array([[2.0, 1.0], [1.0, 3.0]]); x = np.linalg.lstsq(a, [3.0, 5.0], rcond=None)[0]; assert np.allclose(x, [0.8, 1.4]), x' \
        || die "numpy without OpenBLAS gives a wrong least-squares answer"
}

smoke() {  # the bundle starts: version, a demo project, the window's first frame (offscreen)
    say "smoke run of $DIST"
    local tmp; tmp=$(mktemp -d)
    "$DIST/riskmap" --version || die "riskmap --version"
    env HOME="$tmp" QT_QPA_PLATFORM=offscreen "$DIST/riskmap" demo --out "$tmp/demo.gpkg" >/dev/null \
        || die "riskmap demo"
    env HOME="$tmp" QT_QPA_PLATFORM=offscreen RISKMAP_FIRST_FRAME=1 "$DIST/riskmap" "$tmp/demo.gpkg" \
        | grep -q "first frame" || die "the window did not paint its first map frame"
    rm -rf "$tmp"
}

sizes() {
    say "sizes"
    du -sh "$DIST" | sed 's/^/unpacked: /'
    du -sh "$DIST/_internal"/* | sort -rh | head -14
}

pack_tar() {
    say "tarball $TARBALL"
    tar -C dist -czf "$TARBALL" riskmap
    ls -l "$TARBALL"
}

# The libraries the bundle's ELF files need that it does not carry itself, as Debian packages
# (dpkg-shlibdeps style, resolved with dpkg -S on the build machine).
system_libs() {
    local have needed
    have=$(find "$DIST/_internal" -name '*.so*' -printf '%f\n' | sort -u)
    needed=$(find "$DIST" -type f \( -name '*.so*' -o -name riskmap \) -exec readelf -d {} + 2>/dev/null \
             | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
    comm -23 <(echo "$needed") <(echo "$have")
}

pack_deb() {
    say "Debian package $DEB"
    local stage=build/deb/root
    rm -rf build/deb && mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
        "$stage/usr/share/mime/packages" "$stage/usr/share/icons/hicolor/scalable/apps" \
        "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/doc/riskmap"
    cp -a "$DIST" "$stage/opt/riskmap"
    chmod -R u+rwX,go+rX,go-w "$stage/opt/riskmap"
    ln -s /opt/riskmap/riskmap "$stage/usr/bin/riskmap"
    install -m 644 packaging/linux/riskmap.desktop "$stage/usr/share/applications/riskmap.desktop"
    install -m 644 packaging/linux/riskmap-mime.xml "$stage/usr/share/mime/packages/riskmap.xml"
    install -m 644 resources/icons/riskmap.svg "$stage/usr/share/icons/hicolor/scalable/apps/riskmap.svg"
    install -m 644 packaging/icons/riskmap-256.png "$stage/usr/share/icons/hicolor/256x256/apps/riskmap.png"
    {   echo "riskmap $version — the licences of what the bundle carries are in /opt/riskmap/_internal/licences"
        echo "(index.json lists them; 帮助 → 关于 in the program shows them)."
    } > "$stage/usr/share/doc/riskmap/copyright"
    install -m 755 packaging/linux/postinst "$stage/DEBIAN/postinst"
    install -m 755 packaging/linux/postrm "$stage/DEBIAN/postrm"
    # Depends: the libraries the bundle leaves to the system (see packaging/README.md)
    local pkgs=() lib pkg
    while read -r lib; do
        [ -n "$lib" ] || continue
        pkg=$(dpkg -S "*/$lib" 2>/dev/null | head -n 1 | cut -d: -f1) || true
        [ -n "$pkg" ] || die "no Debian package provides $lib (needed by the bundle)"
        pkgs+=("$pkg")
    done < <(system_libs)
    local depends glibc
    # the newest glibc symbol version any ELF file asks for: libc6 (>= it), so that dpkg refuses an older system
    # with a clear message instead of a program that does not start
    glibc=$(find "$DIST" -type f \( -name '*.so*' -o -name riskmap \) -exec objdump -T {} + 2>/dev/null \
            | grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_//' | sort -t. -k2 -n -u | tail -n 1)
    depends=$(printf '%s\n' "${pkgs[@]}" | sort -u | sed "s/^libc6\$/libc6 (>= $glibc)/" | paste -sd, - \
              | sed 's/,/, /g')
    echo "system libraries left to the system: $(system_libs | paste -sd' ' -)" >&2
    echo "Depends: $depends" >&2
    sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$debarch/" -e "s/@DEPENDS@/$depends/" \
        -e "s/@SIZE@/$(du -sk "$stage" | cut -f1)/" packaging/linux/control.in > "$stage/DEBIAN/control"
    dpkg-deb --root-owner-group -Zxz -z3 --build "$stage" "$DEB" >/dev/null
    ls -l "$DEB"
}

# ---- the bureau checks -------------------------------------------------------------------------------------
CHECK_USER=riskmapcheck
as_user() {  # run "$@" as the ordinary user, with no network, an empty HOME and a minimal environment
    local home=$1; shift
    local pre=()
    if [ "$(id -u)" = 0 ]; then
        pre=(setpriv "--reuid=$CHECK_USER" "--regid=$CHECK_USER" --init-groups)
    fi
    unshare_cmd=(unshare -n)
    if ! unshare -n true 2>/dev/null; then
        echo "build-bundle: unshare -n is not permitted here; running with the network" >&2
        unshare_cmd=()
    fi
    "${unshare_cmd[@]}" "${pre[@]}" env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
        QT_QPA_PLATFORM=offscreen "${RISKMAP_EXTRA_ENV[@]}" "$@"
}

ensure_user() {
    if [ "$(id -u)" = 0 ] && ! id "$CHECK_USER" >/dev/null 2>&1; then
        useradd --no-create-home --shell /usr/sbin/nologin "$CHECK_USER"
    fi
}

check_bundle() {  # $1: the riskmap executable to run; $2: a writable work folder; $3: the bundle folder
    local exe=$1 work=$2 bundle=$3 home="$2/home"
    ensure_user
    mkdir -p "$home"
    if [ "$(id -u)" = 0 ]; then chown -R "$CHECK_USER:$CHECK_USER" "$work"; fi
    touch "$work/.start"
    RISKMAP_EXTRA_ENV=()
    say "riskmap --version (as $(if [ "$(id -u)" = 0 ]; then echo "$CHECK_USER"; else id -un; fi), no network)"
    as_user "$home" "$exe" --version || die "--version"
    say "riskmap demo"
    as_user "$home" "$exe" demo --out "$work/示例 项目.gpkg" || die "demo"
    say "riskmap export … --format pdf"
    as_user "$home" "$exe" export "$work/示例 项目.gpkg" --format pdf --out "$work/一张图.pdf" || die "export pdf"
    pdftotext "$work/一张图.pdf" - | grep -q "会宁县安全风险一张图" || die "the PDF does not read back in Chinese"
    pdftotext "$work/一张图.pdf" - | head -n 2
    say "the window (offscreen, first start: opens the demo) grabbed to $work/window.png"
    RISKMAP_EXTRA_ENV=(RISKMAP_SCREENSHOT="$work/window.png")
    as_user "$home" "$exe" || die "the window"
    [ -s "$work/window.png" ] || die "no window grab"
    if command -v xvfb-run >/dev/null 2>&1; then  # a real X display: Qt's xcb platform plugin and its libraries
        say "the window on an X display (Xvfb, xcb) grabbed to $work/window-xcb.png"
        RISKMAP_EXTRA_ENV=(QT_QPA_PLATFORM=xcb RISKMAP_SCREENSHOT="$work/window-xcb.png")
        as_user "$home" xvfb-run -a -s "-screen 0 1400x900x24" "$exe" || die "the window on X (xcb)"
        [ -s "$work/window-xcb.png" ] || die "no window grab on X"
    fi
    RISKMAP_EXTRA_ENV=()
    say "where it wrote"
    (cd "$home" && find . -mindepth 1 -maxdepth 4 | sort)
    [ -f "$home/.config/riskmap/riskmap.ini" ] || die "settings not in ~/.config/riskmap"
    [ -d "$home/.local/share/riskmap/demo" ] || die "demo not in ~/.local/share/riskmap"
    local written; written=$(find "$bundle" -newer "$work/.start" -print -quit)
    [ -z "$written" ] || die "the run wrote into the bundle: $written"
    say "cold process start to first map frame (warm disk; 3 runs)"
    for _ in 1 2 3; do
        local t0 t1
        RISKMAP_EXTRA_ENV=(RISKMAP_FIRST_FRAME=1)
        t0=$(date +%s.%N)
        as_user "$home" "$exe" "$work/示例 项目.gpkg" | grep -q "first frame" || die "first frame"
        t1=$(date +%s.%N)
        echo "first frame: $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
    done
    RISKMAP_EXTRA_ENV=()
}

check_here() {
    local base; base=$(mktemp -d /tmp/riskmap-check.XXXXXX)
    chmod 755 "$base"
    local place="$base/应急 管理"
    mkdir -p "$place"
    say "copy the bundle to \"$place/riskmap\""
    cp -a "$DIST" "$place/riskmap"
    if [ "$(id -u)" = 0 ]; then chmod -R go-w "$place/riskmap"; fi  # read-only to the user, like /opt
    mkdir -p "$base/work"
    check_bundle "$place/riskmap/riskmap" "$base/work" "$place/riskmap"
    mkdir -p build/bundle-check && cp "$base/work/window.png" build/bundle-check/window.png
    if [ -f "$base/work/window-xcb.png" ]; then cp "$base/work/window-xcb.png" build/bundle-check/window-xcb.png; fi
    cp "$base/work/一张图.pdf" build/bundle-check/export.pdf
    rm -rf "$base"
    echo "bundle checks passed; window grab: build/bundle-check/window.png" >&2
}

check_deb() {
    [ "$(id -u)" = 0 ] || die "--deb needs root (debootstrap, chroot)"
    local rootfs=${RISKMAP_DEB_ROOT:-/var/tmp/riskmap-bookworm}
    if [ ! -x "$rootfs/usr/bin/dpkg" ]; then
        command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
        say "debootstrap a minimal Debian 12 into $rootfs"
        debootstrap --variant=minbase bookworm "$rootfs" >/dev/null
    fi
    local fresh_root; fresh_root=$(mktemp -d /var/tmp/riskmap-deb.XXXXXX)
    say "fresh copy of the minimal system: $fresh_root"
    cp -a "$rootfs/." "$fresh_root/"
    mount -t proc proc "$fresh_root/proc"
    mount --bind /dev "$fresh_root/dev"
    trap 'umount "'"$fresh_root"'/dev" "'"$fresh_root"'/proc" 2>/dev/null || true' EXIT
    cp "$DEB" "$fresh_root/tmp/riskmap.deb"
    say "dpkg -i riskmap.deb (nothing else installed)"
    chroot "$fresh_root" dpkg -i /tmp/riskmap.deb || die "dpkg -i failed on a fresh Debian 12"
    chroot "$fresh_root" id "$CHECK_USER" >/dev/null 2>&1 \
        || chroot "$fresh_root" useradd --no-create-home --shell /usr/sbin/nologin "$CHECK_USER"
    mkdir -p "$fresh_root/tmp/check/home"
    chroot "$fresh_root" chown -R "$CHECK_USER:$CHECK_USER" /tmp/check
    local run=(unshare -n chroot --userspec="$CHECK_USER:$CHECK_USER" "$fresh_root" env -i HOME=/tmp/check/home
               PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen)
    say "in the chroot, as $CHECK_USER, no network: riskmap --version, demo, export pdf, window"
    "${run[@]}" riskmap --version || die "deb: --version"
    "${run[@]}" riskmap demo --out "/tmp/check/示例 项目.gpkg" || die "deb: demo"
    "${run[@]}" riskmap export "/tmp/check/示例 项目.gpkg" --format pdf --out /tmp/check/一张图.pdf || die "deb: pdf"
    pdftotext "$fresh_root/tmp/check/一张图.pdf" - | grep -q "会宁县安全风险一张图" || die "deb: PDF not in Chinese"
    "${run[@]}" RISKMAP_SCREENSHOT=/tmp/check/window.png /opt/riskmap/riskmap || die "deb: window"
    mkdir -p build/bundle-check && cp "$fresh_root/tmp/check/window.png" build/bundle-check/window-deb.png
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N)
        "${run[@]}" RISKMAP_FIRST_FRAME=1 riskmap "/tmp/check/示例 项目.gpkg" | grep -q "first frame" \
            || die "deb: first frame"
        t1=$(date +%s.%N)
        echo "deb first frame: $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
    done
    (cd "$fresh_root/tmp/check/home" && find . -mindepth 1 -maxdepth 4 | sort)
    umount "$fresh_root/dev" "$fresh_root/proc"
    trap - EXIT
    rm -rf "$fresh_root"
    echo "the .deb installs and runs on a fresh Debian 12; window grab: build/bundle-check/window-deb.png" >&2
}

if [ "$for_tests" = 1 ]; then
    if ! "$python" -c 'import sysconfig, sys; sys.exit(0 if sysconfig.get_config_var("Py_ENABLE_SHARED") else 1)'; then
        echo "build-bundle: $python has no shared libpython: no bundle, its tests are skipped" >&2
        exit 0
    fi
    if fresh; then echo "build-bundle: $DIST is fresh" >&2; else build; smoke; sizes; fi
    exit 0
fi
if [ "$check" = 1 ] && { fresh || { [ "$reuse" = 1 ] && [ -x "$DIST/riskmap" ]; }; }; then
    say "reusing $DIST ($(if fresh; then echo "newer than every source"; else echo "--reuse: sources changed since"; fi))"
else
    build
    smoke
    sizes
    pack_tar
    pack_deb
fi
# packed from this build (a reused build may be newer than the packages made before)
if [ ! -f "$TARBALL" ] || [ "$DIST/riskmap" -nt "$TARBALL" ]; then pack_tar; fi
if [ ! -f "$DEB" ] || [ "$DIST/riskmap" -nt "$DEB" ]; then pack_deb; fi
if [ "$check" = 1 ]; then
    check_here
    if [ "$deb" = 1 ]; then check_deb; fi
fi
