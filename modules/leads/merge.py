"""Merging duplicate leads: the user picks, field by field, which lead's value survives.

    merge(ctx, {"target": 7, "sources": [9, 12], "fields": {"mobile": 9, "email": 12}})

- Needs the action right `action/lead.merge` and every lead in the caller's write scope
  (404 for one they cannot read, 403 for one they can read but not change); none may be
  converted or already merged (409).
- `fields` maps a field to the lead whose value wins (the target or one of the sources);
  only `MERGEABLE` fields, and only those the caller may write (403 listing every other).
  Fields not named keep the target's value.
- The target is updated (blind indexes and company key follow), each source is closed:
  status `lost`, `lost_reason` "合并到 #7 / merged into #7", `merged_into` = 7. Timeline
  entries (activities, tasks) of the sources move to the target.
- One transaction; audited: the target's change (phones and e-mails hashed), each source's
  change, and one `merge` entry naming sources and picks.
"""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError
from modules.contacts.common import as_pk, unprocessable
from modules.leads.models import Lead
from modules.leads.services import frozen, get_lead
from modules.leads.validation import INPUT_FIELDS
from security.crud import not_found, require_model

MERGE_ACTION = "action/lead.merge"
MERGEABLE = tuple(INPUT_FIELDS) + ("owner", "custom")
SENSITIVE = ("mobile", "email", "wechat")


def _ids(data: dict) -> tuple[int, list[int], dict[str, int]]:
    """Parse and check the request shape (422 naming each bad part)."""
    problems = {}
    target = as_pk(data.get("target"))
    if target is None:
        problems["target"] = "必须是线索编号 / must be a lead id"
    raw_sources = data.get("sources")
    sources = []
    if not isinstance(raw_sources, list) or not raw_sources:
        problems["sources"] = "必须是非空的线索编号列表 / must be a non-empty list of lead ids"
    else:
        sources = [as_pk(s) for s in raw_sources]
        if None in sources or len(set(sources)) != len(sources) or target in sources:
            problems["sources"] = ("线索编号不能重复，也不能包含目标 / distinct lead ids, "
                                   "not including the target")
    raw_fields = data.get("fields", {})
    picks: dict[str, int] = {}
    if not isinstance(raw_fields, dict):
        problems["fields"] = "必须是对象 / must be an object"
    else:
        allowed = {target, *sources}
        for name, chosen in raw_fields.items():
            if name not in MERGEABLE:
                problems[f"fields.{name}"] = "不能合并此字段 / not a mergeable field"
            elif as_pk(chosen) not in allowed:
                problems[f"fields.{name}"] = ("必须是目标或来源线索之一 / must be the target or "
                                              "one of the sources")
            else:
                picks[name] = as_pk(chosen)
    if problems:
        raise unprocessable(problems)
    return target, sources, picks


def _load(ctx, ids: list[int]) -> dict[int, Lead]:
    """Full rows of the leads, each in the caller's write scope (404 / 403 otherwise)."""
    import security

    readable = {row.id: row for row in Lead.select().where(
        Lead.id.in_(ids) & security.scope(ctx, Lead, "read"))}
    for pk in ids:
        if pk not in readable:
            raise not_found(Lead, pk)
    writable = {pk for (pk,) in Lead.select(Lead.id).where(
        Lead.id.in_(ids) & security.scope(ctx, Lead, "write")).tuples()}
    for pk in ids:
        if pk not in writable:
            raise APIError(403, f"无权修改线索 #{pk} / not allowed to change lead {pk}",
                           code="forbidden")
        refusal = frozen(readable[pk])
        if refusal is not None:
            raise refusal
    return readable


def _move_timeline(target: int, sources: list[int]) -> None:
    """Activities and tasks recorded on the sources now belong to the target's timeline."""
    from modules.contacts.models import Activity, Task

    for model in (Activity, Task):
        (model.update(res_id=target)
         .where((model.res_model == "lead") & model.res_id.in_(sources)).execute())


def _snap(row: Lead) -> dict:
    """Audit snapshot without the blind indexes (lookup keys, not data)."""
    from security import audit

    return {k: v for k, v in audit.snapshot(row).items() if not k.endswith("_bidx")}


def merge(ctx, data: dict) -> dict:
    """Merge `sources` into `target` with the picked field values; returns the target."""
    import security
    from security import audit

    require_model(ctx, Lead, "update")
    security.require(ctx, "execute", MERGE_ACTION)
    if not isinstance(data, dict):
        raise APIError(400, "请求体必须是对象 / body must be an object")
    target_id, sources, picks = _ids(data)
    security.check_write(ctx, Lead, {name: None for name in picks})
    with atomic():
        rows = _load(ctx, [target_id, *sources])
        target = rows[target_id]
        before = _snap(target)
        for name, chosen in picks.items():
            setattr(target, name, getattr(rows[chosen], name))
        if "company" in picks:
            from modules.leads.normalise import company_key
            target.company_key = company_key(target.company)
        target.updated_at = ctx.now()
        target.save()
        audit.record_change(ctx, target, before, _snap(target), sensitive=SENSITIVE)
        if not Lead.select(Lead.id).where((Lead.id == target_id)
                                          & security.scope(ctx, Lead, "write")).exists():
            raise APIError(403, "合并后的线索将超出你的数据范围 / the merged lead would be "
                           "outside your data scope", code="out_of_scope")
        for pk in sources:
            source = rows[pk]
            source_before = _snap(source)
            source.status, source.merged_into = "lost", target_id
            source.lost_reason = f"合并到 #{target_id} / merged into #{target_id}"
            source.status_changed_at = source.updated_at = ctx.now()
            source.save()
            audit.record_change(ctx, source, source_before, _snap(source),
                                sensitive=SENSITIVE)
        _move_timeline(target_id, sources)
        audit.record(ctx, "merge", model=Lead._meta.table_name, res_id=target_id,
                     details={"sources": sources, "fields": picks},
                     division_id=target.division_id)
    return get_lead(ctx, target_id)
