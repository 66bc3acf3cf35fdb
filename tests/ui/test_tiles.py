"""Online base maps against a tile server started by the test on localhost; offline behaviour."""

from __future__ import annotations

import http.server
import socket
import threading

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage

from tests.ui.conftest import close_to, pixel, wait_render
from tests.ui.conftest import SHOTS

TILE_COLOURS = ("#C8E6C9", "#D1C4E9")  # chequerboard: (x + y) even / odd


def tile_png(colour: str) -> bytes:
    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor(colour))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data.data())


class TileServer:
    """http.server in a thread: /z/x/y.png → a plain PNG coloured by (x + y) parity."""

    def __init__(self, app):
        pngs = [tile_png(c) for c in TILE_COLOURS]
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                try:
                    z, x, y = (int(v) for v in self.path.strip("/").removesuffix(".png").split("/"))
                except ValueError:
                    self.send_error(404)
                    return
                body = pngs[(x + y) % 2]
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tile_server(app):
    s = TileServer(app)
    yield s
    s.stop()


def _expected_colour(canvas, px, py, z):
    from riskmap.ui.tiles import ORIGIN, ViewGeometry, tile_span

    x, y = canvas.map_point(px, py)
    mx, my = ViewGeometry(canvas.workspace.map_epsg).map_to_merc(x, y)
    span = tile_span(z)
    tx, ty = int((float(mx) + ORIGIN) // span), int((ORIGIN - float(my)) // span)
    return TILE_COLOURS[(tx + ty) % 2], (tx, ty)


def test_tiles_drawn_under_the_map_and_cached_on_disk(window, qtbot, tile_server):
    from riskmap.ui.tiles import TileLayer, TileSource, TileStore, tiles_for_view

    canvas, store = window.canvas, window.tile_store
    layer = TileLayer(TileSource("测试底图", tile_server.url))
    window.layers_panel.set_tile_layers([layer])
    canvas.set_tile_layers([layer])
    z, tiles = tiles_for_view(canvas.view, canvas._view_geometry(), layer.source)
    qtbot.waitUntil(lambda: store.fetched >= len(tiles) and not store.busy(), timeout=20000)
    canvas._compose_tiles()
    wait_render(qtbot, canvas)
    img = canvas.to_image()
    img.save(f"{SHOTS}/ui_tiles.png")
    # a pixel outside the county (no vector feature) shows the tile under it
    for px, py in ((30, 120), (canvas.width() - 30, canvas.height() - 120)):
        want, _ = _expected_colour(canvas, px, py, z)
        assert close_to(pixel(img, px, py), want, 3), (pixel(img, px, py), want)
    # the county is still drawn over the tiles
    assert store.fetched == len(tiles) and len(tile_server.requests) == len(tiles)
    cached = list((store.cache_dir / layer.source.key).rglob("*.tile"))
    assert len(cached) == len(tiles)
    # a second store on the same cache folder needs no network
    tile_server.stop()
    store2 = TileStore(store.cache_dir)
    x, y = tiles[0]
    img2 = store2.image(layer.source, z, x, y, fetch=False)
    assert img2 is not None and store2.from_disk == 1
    assert close_to(pixel(img2, 128, 128), TILE_COLOURS[(x + y) % 2], 2)
    # the layers panel lists the tile layer under 底图; unticking it removes the tiles
    item = window.layers_panel.item_for(layer.id)
    assert item.parent().text(0) == "底图"
    item.setCheckState(0, Qt.CheckState.Unchecked)
    wait_render(qtbot, canvas)
    assert close_to(pixel(canvas.to_image(), 30, 120), "#FFFFFF", 2)


def test_no_network_says_so_once_and_the_map_still_works(window, qtbot):
    from riskmap.ui.tiles import TileLayer, TileSource

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connection refused
    canvas = window.canvas
    layer = TileLayer(TileSource("离线底图", f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"))
    messages = []
    canvas.tilesUnavailable.connect(messages.append)
    canvas.set_tile_layers([layer])
    qtbot.waitUntil(lambda: len(messages) == 1 and not window.tile_store.busy(), timeout=20000)
    renders = canvas.render_count
    canvas.pan_by(200, 0)
    canvas.zoom_by(1.5)
    wait_render(qtbot, canvas)
    qtbot.waitUntil(lambda: not window.tile_store.busy(), timeout=20000)
    qtbot.wait(200)
    assert len(messages) == 1
    assert "离线底图" in messages[0] and "不可用" in messages[0]
    assert window.message_bar.isVisible() and window.message_bar.messages == messages
    assert canvas.render_count > renders and canvas.has_current_image()


def test_tile_urls_and_tianditu():
    from riskmap.errors import RiskmapError
    from riskmap.ui.tiles import TileSource, lonlat_to_merc, merc_to_lonlat, tianditu_sources, zoom_for

    src = TileSource("x", "https://t{s}.example.cn/{z}/{x}/{-y}.png", subdomains="01")
    assert src.tile_url(3, 5, 1) == "https://t0.example.cn/3/5/6.png"  # TMS row: 2³ − 1 − 1
    vec, note = tianditu_sources("abc123")
    url = vec.tile_url(12, 3245, 1620)
    assert "TILEMATRIX=12" in url and "TILEROW=1620" in url and "TILECOL=3245" in url and "tk=abc123" in url
    assert url.startswith("https://t") and "vec_w" in url and "cva_w" in note.url
    with pytest.raises(RiskmapError):
        tianditu_sources("  ")
    with pytest.raises(RiskmapError):
        TileSource("bad", "ftp://example.cn/{z}/{x}/{y}")
    # Web Mercator round trip and zoom choice: 156543 m/px at zoom 0, halved per level
    x, y = lonlat_to_merc(105.0, 35.5)
    lon, lat = merc_to_lonlat(x, y)
    assert float(lon) == pytest.approx(105.0) and float(lat) == pytest.approx(35.5)
    assert zoom_for(156543.03 / 2 ** 10, src) == 10
    assert np.isclose(float(x), 105.0 / 180 * 20037508.342789244)
