"""Field mapping: which source column fills which field of a riskmap table.

Header synonyms and value spellings live in ``resources/standards/field_synonyms.toml``. A mapping can be
detected from the headers (:func:`auto_mapping`), saved as JSON and given back (``--mapping``).

>>> t = target_spec("enterprises")
>>> m = auto_mapping(["序号", "企业名称", "风险等级", "所属乡镇（街道）", "经度", "纬度"], t)
>>> m.fields["name"], m.fields["level"], m.fields["town"], m.x, m.y
('企业名称', '风险等级', '所属乡镇（街道）', '经度', '纬度')
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import STANDARDS_DIR

SYNONYMS_FILE = STANDARDS_DIR / "field_synonyms.toml"
TYPES = ("text", "int", "float", "bool", "date", "level", "industry", "risk", "enum", "enterprise")
GEOMETRIES = ("point", "line", "polygon")

_BRACKETS = re.compile(r"[（(\[【〔<《][^）)\]】〕>》]*[）)\]】〕>》]")
_DROP = re.compile(r"[\s\u3000*＊:：、_\-—.。·'\"“”‘’#№]+")


def normalise(text) -> str:
    """A header or value spelling reduced for comparison.

    >>> normalise(" 所属乡镇（街道）："), normalise("X坐标"), normalise("企业\\n名称*")
    ('所属乡镇', 'x坐标', '企业名称')
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))  # full-width letters and digits to half-width
    stripped = _BRACKETS.sub("", s)
    if _DROP.sub("", stripped):  # keep the brackets when nothing else is left: "(mm)"
        s = stripped
    return _DROP.sub("", s).casefold()


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    headers: tuple[str, ...] = ()
    vocab: str | None = None
    unit: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSpec:
    """A table that import can fill: its fields, geometry kind and the field naming an object."""

    table: str
    geometry: str
    fields: dict[str, FieldSpec]
    name_field: str | None = None
    geometry_from_enterprise: bool = False
    geometry_optional: bool = False  # rows without coordinates are kept (enterprises: 未定位)

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]


@dataclass(frozen=True)
class Vocabulary:
    name: str
    values: dict[str, object]  # normalised spelling -> code
    contains: bool = False

    def lookup(self, value):
        """The code for a cell value, or KeyError."""
        key = normalise(value)
        if key in self.values:
            return self.values[key]
        if self.contains and key:
            for spelling in sorted(self.values, key=len, reverse=True):
                if spelling and spelling in key:
                    return self.values[spelling]
        raise KeyError(value)

    def codes(self) -> list:
        return sorted({str(v) for v in self.values.values()})


@dataclass(frozen=True)
class Synonyms:
    targets: dict[str, TargetSpec]
    coordinates: dict[str, tuple[str, ...]]
    vocabularies: dict[str, Vocabulary]
    checks: dict
    path: Path


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> Synonyms:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"字段同义词文件无法读取：{exc}", f"cannot read the field synonyms file: {exc}",
                           where=path) from None
    vocabularies = {}
    for name, table in data.get("values", {}).items():
        table = dict(table)
        contains = bool(table.pop("contains", False))
        vocabularies[name] = Vocabulary(name, {normalise(k): v for k, v in table.items()}, contains)
    targets = {}
    for table, spec in data.get("tables", {}).items():
        where = f"{path}:tables.{table}"
        geometry = spec.get("geometry")
        if geometry not in GEOMETRIES:
            raise RiskmapError(f"几何类型无效：{geometry}", f"bad geometry {geometry!r}", where=where)
        fields = {}
        for fname, f in spec.get("fields", {}).items():
            ftype = f.get("type")
            if ftype not in TYPES:
                raise RiskmapError(f"字段类型无效：{ftype}", f"bad field type {ftype!r}", where=f"{where}.{fname}")
            vocab = f.get("vocab")
            if ftype == "enum" and vocab not in vocabularies:
                raise RiskmapError(f"缺少取值表 values.{vocab}", f"missing values.{vocab}", where=f"{where}.{fname}")
            fields[fname] = FieldSpec(fname, ftype, bool(f.get("required", False)), tuple(f.get("headers", ())),
                                      vocab, tuple(f.get("unit", ())))
        targets[table] = TargetSpec(table, geometry, fields, spec.get("name_field"),
                                    bool(spec.get("geometry_from_enterprise", False)),
                                    bool(spec.get("geometry_optional", False)))
    coords = {k: tuple(v) for k, v in data.get("coordinates", {}).items()}
    return Synonyms(targets, coords, vocabularies, dict(data.get("checks", {})), p)


def load_synonyms(path=None) -> Synonyms:
    """The synonyms file (default: the bundled one), cached per file version."""
    p = Path(path) if path is not None else SYNONYMS_FILE
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        raise RiskmapError("找不到字段同义词文件", "field synonyms file not found", where=str(p)) from None
    return _load(str(p), mtime)


def target_spec(table: str) -> TargetSpec:
    targets = load_synonyms().targets
    if table not in targets:
        raise RiskmapError(f"不能导入到该数据表：{table}（可用：{'、'.join(targets)}）",
                           f"cannot import into table {table!r} (use one of: {', '.join(targets)})")
    return targets[table]


_WHERE_KIND = re.compile(r"^\s*kind\s*=\s*'([a-z_]+)'\s*$")


def resolve_layer(layer: str, kind: str | None = None) -> tuple[TargetSpec, dict]:
    """The target table and fixed values for a catalogue layer id or a table name.

    ``towns`` → (zones, {"kind": "town"}); ``zones`` needs ``kind`` unless the file has a kind column.

    >>> resolve_layer("towns")[1], resolve_layer("zones", kind="grid")[1]
    ({'kind': 'town'}, {'kind': 'grid'})
    """
    from riskmap.layers import load_catalogue

    constants: dict = {}
    catalogue = load_catalogue()
    targets = load_synonyms().targets
    if layer in targets:
        table = layer
    elif layer in catalogue:
        ldef = catalogue[layer]
        table = ldef.table
        m = _WHERE_KIND.match(ldef.where or "")
        if m:
            constants["kind"] = m.group(1)
    else:
        names = sorted(set(targets) | {k for k, v in catalogue.items() if v.table in targets})
        raise RiskmapError(f"未知图层或数据表：{layer}（可用：{'、'.join(names)}）",
                           f"unknown layer or table {layer!r} (use one of: {', '.join(names)})")
    if table not in targets:
        raise RiskmapError(f"该图层不能导入：{layer}", f"layer {layer!r} cannot be imported")
    spec = targets[table]
    if kind:
        if "kind" not in spec.fields:
            raise RiskmapError(f"--kind 只用于分区等有类型的图层，{layer} 没有类型", f"--kind does not apply to {layer}")
        vocab = spec.fields["kind"].vocab
        code = _code_for(kind, vocab)
        if constants.get("kind") and constants["kind"] != code:
            raise RiskmapError(f"图层 {layer} 的类型是 {constants['kind']}，与 --kind {kind} 矛盾",
                               f"layer {layer} has kind {constants['kind']}, not {kind}")
        constants["kind"] = code
    return spec, constants


def _code_for(value: str, vocab: str | None) -> str:
    if vocab is None:
        return value
    voc = load_synonyms().vocabularies[vocab]
    if value in {str(v) for v in voc.values.values()}:
        return value
    try:
        return voc.lookup(value)
    except KeyError:
        raise RiskmapError(f"无法识别的类型：{value}（可用：{'、'.join(voc.codes())}）",
                           f"unknown kind {value!r} (use one of: {', '.join(voc.codes())})") from None


# ------------------------------------------------------------------------------------- mapping


@dataclass
class Mapping:
    """Target field → source column, plus the coordinate columns. Saved as JSON for reuse."""

    table: str
    fields: dict[str, str] = field(default_factory=dict)
    x: str | None = None
    y: str | None = None
    xy: str | None = None
    constants: dict = field(default_factory=dict)
    crs: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    origin: dict = field(default_factory=dict)  # field or "@x"/"@y"/"@xy" → "given" | "detected" (not saved)
    excluded: tuple = ()  # fields a given mapping maps to null: never detected

    def to_json(self) -> str:
        data = {"table": self.table, "fields": self.fields, "x": self.x, "y": self.y, "xy": self.xy,
                "constants": self.constants, "crs": self.crs, "sheet": self.sheet, "header_row": self.header_row}
        return json.dumps({k: v for k, v in data.items() if v not in (None, {}, [])}, ensure_ascii=False, indent=2)

    def save(self, path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> Mapping:
        if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict):
            raise RiskmapError("映射文件格式错误：应为 {\"table\": …, \"fields\": {字段: 列名}}",
                               "bad mapping file: expected {\"table\": …, \"fields\": {field: column}}", where=where)
        known = {"table", "fields", "x", "y", "xy", "constants", "crs", "sheet", "header_row"}
        extra = set(data) - known
        if extra:
            raise RiskmapError(f"映射文件有未知的键：{'、'.join(sorted(extra))}",
                               f"unknown keys in mapping file: {', '.join(sorted(extra))}", where=where)
        fields = data.get("fields", {})
        return cls(table=str(data.get("table", "")), fields={str(k): str(v) for k, v in fields.items() if v is not None},
                   x=data.get("x"), y=data.get("y"), xy=data.get("xy"), constants=dict(data.get("constants", {})),
                   crs=None if data.get("crs") is None else str(data["crs"]), sheet=data.get("sheet"),
                   header_row=data.get("header_row"), excluded=tuple(str(k) for k, v in fields.items() if v is None))

    def merged_with(self, detected: Mapping) -> Mapping:
        """This (given, maybe partial) mapping over the ``detected`` one: given fields, coordinates and
        constants win; a detected field keeps its column unless a given one took that column or the field
        is a constant or mapped to null. ``origin`` says which came from where.

        >>> t = target_spec("enterprises")
        >>> d = auto_mapping(["企业名称", "单位名称", "行业", "经度", "纬度"], t)
        >>> m = Mapping.from_dict({"fields": {"name": "单位名称"}, "constants": {"industry": "other"}}).merged_with(d)
        >>> m.fields, m.constants, m.x, m.origin["name"], m.origin["@x"]
        ({'name': '单位名称'}, {'industry': 'other'}, '经度', 'given', 'detected')
        """
        taken = set(self.fields.values()) | {c for c in (self.x, self.y, self.xy) if c}
        fields = {f: c for f, c in detected.fields.items()
                  if f not in self.fields and f not in self.constants and f not in self.excluded and c not in taken}
        origin = {f: "detected" for f in fields}
        fields.update(self.fields)
        origin.update({f: "given" for f in self.fields})
        origin.update({f: "given" for f in self.constants})
        out = Mapping(table=self.table or detected.table, fields=fields, constants={**detected.constants, **self.constants},
                      crs=self.crs, sheet=self.sheet, header_row=self.header_row, origin=origin,
                      excluded=self.excluded)
        if self.x or self.y or self.xy:
            out.x, out.y, out.xy = self.x, self.y, self.xy
            origin.update({f"@{r}": "given" for r in ("x", "y", "xy") if getattr(self, r)})
        else:
            out.x, out.y, out.xy = (c if c not in taken else None for c in (detected.x, detected.y, detected.xy))
            if out.x is None or out.y is None:
                out.x = out.y = None
            origin.update({f"@{r}": "detected" for r in ("x", "y", "xy") if getattr(out, r)})
        return out

    @classmethod
    def load(cls, path) -> Mapping:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise RiskmapError(f"无法读取映射文件（{exc.strerror}）", f"cannot read mapping file ({exc.strerror})",
                               where=str(p)) from None
        except json.JSONDecodeError as exc:
            raise RiskmapError(f"映射文件不是有效的 JSON（第{exc.lineno}行第{exc.colno}列）",
                               f"mapping file is not valid JSON (line {exc.lineno}, column {exc.colno})",
                               where=str(p)) from None
        return cls.from_dict(data, where=str(p))

    def check(self, spec: TargetSpec, columns, where: str = "") -> None:
        """Every mapped field must exist in the table and every mapped column in the source."""
        cols = set(columns)
        for fname, col in self.fields.items():
            if fname not in spec.fields:
                raise RiskmapError(f"映射中的字段 {fname} 不属于 {spec.table}（可用：{'、'.join(spec.fields)}）",
                                   f"field {fname!r} is not in {spec.table} (use: {', '.join(spec.fields)})",
                                   where=where)
            if col not in cols:
                raise RiskmapError(f"映射中的列“{col}”在文件中不存在（有：{'、'.join(map(str, columns))}）",
                                   f"column {col!r} of the mapping is not in the file", where=where)
        for role in ("x", "y", "xy"):
            col = getattr(self, role)
            if col is not None and col not in cols:
                raise RiskmapError(f"映射中的坐标列“{col}”在文件中不存在", f"coordinate column {col!r} is not in the file",
                                   where=where)


def _rank(h: str, norm: tuple[str, ...]) -> float | None:
    """0.. for an exact match (earlier synonyms lower), 1000.. for 'ends with' (longer synonyms lower);
    ``h`` and ``norm`` already normalised."""
    if not h:
        return None
    for i, s in enumerate(norm):
        if h == s:
            return float(i)
    best = None
    for s in norm:
        if len(s) >= 2 and h.endswith(s):
            rank = 1000.0 - len(s)
            best = rank if best is None else min(best, rank)
    return best


@lru_cache(maxsize=64)
def _role_synonyms(table: str, _version: int) -> dict[str, tuple[str, ...]]:
    """Every assignable role (fields, then @x / @y / @xy) with its normalised synonyms."""
    syn = load_synonyms()
    spec = syn.targets[table]
    roles = {name: tuple(normalise(h) for h in f.headers) for name, f in spec.fields.items()}
    if spec.geometry == "point":
        for r in ("x", "y", "xy"):
            roles[f"@{r}"] = tuple(normalise(h) for h in syn.coordinates.get(r, ()))
    return roles


def _roles(spec: TargetSpec) -> dict[str, tuple[str, ...]]:
    return _role_synonyms(spec.table, id(load_synonyms()))


def header_score(cells, spec: TargetSpec) -> int:
    """How many cells of a row read as headers of ``spec`` (finds the header row under a title)."""
    roles = _roles(spec).values()
    score = 0
    for cell in cells:
        if not isinstance(cell, str):
            continue
        h = normalise(cell)
        if any(_rank(h, syn) is not None for syn in roles):
            score += 1
    return score


def auto_mapping(columns, spec: TargetSpec, constants: dict | None = None) -> Mapping:
    """Assign source columns to fields by header synonyms: required fields first, then the rest,
    each column used once; best-ranked pairs first."""
    columns = [c for c in columns if c is not None]
    roles = _roles(spec)
    constants = dict(constants or {})
    order_groups = [[r for r in roles if r.startswith("@")],
                    [r for r in roles if not r.startswith("@") and spec.fields[r].required and r not in constants],
                    [r for r in roles if not r.startswith("@") and not spec.fields[r].required and r not in constants]]
    taken: set = set()
    chosen: dict[str, str] = {}
    for group in order_groups:
        pairs = []
        for role in group:
            for col in columns:
                rank = _rank(normalise(col), roles[role]) if isinstance(col, str) else None
                if rank is not None:
                    pairs.append((rank, list(roles).index(role), role, col))
        for _r, _i, role, col in sorted(pairs):
            if role in chosen or col in taken:
                continue
            chosen[role] = col
            taken.add(col)
    m = Mapping(table=spec.table, constants=constants)
    m.fields = {r: c for r, c in chosen.items() if not r.startswith("@")}
    m.x, m.y, m.xy = chosen.get("@x"), chosen.get("@y"), chosen.get("@xy")
    if m.x and m.y:
        m.xy = None
    elif m.xy:
        m.x = m.y = None
    else:
        m.x = m.y = None
    return m
