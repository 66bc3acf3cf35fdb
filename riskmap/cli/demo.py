"""``riskmap demo``: create a demo project for one of the five seed places."""

from __future__ import annotations

from riskmap.cli.progress import ProgressBar


def register(sub) -> None:
    p = sub.add_parser("demo", help="生成示例项目 / create a demo project",
                       description="用真实县界和虚构数据生成示例项目（示例数据） / "
                                   "create a demo project: a real county boundary with fictitious data")
    p.add_argument("--place", default="会宁县",
                   help="地点 / place: 会宁县 | 嘉善县 | 历城区 | 商河县 | 叶集区 (default 会宁县)")
    p.add_argument("--out", required=True, help="输出的项目文件 .gpkg / output project file")
    p.add_argument("--seed", type=int, default=1, help="随机种子 / random seed (default 1)")
    p.add_argument("--overwrite", action="store_true", help="覆盖已有文件 / replace an existing file")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.demo import make_demo

    bar = ProgressBar("示例项目 / demo")
    project = make_demo(args.out, place=args.place, seed=args.seed, progress=bar, overwrite=args.overwrite)
    bar.done()
    counts = project.counts()
    print(f"{project.name}: {args.out}")
    print(f"  企业 enterprises {counts['enterprises']}, 分区 zones {counts['zones']}, "
          f"防护目标 targets {counts['protected_targets']}, 生命线 lifelines {counts['lifelines']}")
    project.close()
    return 0
