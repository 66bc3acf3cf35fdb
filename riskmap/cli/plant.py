"""``riskmap plant``: an enterprise's plant — its georeferenced plan, 风险告知卡, plant print and package."""

from __future__ import annotations

import json
import math
from pathlib import Path

from riskmap.errors import RiskmapError

DEFAULT_MAX_RMS_M = 5.0


def register(sub) -> None:
    p = sub.add_parser(
        "plant", help="企业厂区：平面图配准、风险告知卡、厂区四色图、厂区风险包 / an enterprise's plant",
        description="列出有厂区数据的企业（--list）；或对一家企业（--enterprise）：配准厂区平面图（--plan 图片或 PDF，"
                    "--gcp 像素列,像素行,经度,纬度，至少 2 个；2 个点为相似变换，3 个以上为仿射变换，打印每点残差和 RMS；"
                    "RMS 大于 --max-rms（默认 5 米）时拒绝，除非加 --force）、导出风险告知卡（--export-cards）、"
                    "打印厂区安全风险四色分布图（--print）或导出厂区风险包（--pack，交给应急管理局用 riskmap import "
                    "--layer plant 导入） / list the enterprises with plant data (--list); or for one enterprise "
                    "(--enterprise): georeference its plant plan (--plan IMAGE or PDF, --gcp COL,ROW,LON,LAT at least "
                    "twice; 2 points: similarity, 3 or more: affine; prints each residual and the RMS; refused when "
                    "the RMS exceeds --max-rms, 5 m by default, unless --force), write its risk notice cards "
                    "(--export-cards), print its four-colour plant map (--print), or write its plant package (--pack, "
                    "which the bureau imports with riskmap import --layer plant)")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--list", action="store_true", help="列出有厂区数据的企业 / list the enterprises with plant data")
    p.add_argument("--enterprise", metavar="ID|信用代码|名称",
                   help="企业：编号、统一社会信用代码或名称 / the enterprise: id, credit code or name")
    p.add_argument("--plan", metavar="IMG", help="厂区平面图：PNG、JPEG、TIFF、BMP 或 PDF / the plan: image or PDF")
    p.add_argument("--page", type=int, metavar="N", help="PDF 的页码（从 1 起） / PDF page (from 1)")
    p.add_argument("--gcp", action="append", default=[], metavar="COL,ROW,LON,LAT",
                   help="控制点：图上像素列,行 与 经度,纬度（CGCS2000），可重复 / a control point: pixel column, row "
                        "and longitude, latitude (CGCS2000); repeat it")
    p.add_argument("--max-rms", type=float, default=DEFAULT_MAX_RMS_M, metavar="M",
                   help=f"允许的最大 RMS 残差（米，默认 {DEFAULT_MAX_RMS_M:g}） / largest RMS residual accepted "
                        f"(metres, default {DEFAULT_MAX_RMS_M:g})")
    p.add_argument("--force", action="store_true", help="RMS 超限仍保存 / keep the plan even above --max-rms")
    p.add_argument("--export-cards", metavar="PDF", help="风险告知卡 PDF（每个风险点一张） / risk notice cards PDF")
    p.add_argument("--board", action="store_true",
                   help="与 --export-cards 一起：改为输出整个厂区的安全风险公告栏（A3|A2|A1，默认 A3） / with "
                        "--export-cards: write the plant's notice board poster instead (A3|A2|A1, default A3)")
    p.add_argument("--print", dest="print_pdf", metavar="PDF",
                   help="厂区安全风险四色分布图 PDF / the plant's four-colour map as PDF")
    p.add_argument("--paper", help="纸张：告知卡 A4|A5（默认 A4），公告栏 A3|A2|A1（默认 A3），厂区图 A3|A4（默认 A3） / "
                                   "paper: cards A4|A5, notice board A3|A2|A1, plant map A3|A4")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="告知卡、公告栏和厂区图的语言（默认中文） / language of the cards, board and plant map (default zh)")
    p.add_argument("--pack", metavar="OUT.gpkg", help="导出厂区风险包 / write the plant package")
    p.add_argument("--bureau-phone", metavar="TEL",
                   help="设置告知卡上应急管理局的电话（保存在项目中） / set the bureau's phone printed on the cards "
                        "(kept in the project)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


# ---------------------------------------------------------------- arguments

def parse_gcp(text: str, n: int) -> tuple[float, float, float, float]:
    """``COL,ROW,LON,LAT`` → four numbers, checked (longitude −180…180, latitude −90…90, pixels ≥ 0).

    >>> parse_gcp("120.5, 88,105.1,35.9", 1)
    (120.5, 88.0, 105.1, 35.9)
    """
    where = f"--gcp {n}"
    parts = [s.strip() for s in str(text).replace("，", ",").split(",")]
    if len(parts) != 4:
        raise RiskmapError(f"控制点应写成 列,行,经度,纬度（4 个数），收到 {text!r}",
                           f"a control point is COL,ROW,LON,LAT (4 numbers), got {text!r}", where=where)
    try:
        col, row, lon, lat = (float(s) for s in parts)
    except ValueError:
        raise RiskmapError(f"控制点应为 4 个数，收到 {text!r}", f"a control point is 4 numbers, got {text!r}",
                           where=where) from None
    if not all(math.isfinite(v) for v in (col, row, lon, lat)):
        raise RiskmapError(f"控制点不是有限数: {text!r}", f"control point not finite: {text!r}", where=where)
    if col < 0 or row < 0:
        raise RiskmapError(f"像素列、行不能为负: {text!r}", f"pixel column and row cannot be negative: {text!r}", where=where)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RiskmapError(f"经纬度超出范围（经度 −180…180，纬度 −90…90）: {text!r}",
                           f"longitude/latitude out of range: {text!r}", where=where)
    return col, row, lon, lat


def find_enterprise(project, text: str) -> tuple[int, str]:
    """(id, name) of the enterprise ``text`` names: its id, its 统一社会信用代码 or its name (exactly one)."""
    from riskmap.io.matching import name_key, normalise_credit_code

    ents = project.read_table("enterprises", columns=["id", "name", "credit_code"])
    ids = [int(i) for i in ents["id"]]
    names = list(ents["name"])
    text = str(text).strip()
    if text.isdigit() and len(text) <= 12 and int(text) in ids:
        i = ids.index(int(text))
        return ids[i], names[i]
    code = normalise_credit_code(text)
    by_code = [k for k, c in enumerate(ents["credit_code"]) if code and normalise_credit_code(c) == code]
    if len(by_code) == 1:
        return ids[by_code[0]], names[by_code[0]]
    key = name_key(text)
    by_name = [k for k, n in enumerate(names) if key and name_key(n) == key] or by_code
    if len(by_name) == 1:
        return ids[by_name[0]], names[by_name[0]]
    if len(by_name) > 1:
        listed = "，".join(f"{ids[k]} {names[k]}" for k in by_name[:5])
        raise RiskmapError(f"有 {len(by_name)} 家企业符合“{text}”（{listed}），请用编号", f"{len(by_name)} enterprises match "
                           f"{text!r} ({listed}): give the id", where="--enterprise")
    raise RiskmapError(f"项目中没有编号、统一社会信用代码或名称为“{text}”的企业",
                       f"no enterprise with id, credit code or name {text!r}", where="--enterprise")


# ---------------------------------------------------------------- actions

def _list(project, as_json: bool) -> int:
    from riskmap.levels import level_info
    from riskmap.plant import plants

    df = plants(project)
    rows = []
    for r in df.to_dict("records"):
        level = r.get("level")
        level = None if level is None or level != level else int(level)
        rows.append({"id": int(r["id"]), "name": r["name"], "credit_code": r.get("credit_code") or None,
                     "level": level, "has_plan": bool(r.get("has_plan")), "n_points": int(r.get("n_points") or 0),
                     "n_areas": int(r.get("n_areas") or 0)})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"有厂区数据的企业 Enterprises with plant data: {len(rows)}")
    for r in rows:
        lv = "未评估" if r["level"] is None else level_info(r["level"]).name_zh
        print(f"  {r['id']:>6}  {r['name']}  {r['credit_code'] or '-'}  {lv}  平面图 plan: "
              f"{'有 yes' if r['has_plan'] else '无 no'}  风险点 points: {r['n_points']}（区域 areas {r['n_areas']}）")
    return 0


def _preview_rms(project, gcps) -> float:
    """The RMS of the fit the control points give, before anything is written (the same fit riskmap.plant makes,
    in the project's metric CRS; residuals in metres do not depend on the image's pixel scale)."""
    import numpy as np

    from riskmap import georef
    from riskmap.crs import gk_zone_epsg, transformer

    arr = np.asarray(gcps, dtype=float)
    epsg = project.metric_epsg or gk_zone_epsg(float(arr[:, 2].mean()))
    x, y = transformer(4490, epsg).transform(arr[:, 2], arr[:, 3])
    return georef.fit(arr[:, :2], np.column_stack([x, y])).rms_m


def _plan(project, eid: int, name: str, args) -> dict:
    from riskmap.plant import set_plan

    if not args.gcp:
        raise RiskmapError("配准平面图需要控制点：--gcp 列,行,经度,纬度（至少 2 个）",
                           "a plan needs control points: --gcp COL,ROW,LON,LAT (at least 2)", where="--gcp")
    gcps = [parse_gcp(g, k + 1) for k, g in enumerate(args.gcp)]
    if len(gcps) < 2:
        raise RiskmapError(f"至少需要 2 个控制点（现有 {len(gcps)} 个）",
                           f"at least 2 control points are needed ({len(gcps)} given)", where="--gcp")
    if args.page is not None and args.page < 1:
        raise RiskmapError(f"页码从 1 起，收到 {args.page}", f"pages count from 1, got {args.page}", where="--page")
    if not Path(args.plan).is_file():
        raise RiskmapError(f"文件不存在: {args.plan}", f"file not found: {args.plan}", where="--plan")
    rms = _preview_rms(project, gcps)
    if rms > args.max_rms and not args.force:
        raise RiskmapError(f"控制点残差 RMS {rms:.2f} 米，超过 {args.max_rms:g} 米：请检查控制点（或加 --force 仍保存）",
                           f"control point RMS {rms:.2f} m exceeds {args.max_rms:g} m: check the points (or add --force)",
                           where="--gcp")
    result = set_plan(project, eid, args.plan, gcps, page=args.page, source_name=Path(args.plan).name)
    fit = result.fit
    return {"enterprise_id": eid, "enterprise": name, "plan_id": int(result.plan_id), "width": int(result.width),
            "height": int(result.height), "method": fit.method, "transform": [float(v) for v in fit.transform],
            "gcps": [{"col": g[0], "row": g[1], "lon": g[2], "lat": g[3], "residual_m": float(r)}
                     for g, r in zip(gcps, fit.residuals_m)],
            "rms_m": float(fit.rms_m), "max_residual_m": float(fit.max_m)}


def _print_plan(d: dict) -> None:
    method = {"similarity": "相似变换 similarity", "affine": "仿射变换 affine"}.get(d["method"], d["method"])
    print(f"平面图已配准 Plan georeferenced: {d['enterprise']}（id {d['enterprise_id']}），{d['width']}×{d['height']} 像素 px，"
          f"{method}")
    for k, g in enumerate(d["gcps"], 1):
        print(f"  控制点 {k}: 列 col {g['col']:g} 行 row {g['row']:g} → {g['lon']:.6f}, {g['lat']:.6f}  "
              f"残差 residual {g['residual_m']:.2f} m")
    print(f"  RMS {d['rms_m']:.2f} m，最大 max {d['max_residual_m']:.2f} m")


def run(args) -> int:
    from riskmap.store import Project

    actions = [a for a in ("plan", "export_cards", "print_pdf", "pack") if getattr(args, a)]
    if args.list and (actions or args.enterprise):
        raise RiskmapError("--list 不能与 --enterprise 一起使用", "--list goes without --enterprise", where="--list")
    if not args.list and not args.enterprise and not args.bureau_phone:
        raise RiskmapError("请给出 --list 或 --enterprise", "give --list or --enterprise", where="plant")
    if args.enterprise and len(actions) != 1:
        raise RiskmapError("--enterprise 需要且只需要一个操作：--plan、--export-cards、--print 或 --pack",
                           "--enterprise takes exactly one of --plan, --export-cards, --print, --pack",
                           where="--enterprise")
    if actions and not args.enterprise:
        raise RiskmapError("请用 --enterprise 指定企业", "name the enterprise with --enterprise", where="--enterprise")
    if args.page is not None and not args.plan:
        raise RiskmapError("--page 只用于 --plan", "--page goes with --plan", where="--page")
    if args.board and not args.export_cards:
        raise RiskmapError("--board 只用于 --export-cards", "--board goes with --export-cards", where="--board")
    if args.gcp and not args.plan:
        raise RiskmapError("--gcp 只用于 --plan", "--gcp goes with --plan", where="--gcp")
    readonly = args.list or bool(args.export_cards or args.print_pdf or args.pack)
    readonly = readonly and not args.bureau_phone
    with Project.open(args.project, readonly=readonly) as project:
        if args.bureau_phone:
            phone = args.bureau_phone.strip()
            if not phone or len(phone) > 40:
                raise RiskmapError("电话应为 1–40 个字符", "a phone is 1-40 characters", where="--bureau-phone")
            project.set_meta(bureau_phone=phone)
            if not args.json:
                print(f"应急管理局电话已设置 / bureau phone set: {phone}")
        if args.list:
            return _list(project, args.json)
        if not args.enterprise:
            if args.json:
                print(json.dumps({"bureau_phone": project.meta().get("bureau_phone")}, ensure_ascii=False))
            return 0
        eid, name = find_enterprise(project, args.enterprise)
        if args.plan:
            out = _plan(project, eid, name, args)
            if args.json:
                print(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                _print_plan(out)
            return 0
        if args.export_cards:
            allowed = ("A3", "A2", "A1") if args.board else ("A4", "A5")
            paper = (args.paper or allowed[0]).upper()
            if paper not in allowed:
                what_zh, what_en = ("公告栏", "the notice board") if args.board else ("告知卡", "cards")
                raise RiskmapError(f"{what_zh}纸张应为 {' 或 '.join(allowed)}，收到 {args.paper}",
                                   f"{what_en} paper is {' or '.join(allowed)}, got {args.paper}", where="--paper")
            from riskmap.printing.cards import export_cards

            path = export_cards(project, eid, args.export_cards, paper=paper, board=args.board, lang=args.lang)
            out = {"enterprise_id": eid, "enterprise": name, "pdf": str(path), "paper": paper, "board": args.board}
            msg = (f"安全风险公告栏已写入 / notice board written: {path}" if args.board
                   else f"风险告知卡已写入 / cards written: {path}")
        elif args.print_pdf:
            paper = (args.paper or "A3").upper()
            if paper not in ("A3", "A4"):
                raise RiskmapError(f"厂区图纸张应为 A3 或 A4，收到 {args.paper}", f"plant map paper is A3 or A4, got {args.paper}",
                                   where="--paper")
            from riskmap.printing.plant_print import print_plant

            path = print_plant(project, eid, args.print_pdf, paper=paper, lang=args.lang)
            out = {"enterprise_id": eid, "enterprise": name, "pdf": str(path or args.print_pdf), "paper": paper}
            msg = f"厂区四色分布图已写入 / plant map written: {out['pdf']}"
        else:
            from riskmap.io.plant_package import export_package

            info = export_package(project, eid, args.pack)
            out = info.to_dict()
            msg = (f"厂区风险包已写入 / plant package written: {info.path}（风险点 points {info.points}，评估记录 "
                   f"assessments {info.assessments}，平面图 plan {'有 yes' if info.has_plan else '无 no'}，隐患 dangers "
                   f"{info.dangers}，{info.size_bytes / 1024:.0f} KB）" + ("  [示例数据 demo data]" if info.demo else ""))
            if not info.credit_code:
                msg += ("\n注意：企业没有统一社会信用代码，应急管理局导入时无法对应，请先填写 / note: the enterprise has no "
                        "credit code, by which the bureau's import finds it: fill it in first")
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(msg)
    return 0
