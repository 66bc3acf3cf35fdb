"""Field labels and values in words, for the screen and for exports: column titles (catalogue fields and the
derived ``*_name`` columns), stored codes (level 1–4, industry codes, zone kinds, hidden-danger status …) in
Chinese or English, vectorised per column.

>>> from riskmap.layers import load_catalogue
>>> display_column(load_catalogue()["enterprises"], "level", pd.Series([1, None])).tolist()
['重大风险', '']
>>> field_title(load_catalogue()["enterprises"], "level_name", "en")
'Risk level'
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.industries import load_industries
from riskmap.layers import LayerDef, _category_key
from riskmap.levels import level_info

# code → (zh, en) for fields whose stored values are codes
VOCAB: dict[str, dict[str, tuple[str, str]]] = {
    "kind@zones": {
        "county": ("县（区）", "County"), "town": ("镇/街道", "Town"), "village": ("村/社区", "Village"),
        "grid": ("网格", "Grid"), "chemical_park": ("化工园区", "Chemical park"),
        "industrial_park": ("工业园区", "Industrial park"), "functional": ("功能区", "Functional area"),
        "custom": ("自定义区域", "Custom area"), "city": ("地级市", "City"), "province": ("省", "Province"),
    },
    "level_rule@zones": {"max": ("就高", "Highest level"), "weighted": ("加权密度", "Weighted density")},
    "status@hidden_dangers": {
        "registered": ("登记", "Registered"), "rectifying": ("整改中", "Rectifying"),
        "supervised": ("挂牌督办", "Supervised"), "rectified": ("整改完成", "Rectified"), "closed": ("销号", "Closed"),
    },
    "grade@hidden_dangers": {"general": ("一般隐患", "General"), "major": ("重大隐患", "Major")},
    "status@control_lines": {"draft": ("草稿", "Draft"), "approved": ("已批准", "Approved")},
    "installation_status@risk_contours": {"new": ("新建装置", "New"), "in_service": ("在役装置", "In service")},
    "gb36894_class@protected_targets": {
        "high_sensitive": ("高敏感防护目标", "Highly sensitive"), "important": ("重要防护目标", "Important"),
        "general_1": ("一般防护目标（一类）", "General, class 1"),
        "general_2": ("一般防护目标（二类）", "General, class 2"),
        "general_3": ("一般防护目标（三类）", "General, class 3"),
    },
    "kind@risk_points": {"risk_point": ("风险点", "Risk point"), "hazard_source": ("危险源", "Hazard source")},
    "category@risk_points": {"area": ("区域", "Area"), "device": ("装置", "Device"), "facility": ("设施", "Facility"),
                             "place": ("场所", "Place"), "post": ("岗位", "Post")},
    "method@plant_plans": {"similarity": ("相似变换（两点）", "Similarity (2 points)"),
                           "affine": ("仿射变换（三点及以上）", "Affine (3 or more points)")},
    "method@assessments": {
        "lec": ("LEC 作业条件危险性分析", "LEC"), "ls": ("LS 风险矩阵", "LS matrix"),
        "gb18218": ("GB 18218 重大危险源辨识", "GB 18218"), "park": ("化工园区评分", "Park score"),
        "manual": ("人工定级", "Manual"), "max": ("就高", "Highest of points"), "override": ("评估人覆盖", "Override"),
    },
}
LIST_KINDS = {  # the 5个清单
    "basic": ("基础信息清单", "Basic information"), "responsibility": ("防控责任清单", "Responsibilities"),
    "monitoring": ("监测监控清单", "Monitoring"), "measures": ("防范措施清单", "Preventive measures"),
    "emergency": ("应急处置清单", "Emergency response"),
}
BOOL_WORDS = {"zh": ("是", "否"), "en": ("Yes", "No")}


def vocab_for(table: str, field: str) -> dict[str, tuple[str, str]] | None:
    return VOCAB.get(f"{field}@{table}")


def word(table: str, field: str, code, lang: str = "zh") -> str:
    """One code in words (the code itself when unknown)."""
    voc = vocab_for(table, field)
    if voc and code in voc:
        return voc[code][1 if lang == "en" else 0]
    return "" if code is None else str(code)


def level_title(n: int, lang: str = "zh") -> str:
    """A level's name as a label: 重大风险, or in English "Major risk" (the standard's name_en, capitalised)."""
    info = level_info(n)
    return info.name_en[:1].upper() + info.name_en[1:] if lang == "en" else info.name_zh


def _level_names(lang: str) -> dict:
    return {n: level_title(n, lang) for n in (1, 2, 3, 4)}


def format_value(value, lang: str = "zh") -> str:
    """One raw value as text: '' for missing, 是/否 for booleans, no '.0' on whole floats."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return BOOL_WORDS[lang][0 if value else 1]
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return ("; " if lang == "en" else "；").join(f"{k}: {format_value(v, lang)}" for k, v in value.items())
    return str(value)


def format_timestamp(value) -> str:
    """A stored timestamp (UTC, datetime or ISO text) in local time, 'YYYY-MM-DD HH:MM'."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert(dt.datetime.now().astimezone().tzinfo).strftime("%Y-%m-%d %H:%M")


def value_mapping(layer_def: LayerDef, field: str, lang: str = "zh") -> dict | None:
    """code → words for a field of a layer, or None when values are shown as they are."""
    style = layer_def.style
    if field == "level" or (style.type == "level" and field == style.field):
        return _level_names(lang)
    if field == "industry":
        return {code: (ind.en if lang == "en" else ind.zh) for code, ind in load_industries().items()}
    if style.type == "category" and field == style.field:
        return {c.value: (c.en if lang == "en" else c.zh) for c in style.categories}
    voc = vocab_for(layer_def.table, field)
    if voc:
        return {k: v[1 if lang == "en" else 0] for k, v in voc.items()}
    return None


def display_column(layer_def: LayerDef, field: str, values: pd.Series, lang: str = "zh") -> np.ndarray:
    """A column of values as display strings (object array), mapped by unique value, not per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapping = value_mapping(layer_def, field, lang)
    out_u = np.empty(len(uniques) + 1, dtype=object)
    for i, u in enumerate(uniques):
        key = u
        if mapping is not None:
            if isinstance(u, float | np.floating) and float(u).is_integer():
                key = int(u)
            if key in mapping:
                out_u[i] = mapping[key]
                continue
            if str(u) in mapping:
                out_u[i] = mapping[str(u)]
                continue
        out_u[i] = format_value(u, lang)
    out_u[-1] = ""
    return out_u[codes]


# titles of columns that are not catalogue fields: the store's own and the readable twins of coded ones
DERIVED_TITLES = {
    "id": ("编号", "ID"),
    "level_name": ("风险等级", "Risk level"),
    "industry_name": ("行业", "Industry"),
    "kind_name": ("类型", "Kind"),
    "category_name": ("类别", "Category"),
    "grade_name": ("隐患等级", "Grade"),
    "individual_risk_name": ("个人风险", "Individual risk"),
    "created_at": ("创建时间", "Created"),
    "updated_at": ("更新时间", "Updated"),
}


def field_title(layer_def: LayerDef, field: str, lang: str = "zh") -> str:
    """A column's title: the catalogue's, else a derived column's, else the name itself."""
    for f in layer_def.fields:
        if f.name == field:
            return f.en if lang == "en" else f.zh
    return DERIVED_TITLES.get(field, (field, field))[1 if lang == "en" else 0]


def derive_columns(layer: LayerDef, gdf: gpd.GeoDataFrame, lang: str = "zh") -> gpd.GeoDataFrame:
    """A copy of ``gdf`` with readable columns beside coded ones: level_name, industry_name, <category>_name."""
    gdf = gdf.copy()
    st = layer.style
    if st.type == "level" and st.field in gdf:
        names = _level_names(lang)
        gdf["level_name"] = gdf[st.field].map(lambda v: names.get(int(v)) if pd.notna(v) else None)
    if st.type == "category" and st.field in gdf and st.categories:
        labels = {c.value: (c.en if lang == "en" else c.zh) for c in st.categories}
        gdf[f"{st.field}_name"] = gdf[st.field].map(lambda v: labels.get(_category_key(v)) if pd.notna(v) else None)
    if "industry" in gdf:
        inds = load_industries()
        gdf["industry_name"] = gdf["industry"].map(
            lambda c: (inds[c].en if lang == "en" else inds[c].zh) if c in inds else c)
    return gdf
