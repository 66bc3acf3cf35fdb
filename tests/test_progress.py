"""riskmap.progress: one Cancelled for all long work, its messages, Steps and scaled progress."""

import pathlib

import pytest

import riskmap
from riskmap.errors import RiskmapError
from riskmap.progress import (
    CANCELLED, EXPORT_CANCELLED, IMPORT_CANCELLED, SYNC_CANCELLED, Cancelled, Steps, check_cancel, scaled,
)


def test_cancelled_is_a_user_error_with_its_message():
    exc = Cancelled(SYNC_CANCELLED)
    assert isinstance(exc, RiskmapError)
    assert (exc.zh, exc.en) == ("已取消，目标未改变", "cancelled; the target is unchanged")
    assert (Cancelled().zh, Cancelled().en) == CANCELLED
    assert EXPORT_CANCELLED[0] == "导出已取消，未写入文件" and IMPORT_CANCELLED[0] == "导入已取消，项目未改动"


def test_check_cancel_raises_only_when_asked():
    check_cancel(None)
    check_cancel(lambda: False)
    with pytest.raises(Cancelled, match="导入已取消"):
        check_cancel(lambda: True, IMPORT_CANCELLED)


def test_steps_scale_into_their_range_and_check_cancel():
    seen = []
    steps = Steps(lambda f, m: seen.append((round(f, 3), m)), None, total=4, start=0.2, stop=0.6)
    steps.step("a")
    steps.step("b")
    steps.sub(0.5, 1.0).report(0.5, "c")
    steps.report(7.0, "clamped")
    assert seen == [(0.3, "a"), (0.4, "b"), (0.5, "c"), (0.6, "clamped")]
    stop = []
    cancelling = Steps(None, lambda: bool(stop), 2, message=EXPORT_CANCELLED)
    cancelling.step()
    stop.append(True)
    with pytest.raises(Cancelled, match="导出已取消"):
        cancelling.sub(0.0, 0.5).step()  # a sub-range keeps the cancel and its message


def test_scaled_maps_and_tolerates_none():
    seen = []
    p = scaled(lambda f, m: seen.append((round(f, 3), m)), 0.6, 1.0)
    p(0.5, "x")
    p(-1.0, "y")
    assert seen == [(0.8, "x"), (0.6, "y")]
    scaled(None, 0.0, 1.0)(0.5, "nothing")


def test_one_cancelled_class_in_the_package():
    root = pathlib.Path(riskmap.__file__).parent
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if "class Cancelled" in p.read_text(encoding="utf-8")
             or "Cancelled(RiskmapError)" in p.read_text(encoding="utf-8")]
    assert found == ["progress.py"]
