"""Tags: short labels (unique per model) attached to any record `(model, res_id)`.

A tag whose `model` is empty may be used on every model; otherwise only on that model.
"""
from __future__ import annotations

import re

import peewee as pw

from core.db import atomic
from modules.base.models import Tag, TagLink
from modules.base.services import BaseError, Conflict, NotFound, get_record

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BaseError("标签名不能为空 / tag name is required", "name")
    value = " ".join(value.split())
    if len(value) > 64:
        raise BaseError("标签名过长 / tag name exceeds 64 characters", "name")
    return value


def _color(value) -> str:
    if not isinstance(value, str) or not COLOR_RE.match(value):
        raise BaseError("颜色须为 #RRGGBB / color must be #RRGGBB", "color")
    return value.lower()


def _model(registry, value) -> str:
    if value in (None, ""):
        return ""
    try:
        registry.model(value)
    except KeyError:
        raise BaseError(f"未注册的模型 / unknown model {value!r}", "model") from None
    return value


def _ensure_unique(model: str, name: str, exclude_id: int | None = None) -> None:
    query = Tag.select().where((Tag.model == model) & (Tag.name == name))
    if exclude_id is not None:
        query = query.where(Tag.id != exclude_id)
    if query.exists():
        raise Conflict(f"标签已存在 / tag {name!r} already exists", "name")


def create_tag(registry, name, *, model=None, color: str | None = None) -> Tag:
    name, model = _name(name), _model(registry, model)
    color = _color(color) if color is not None else Tag.color.default
    _ensure_unique(model, name)
    return Tag.create(name=name, model=model, color=color)


def list_tags(model: str | None = None) -> list[Tag]:
    """Every tag, or the tags usable on `model` (its own and the model-less ones)."""
    query = Tag.select().order_by(Tag.model, Tag.name)
    if model:
        query = query.where(Tag.model.in_(["", model]))
    return list(query)


def get_tag(tag_id) -> Tag:
    tag = Tag.get_or_none(Tag.id == tag_id)
    if tag is None:
        raise NotFound(f"没有这个标签 / no tag {tag_id}", "id")
    return tag


def update_tag(tag: Tag, changes: dict) -> Tag:
    """Rename and/or recolour a tag."""
    if "name" in changes:
        name = _name(changes["name"])
        _ensure_unique(tag.model, name, exclude_id=tag.id)
        tag.name = name
    if "color" in changes:
        tag.color = _color(changes["color"])
    tag.save()
    return tag


def delete_tag(tag: Tag) -> None:
    """Delete the tag and every link to it."""
    with atomic():
        TagLink.delete().where(TagLink.tag == tag).execute()
        tag.delete_instance()


def attach(registry, tag: Tag, model: str, res_id, ctx=None) -> TagLink:
    """Put `tag` on record `(model, res_id)` (which the caller must be able to write);
    attaching twice is a no-op."""
    record = get_record(registry, model, res_id, ctx, "write")
    if tag.model and tag.model != model:
        raise BaseError(f"标签只能用于 {tag.model} / tag belongs to {tag.model}", "model")
    (TagLink.insert(tag=tag, model=model, res_id=record._pk)
     .on_conflict_ignore().execute())
    return TagLink.get((TagLink.tag == tag) & (TagLink.model == model)
                       & (TagLink.res_id == record._pk))


def detach(tag: Tag, model: str, res_id: int) -> bool:
    """Take `tag` off the record; True if it was there."""
    return bool(TagLink.delete().where((TagLink.tag == tag) & (TagLink.model == model)
                                       & (TagLink.res_id == res_id)).execute())


def tags_of(model: str, res_id: int) -> list[Tag]:
    return list(Tag.select().join(TagLink)
                .where((TagLink.model == model) & (TagLink.res_id == res_id))
                .order_by(Tag.name))


def tagged(model: str, tag_ids: list[int]) -> pw.SelectQuery:
    """Ids of `model` records carrying any of `tag_ids` — a subquery for list filters."""
    return (TagLink.select(TagLink.res_id)
            .where((TagLink.model == model) & TagLink.tag.in_(tag_ids)))


def serialise(tag: Tag) -> dict:
    return {"id": tag.id, "name": tag.name, "model": tag.model, "color": tag.color}
