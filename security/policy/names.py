"""Names of the door: resources, acts, field levels and scope levels.

Resources are path-shaped and engine-agnostic: `model/<name>`, `field/<model>/<field>`,
`action/<name>`, `scope/<model>` (scope lines carry `read:<level>` / `write:<level>` as act).
"""
from __future__ import annotations

WILDCARD = "*"
MODEL_ACTS = ("read", "create", "write", "delete", "export")
ACTION_ACTS = ("execute",)
FIELD_LEVELS = ("hidden", "masked", "read", "write")  # least to most permissive
SCOPE_LEVELS = ("none", "own", "subordinates", "department", "department_subtree", "region",
                "division", "all")  # narrowest to widest
SCOPE_OPS = ("read", "write")
KINDS = ("model", "field", "action", "scope")


def model_name(model) -> str:
    """The name of a model in resources: its table name unless it sets `__security_name__`."""
    return getattr(model, "__security_name__", None) or model._meta.table_name


def field_rank(level: str) -> int:
    return FIELD_LEVELS.index(level)


def scope_rank(level: str) -> int:
    return SCOPE_LEVELS.index(level)


def split_resource(resource: str) -> tuple[str, list[str]]:
    """`field/lead/phone` -> ("field", ["lead", "phone"]); `*` -> ("*", [])."""
    kind, _, rest = resource.partition("/")
    return kind, (rest.split("/") if rest else [])


def key_match(key: str, pattern: str) -> bool:
    """Casbin's `keyMatch`: `*` in the pattern matches any suffix (the engine's semantics)."""
    star = pattern.find("*")
    if star == -1:
        return key == pattern
    if len(key) > star:
        return key[:star] == pattern[:star]
    return key == pattern[:star]


def describe_line(values) -> str:
    """`p, sales_rep, *, model/lead, read` — how rules are shown in explanations and errors."""
    return ", ".join(["p", *values])
