"""Policy lines: validation of their shape and the rules document of the admin API.

A rules document describes every line of one role in one domain:

    {"role": "sales_rep", "domain": "*", "all": false,
     "models": {"lead": ["read", "write"]},          # p, sales_rep, *, model/lead, read ...
     "fields": {"lead": {"phone": "masked"}},        # p, ..., field/lead/phone, masked
     "scopes": {"lead": {"read": "own"}},            # p, ..., scope/lead, read:own
     "actions": ["lead.convert"]}                    # p, ..., action/lead.convert, execute

`"all": true` is the line `*, *` (everything); `"*"` may stand for a model, a field or a
model act (patterns `model/*`, `scope/*`, `field/lead/*`, act `*`; not `field/*/x`, which
`keyMatch` would read as `field/*`).
"""
from __future__ import annotations

from security.policy.names import (ACTION_ACTS, FIELD_LEVELS, MODEL_ACTS, SCOPE_LEVELS, SCOPE_OPS,
                                   WILDCARD, split_resource)


class RuleError(ValueError):
    """A policy line or document is malformed; `fields` maps each input to its problem."""

    def __init__(self, message: str, fields: dict[str, str]):
        super().__init__(message)
        self.fields = fields


def line_problem(obj: str, act: str) -> str | None:
    """Why `(resource, act)` is not a line the door understands (None: it is)."""
    if obj == WILDCARD:
        return None if act == WILDCARD else "resource * needs act *"
    kind, parts = split_resource(obj)
    if kind == "model" and len(parts) == 1 and parts[0]:
        return None if act in (*MODEL_ACTS, WILDCARD) else f"unknown model act {act!r}"
    if kind == "field" and len(parts) == 2 and all(parts) and parts[0] != WILDCARD:
        return None if act in FIELD_LEVELS else f"unknown field level {act!r}"
    if kind == "scope" and len(parts) == 1 and parts[0]:
        op, _, level = act.partition(":")
        return None if op in SCOPE_OPS and level in SCOPE_LEVELS else f"bad scope {act!r}"
    if kind == "action" and len(parts) == 1 and parts[0]:
        return None if act in (*ACTION_ACTS, WILDCARD) else f"unknown action act {act!r}"
    return f"unknown resource {obj!r}"


def lines_to_document(role: str, domain: str, lines) -> dict:
    """`[(resource, act), ...]` of one role/domain as a rules document."""
    doc = {"role": role, "domain": domain, "all": False, "models": {}, "fields": {},
           "scopes": {}, "actions": []}
    for obj, act in sorted(lines):
        kind, parts = split_resource(obj)
        if obj == WILDCARD:
            doc["all"] = True
        elif kind == "model":
            doc["models"].setdefault(parts[0], []).append(act)
        elif kind == "field":
            doc["fields"].setdefault(parts[0], {})[parts[1]] = act
        elif kind == "scope":
            op, _, level = act.partition(":")
            doc["scopes"].setdefault(parts[0], {})[op] = level
        elif kind == "action":
            doc["actions"].append(parts[0])
    return doc


def document_to_lines(doc: dict, known: dict[str, set[str]], actions: set[str]) -> set[tuple]:
    """Validate a rules document against the registered models (`{name: field names}`) and
    actions; return its `(resource, act)` lines. Raises `RuleError` listing every problem."""
    problems: dict[str, str] = {}
    lines: set[tuple[str, str]] = set()
    if doc.get("all") not in (None, True, False):
        problems["all"] = "must be true or false"
    elif doc.get("all"):
        lines.add((WILDCARD, WILDCARD))
    for model, acts in _mapping(doc, "models", problems).items():
        if _model_ok(model, known, f"models.{model}", problems):
            for act in acts if isinstance(acts, list) else [None]:
                if act not in (*MODEL_ACTS, WILDCARD):
                    problems[f"models.{model}"] = (f"unknown act {act!r}; use "
                                                   + ", ".join(MODEL_ACTS))
                else:
                    lines.add((f"model/{model}", act))
    for model, rules in _mapping(doc, "fields", problems).items():
        if _model_ok(model, known, f"fields.{model}", problems, wildcard=False):
            for name, level in (rules.items() if isinstance(rules, dict) else [(None, None)]):
                where = f"fields.{model}.{name}"
                if name != WILDCARD and name not in known.get(model, ()):
                    problems[where] = f"unknown field {name!r}"
                elif level not in FIELD_LEVELS:
                    problems[where] = f"unknown level {level!r}; use {', '.join(FIELD_LEVELS)}"
                else:
                    lines.add((f"field/{model}/{name}", level))
    for model, rules in _mapping(doc, "scopes", problems).items():
        if _model_ok(model, known, f"scopes.{model}", problems):
            for op, level in (rules.items() if isinstance(rules, dict) else [(None, None)]):
                where = f"scopes.{model}.{op}"
                if op not in SCOPE_OPS:
                    problems[where] = "scope op must be read or write"
                elif level not in SCOPE_LEVELS:
                    problems[where] = f"unknown scope {level!r}; use {', '.join(SCOPE_LEVELS)}"
                else:
                    lines.add((f"scope/{model}", f"{op}:{level}"))
    action_names = doc.get("actions") or []
    if not isinstance(action_names, list):
        problems["actions"] = "must be a list of action names"
        action_names = []
    for name in action_names:
        if name != WILDCARD and name not in actions:
            problems[f"actions.{name}"] = f"unknown action {name!r}"
        else:
            lines.add((f"action/{name}", "execute"))
    unknown = set(doc) - {"role", "domain", "all", "models", "fields", "scopes", "actions"}
    for key in sorted(unknown):
        problems[key] = "unknown key"
    if problems:
        raise RuleError("规则无效 / invalid rules", problems)
    return lines


def _mapping(doc: dict, key: str, problems: dict) -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        problems[key] = "must be an object"
        return {}
    return value


def _model_ok(model: str, known: dict, where: str, problems: dict, wildcard: bool = True) -> bool:
    if not (wildcard and model == WILDCARD) and model not in known:
        problems[where] = f"unknown model {model!r}"
        return False
    return True
