"""The Casbin engine: RBAC with domains, one enforcer per process and database.

Domain = division code; `*` stands for every division, both in assignments (a role held in
`*` applies in each division) and in rules (`p, role, *, ...` applies in each division).
Resources match with `keyMatch` (so `*` and `model/*` are patterns) and act `*` matches any
act. Requests never call `enforce` per row or per field: `security.policy.table` compiles a
table per role set and division from the rules this enforcer holds.
"""
from __future__ import annotations

import casbin

from security.policy.adapter import PeeweeAdapter
from security.policy.watch import PolicyState, current_version, state_for

MODEL_TEXT = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom) \
&& keyMatch(r.obj, p.obj) && (p.act == "*" || p.act == r.act)
"""


def _domain_matches(request_domain: str, assigned_domain: str) -> bool:
    """A role assigned in `*` holds in every requested domain."""
    return assigned_domain == "*" or request_domain == assigned_domain


def new_enforcer(adapter=None) -> casbin.Enforcer:
    """An enforcer over our model, loaded from `adapter` (the peewee adapter by default)."""
    model = casbin.Enforcer.new_model(text=MODEL_TEXT)
    enforcer = casbin.Enforcer(model, adapter or PeeweeAdapter())
    enforcer.add_named_domain_matching_func("g", _domain_matches)
    enforcer.build_role_links()
    return enforcer


def get_enforcer(state: PolicyState | None = None) -> casbin.Enforcer:
    """This process's enforcer, reloaded when the policy version moved."""
    state = state or state_for()
    key = current_version(state)
    if state.enforcer is None or state.enforcer_key != key:
        with state.lock:
            if state.enforcer is None:
                state.enforcer = new_enforcer()
            elif state.enforcer_key != key:
                state.enforcer.load_policy()
                state.enforcer.build_role_links()
            state.enforcer_key = key
    return state.enforcer
