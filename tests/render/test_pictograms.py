"""Safety signs drawn as vector paths: frame colours by type, pictogram ink inside, no bitmaps, data checked."""

import math

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from riskmap.errors import RiskmapError
from riskmap.render.pictograms import PICTOGRAMS, _PICTO_BOX, draw_sign, load_signs, sign_colours, sorted_codes

from tests.render.conftest import close, rgb

SIDE = 200  # px: one sign unit (1/100 of the sign) = 2 px
BRIEF = ["禁止烟火", "禁止吸烟", "禁止带火种", "禁止用水灭火", "禁止启动", "禁止入内", "注意安全", "当心火灾", "当心爆炸",
         "当心腐蚀", "当心中毒", "当心触电", "当心机械伤人", "当心高温表面", "当心坠落", "必须戴防护眼镜", "必须戴防毒面具",
         "必须戴安全帽", "必须穿防护服", "必须戴防护手套", "紧急出口", "应急避难场所", "急救点", "应急电话"]


def one(code):
    img = QImage(SIDE, SIDE, QImage.Format.Format_RGB32)
    img.fill(QColor("#FFFFFF"))
    p = QPainter(img)
    draw_sign(p, QRectF(0, 0, SIDE, SIDE), code)
    p.end()
    return img


def at(img, x, y):
    """The colour at sign units (x, y) (0…100)."""
    return rgb(img, x * SIDE / 100, y * SIDE / 100)


def hexrgb(h):
    c = QColor(h)
    return c.red(), c.green(), c.blue()


def test_table_has_the_signs_a_chemical_plant_card_needs():
    signs = load_signs()
    assert len(signs) >= 24
    names = {s.zh for s in signs.values()}
    assert set(BRIEF) <= names, set(BRIEF) - names
    assert {s.kind for s in signs.values()} == {"P", "W", "M", "E"}
    assert all(s.pictogram in PICTOGRAMS for s in signs.values())
    assert signs["P002"].zh == "禁止烟火" and signs["W003"].zh == "当心爆炸" and signs["E001"].zh == "紧急出口"


@pytest.mark.parametrize("code", sorted(load_signs()))
def test_frame_colour_and_ink(app, code):
    img = one(code)
    col = sign_colours()
    kind = code[0]
    if kind == "P":
        assert close(at(img, 50, 6), hexrgb(col["red"]), 8)  # the ring at the top
        assert close(at(img, 6, 50), hexrgb(col["red"]), 8)
        d = 35 / math.sqrt(2)  # the bar runs from upper left to lower right, not the other way
        assert close(at(img, 50 + d, 50 + d), hexrgb(col["red"]), 8)
        assert close(at(img, 50 - d, 50 - d), hexrgb(col["red"]), 8)
        assert not close(at(img, 50 + d, 50 - d), hexrgb(col["red"]), 60)
        ink = (0, 0, 0)
    elif kind == "W":
        assert close(at(img, 50, 30), hexrgb(col["yellow"]), 8)
        assert close(at(img, 50, 87), (0, 0, 0), 8)  # the black border along the base
        assert close(at(img, 50, 3), (255, 255, 255), 8)  # outside the triangle's apex: paper
        ink = (0, 0, 0)
    elif kind == "M":
        assert close(at(img, 50, 5), hexrgb(col["blue"]), 8)
        assert close(at(img, 8, 50), hexrgb(col["blue"]), 8)
        assert close(at(img, 2, 2), (255, 255, 255), 8)  # a disc: the corner is paper
        ink = (255, 255, 255)
    else:
        assert close(at(img, 8, 8), hexrgb(col["green"]), 8)
        assert close(at(img, 92, 92), hexrgb(col["green"]), 8)
        ink = (255, 255, 255)
    box = _PICTO_BOX[kind]
    n_ink = n = 0
    for yy in range(int(box.top()), int(box.bottom()), 2):
        for xx in range(int(box.left()), int(box.right()), 2):
            n += 1
            n_ink += close(at(img, xx, yy), ink, 40)
    assert n_ink / n > 0.06, f"{code}: pictogram ink {n_ink}/{n}"
    assert n_ink / n < 0.9


def test_pictograms_are_told_apart(app):
    """Different pictograms draw different shapes (a sign is not a blank frame with a random blob)."""
    signs = load_signs()
    seen = {}
    for code, s in signs.items():
        if s.kind != "W" or s.pictogram in seen:
            continue
        img = one(code)
        seen[s.pictogram] = bytes(img.constBits())
    blobs = list(seen.values())
    assert len(blobs) == len(set(blobs))


def test_signs_are_vector_in_svg(app, tmp_path):
    """No bitmap: an SVG of the sheet holds paths, no <image>."""
    from PySide6.QtSvg import QSvgGenerator

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QImage(10, 10, QImage.Format.Format_RGB32).size() * 60)
    p = QPainter(gen)
    for i, code in enumerate(load_signs()):
        draw_sign(p, QRectF((i % 8) * 70, (i // 8) * 70, 64, 64), code)
    p.end()
    svg = bytes(QByteArray(buf.data())).decode("utf-8")
    assert "<image" not in svg
    assert svg.count("<path") > 100


def test_unknown_code_draws_the_code_as_text(app):
    img = one("X999<script>")
    assert close(at(img, 10, 10), (0xF2, 0xF2, 0xF2), 4)  # the grey placeholder


def test_sorted_codes_card_order():
    assert sorted_codes(["E001", "M004", "P002", "W002", "W001", "P002", "ZZZ", " "]) == \
        ["W001", "W002", "P002", "M004", "E001", "ZZZ"]


def test_bad_table_refused(tmp_path):
    bad = tmp_path / "signs.toml"
    bad.write_text('[colours]\nred="#f00"\nyellow="#ff0"\nblue="#00f"\ngreen="#0f0"\nblack="#000"\nwhite="#fff"\n'
                   '[[sign]]\ncode="W001"\nzh="x"\nen="x"\npictogram="unicorn"\n', encoding="utf-8")
    with pytest.raises(RiskmapError, match="unicorn"):
        load_signs(bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace('code="W001"', 'code="Q001"').replace("unicorn", "flame"),
                   encoding="utf-8")
    with pytest.raises(RiskmapError, match="P, W, M or E"):
        load_signs(bad)
