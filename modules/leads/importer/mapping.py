"""Which file column is which lead field: automatic recognition of Chinese and English headers,
and saved mappings (`ImportMapping`, shared within a division).

Headers are compared after normalisation (NFKC, case-folded, spaces / `*` / `_` / `-` /
colons and "(必填)"-style notes removed), so `手机号码*`, `Mobile Phone` and `mobile_phone`
all find `mobile`. A saved or explicit mapping wins over recognition for the headers it
names; each field takes at most one column (the first); a file without a name column is
refused before any row is read.
"""
from __future__ import annotations

import re
import unicodedata

from core.web.base import APIError
from modules.leads.validation import INPUT_FIELDS

ALIASES = {
    "name": ("姓名", "名字", "联系人", "联系人姓名", "客户姓名", "name", "full name", "contact",
             "contact name"),
    "company": ("公司", "公司名称", "单位", "单位名称", "企业", "企业名称", "客户名称", "company",
                "company name", "organization", "organisation", "account"),
    "title": ("职位", "职务", "头衔", "岗位", "title", "job title", "position"),
    "mobile": ("手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "移动电话", "联系方式",
               "mobile", "mobile phone", "phone", "phone number", "cell", "tel", "telephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址", "email", "e-mail", "mail",
              "email address"),
    "wechat": ("微信", "微信号", "wechat", "wechat id", "weixin"),
    "source": ("来源", "线索来源", "渠道", "来源渠道", "获客渠道", "source", "lead source",
               "channel"),
    "campaign": ("活动", "市场活动", "活动名称", "campaign", "campaign name"),
    "region": ("区域", "地区", "大区", "所属区域", "销售区域", "region", "area"),
    "industry": ("行业", "所属行业", "industry"),
    "budget": ("预算", "预算金额", "预算（元）", "预算(元)", "budget", "budget (cny)"),
    "need": ("需求", "需求描述", "客户需求", "备注", "说明", "need", "needs", "requirement",
             "requirements", "notes", "note", "description", "remark", "remarks"),
}
_NOTES = re.compile(r"[（(](必填|选填|可选|required|optional)[)）]")
_NOISE = re.compile(r"[\s*_\-:：]+")


def header_key(header) -> str:
    """The comparable form of a header (`手机号码*` → `手机号码`, `Mobile_Phone` → `mobilephone`)."""
    text = unicodedata.normalize("NFKC", str(header or "")).strip().casefold()
    return _NOISE.sub("", _NOTES.sub("", text))


ALIAS_INDEX = {header_key(alias): field for field, aliases in ALIASES.items()
               for alias in aliases}


def detect(headers: list[str], explicit: dict | None = None) -> tuple[dict, list[str]]:
    """`(mapping {header: field}, unmapped headers)` for the file's header row.

    `explicit` ({header: field or None}) overrides recognition for the headers it names
    (None / "" ignores a column); unknown field names are a 422."""
    explicit = explicit or {}
    bad = {h: f for h, f in explicit.items() if f not in (None, "") and f not in INPUT_FIELDS}
    if bad:
        raise APIError(422, "映射中有未知字段 / the mapping names unknown fields: "
                       + ", ".join(sorted(map(str, bad.values()))), code="validation_failed",
                       fields={"mapping": "可用字段 / fields: " + ", ".join(INPUT_FIELDS)})
    by_key = {header_key(h): f for h, f in explicit.items()}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    unmapped: list[str] = []
    for header in headers:
        key = header_key(header)
        field = by_key[key] if key in by_key else ALIAS_INDEX.get(key)
        if field and field not in taken:
            mapping[header] = field
            taken.add(field)
        else:
            unmapped.append(header)
    return mapping, unmapped


def require_name(mapping: dict) -> None:
    if "name" not in mapping.values():
        raise APIError(422, "找不到姓名列；请检查表头或指定列映射 / no name column found: check the "
                       "header row or give a column mapping", code="no_name_column",
                       fields={"mapping": "name"})


# ------------------------------------------------------------------ saved mappings
def _division(ctx, division_id: int | None) -> int:
    from modules.contacts.common import division_id as current

    return division_id or current(ctx)


def find_saved(ctx, name: str, division_id: int | None = None) -> dict:
    """The columns of saved mapping `name` in the division (422 when there is none)."""
    import security
    from modules.leads.models_capture import ImportMapping

    row = None
    if ctx.user is None or security.can(ctx, "read", "model/lead_import_mapping"):
        query = ImportMapping.select().where(
            (ImportMapping.name == name) & (ImportMapping.division == _division(ctx, division_id)))
        if ctx.user is not None:
            query = query.where(security.scope(ctx, ImportMapping, "read"))
        row = query.first()
    if row is None:
        raise APIError(422, f"没有名为 {name} 的列映射 / no saved mapping named {name!r}",
                       code="validation_failed", fields={"mapping": "unknown"})
    return dict(row.columns)


def save(ctx, name: str, columns: dict, division_id: int | None = None) -> dict:
    """Create or replace saved mapping `name` of the division."""
    from core.db import atomic
    from modules.leads.models_capture import ImportMapping
    from security.crud import require_model

    if ctx.user is not None:
        require_model(ctx, ImportMapping, "create")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise APIError(422, "映射名称必填，最多 100 字 / mapping name required, at most 100 "
                       "characters", code="validation_failed", fields={"name": "invalid"})
    if not isinstance(columns, dict) or not columns or not all(
            isinstance(k, str) and isinstance(v, (str, type(None))) for k, v in columns.items()):
        raise APIError(422, "columns 必须是 表头→字段 对象 / columns must map headers to fields",
                       code="validation_failed", fields={"columns": "invalid"})
    detect(list(columns), columns)  # validates the field names
    division = _division(ctx, division_id)
    with atomic():
        same = ((ImportMapping.division == division) & (ImportMapping.name == name.strip()))
        if ctx.user is not None and ImportMapping.select().where(same).exists():
            import security

            mine = same & security.scope(ctx, ImportMapping, "write")
            if not ImportMapping.select().where(mine).exists():
                raise APIError(409, f"列映射 {name} 已由他人保存 / mapping {name!r} belongs to "
                               "someone else", code="conflict", fields={"name": "taken"})
        ImportMapping.delete().where(same).execute()
        ImportMapping.create(name=name.strip(), division=division, columns=columns,
                             created_by=ctx.user_id)
    return {"name": name.strip(), "columns": columns}


def list_saved(ctx) -> list[dict]:
    from modules.leads.models_capture import ImportMapping
    from security.crud import scoped_select

    rows = scoped_select(ctx, ImportMapping, "list").order_by(ImportMapping.name).limit(500)
    return [{"id": r.id, "name": r.name, "columns": r.columns} for r in rows]
