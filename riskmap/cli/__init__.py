"""The ``riskmap`` command: every user-facing operation as a subcommand (help in Chinese and English).

Each subcommand lives in its own module ``riskmap/cli/<name>.py`` with ``register(subparsers)``;
``riskmap`` alone, or with a project file, opens the desktop application.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from riskmap import __version__
from riskmap.errors import RiskmapError
from riskmap.memory import limit_arenas

COMMANDS = ["demo", "info", "db", "controlline", "contours", "check", "nearby", "grade", "zone", "stats", "changes", "report", "danger", "indicator", "importcmd", "export", "grid", "towns", "locate", "new", "places", "plant"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        print(f"riskmap: 参数错误 / usage error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _version_text() -> str:
    from riskmap.about import build_info

    info = build_info()  # the bundle's build date and commit; None when run from source
    if not info:
        return f"riskmap {__version__}"
    return f"riskmap {__version__} (bundle {info.get('date', '?')} {info.get('commit', '')})".replace(" )", ")")


class _Licences(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        from riskmap.about import licence_table

        print(licence_table())
        print("全文见 帮助 → 关于 / full texts: Help → About")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="riskmap",
        description="安全风险四色图“一张图” / county safety-risk four-colour map. "
                    "不带子命令时打开桌面程序 / without a subcommand, opens the desktop application.",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    parser.add_argument("--licences", nargs=0, action=_Licences,
                        help="列出所含软件、字体和数据及其许可证 / list the bundled components and their licences")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"riskmap.cli.{name}").register(sub)
    return parser


def _open_app(argv: list[str]) -> int:
    from riskmap.ui.app import run_app  # Qt only when the window is wanted

    return run_app(argv)


def main(argv: list[str] | None = None) -> int:
    limit_arenas()  # (riskmap.memory) before any thread starts
    argv = list(sys.argv[1:] if argv is None else argv)
    known = set(COMMANDS) | {n.removesuffix("cmd") for n in COMMANDS}  # importcmd registers "import"
    if not argv or (argv[0] not in known and not argv[0].startswith("-")):
        try:
            return _open_app(argv)
        except RiskmapError as exc:
            print(f"riskmap: {exc.message()}", file=sys.stderr)
            return 2
    if argv == ["--version"]:  # at once, without importing every command (a bundle's smoke test runs it)
        print(_version_text())
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RiskmapError as exc:
        print(f"riskmap: {exc.message()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("riskmap: 已取消 / cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
