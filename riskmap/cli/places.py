"""``riskmap places``: find a county, city or province and its adcode."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("places", help="查找地名和行政区划代码 / find places and their adcodes",
                       description="按名称、名称的一部分或行政区划代码查找全国的省、地级市、县（区） / "
                                   "search China's provinces, cities and counties by name, part of a name or adcode; "
                                   "without SEARCH, lists the provinces")
    p.add_argument("search", nargs="?", default="", help="地名、地名的一部分或代码 / name, part of it or adcode")
    p.add_argument("--children", action="store_true", help="列出其下级区划 / list the divisions under the one found")
    p.add_argument("--limit", type=int, default=50, help="最多列出几条 / at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from dataclasses import asdict

    from riskmap.cli.new import print_candidates
    from riskmap.gazetteer import children, find, search

    if not args.search:
        found = children(None)
    elif args.children:
        found = children(find(args.search).adcode)
    else:
        found = search(args.search, limit=max(1, args.limit))
    if args.json:
        print(json.dumps([{k: v for k, v in asdict(d).items() if k != "bbox"} for d in found],
                         ensure_ascii=False, indent=2))
        return 0
    if not found:
        print(f"没有找到 / nothing matches: {args.search}")
        return 1
    print_candidates(found, err=False)
    return 0
