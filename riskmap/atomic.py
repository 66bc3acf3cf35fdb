"""Files written whole or not at all: a temporary name beside the target, renamed at the end.

Every temporary item riskmap puts beside a target has one recognisable name,
``.<target name>.riskmap-<host>-<pid>-<random>.tmp``, so that leftovers of a killed run (a power cut, a
SIGKILL) can be told apart and removed by the next write to that folder: those of this host whose process is
gone, and any older than a day. A file a running riskmap is writing is never removed. Errors name the
user's file, never the temporary one.

>>> # with atomic_path("一张图.xlsx") as tmp:
>>> #     workbook.save(tmp)
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from riskmap.errors import RiskmapError

STALE_AFTER_S = 24 * 3600  # a temporary item untouched this long is a leftover whatever its process
TAG = "riskmap"
_NAME = re.compile(r"^\..*\.riskmap-(?P<host>[A-Za-z0-9_]*)-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")
# before one naming: mkstemp/mkdtemp(prefix=".<target>.", suffix=".tmp") beside these kinds of output
_LEGACY = re.compile(r"^\.(?P<target>.+\.(?:gpkg|xlsx|pdf|png|svg|geojson|kml|kmz|dxf|zip|html))"
                     r"\.[a-z0-9_]{8}\.tmp$", re.IGNORECASE)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24]


def temp_prefix(out: Path) -> str:
    """The start of a temporary name beside ``out`` (mkstemp/mkdtemp add a random part and ``.tmp``)."""
    return f".{out.name[:60]}.{TAG}-{_host()}-{os.getpid()}-"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of riskmap's temporary names."""
    return _NAME.match(name) is not None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def _last_touched(path: Path) -> float:
    """The newest modification time of ``path`` and, for a folder, of what it holds directly."""
    t = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        with os.scandir(path) as it:
            for e in it:
                with contextlib.suppress(OSError):
                    t = max(t, e.stat(follow_symlinks=False).st_mtime)
    return t


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a leftover of riskmap's own naming that nobody is writing any more."""
    now = time.time() if now is None else now
    m = _NAME.match(path.name)
    if m is not None:
        pid = int(m["pid"])
        if pid == os.getpid():
            return False  # this process may be writing it on another thread
        if m["host"] == _host() and not _pid_alive(pid):
            return True
    elif _LEGACY.match(path.name) is None:
        return False
    try:
        return now - _last_touched(path) > STALE_AFTER_S
    except OSError:
        return False


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove riskmap's leftover temporary items in ``folder``; returns what was removed. Never raises."""
    removed = []
    try:
        with os.scandir(folder) as it:
            names = [e.name for e in it if e.name.startswith(".") and e.name.endswith(".tmp")]
    except OSError:
        return removed
    now = time.time()
    for name in names:
        p = Path(folder) / name
        try:
            if not is_stale(p, now):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


def _folder(out: Path) -> Path:
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise RiskmapError(f"无法在此位置写入，目标文件夹不存在: {folder}",
                           f"cannot write to this location, the output folder does not exist: {folder}")
    return folder


def _user_error(exc: BaseException, tmp: Path, out: Path) -> BaseException | None:
    """The error to show instead of ``exc``: the same words with the user's file in place of the temporary path."""
    if isinstance(exc, RiskmapError):
        if str(tmp) not in exc.zh and str(tmp) not in exc.en:
            return None
        new = RiskmapError(_renamed(exc.zh, tmp, out), _renamed(exc.en, tmp, out), where=exc.where)
        return new
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        other = exc.filename is not None and not str(exc.filename).startswith(str(tmp))
        if other:  # a file read while writing (a template, an image) is the one to name
            return RiskmapError(f"无法生成 {out}：{exc.filename}（{reason}）",
                                f"cannot make {out}: {exc.filename} ({reason})")
        return RiskmapError(f"无法写入文件: {out}（{reason}）", f"cannot write the file: {out} ({reason})")
    return None


def _renamed(text: str, tmp: Path, out: Path) -> str:
    for t in sorted({str(tmp), str(tmp / out.name)}, key=len, reverse=True):
        text = text.replace(t, str(out))
    return text


def _default_mode(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp make private items (0600/0700); an output gets the usual mode of a new one."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)


@contextlib.contextmanager
def atomic_path(out: str | os.PathLike, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success it replaces ``out``, on failure it is removed.

    So a failed or cancelled write never leaves a half-written file under the chosen name. Stale temporary
    items of earlier, killed runs in the folder are removed first. An OSError while writing, and any
    RiskmapError naming the temporary path, come out as a RiskmapError naming ``out``.
    """
    out = Path(out)
    folder = _folder(out)
    if out.is_dir() and not directory:
        raise RiskmapError(f"这是一个文件夹，不能写成文件: {out}", f"a folder, not a file: {out}")
    if directory and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RiskmapError(f"目标已存在且不是空文件夹: {out}", f"output exists and is not an empty folder: {out}")
    clean_stale(folder)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out), suffix=".tmp", dir=folder))
    except OSError as exc:
        raise RiskmapError(f"无法在此位置写入: {folder} ({exc.strerror})",
                           f"cannot write to this location: {folder} ({exc.strerror})") from exc
    target = tmp if directory else tmp / out.name
    try:
        try:
            yield target
            if directory:
                if out.exists():
                    out.rmdir()  # checked empty above
                _default_mode(tmp, True)
                os.replace(tmp, out)
            else:
                os.replace(target, out)
        except (RiskmapError, OSError) as exc:
            better = _user_error(exc, tmp, out)
            if better is None:
                raise
            raise better from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def csv_cell(value) -> object:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) gets an apostrophe (OWASP).

    Numbers stay numbers, so ``-2`` as a number is written as it is; the text ``"-2+3"`` is not.

    >>> csv_cell("=1+1"), csv_cell("-2+3"), csv_cell(-2), csv_cell("甲")
    ("'=1+1", "'-2+3", -2, '甲')
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(path: str | os.PathLike, header: Sequence, rows: Iterable[Sequence]) -> Path:
    """A CSV (UTF-8 with BOM, so that Excel shows Chinese) of text-safe cells, written atomically."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([csv_cell(v) for v in header])
        for row in rows:
            w.writerow([csv_cell(v) for v in row])
    return path
