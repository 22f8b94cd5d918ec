"""The door's decisions: can/require, domains, field levels, scopes, explanations, caching."""
from __future__ import annotations

import random

import pytest

import security
from core.web.base import APIError
from security.context import Context, system_context
from security.policy.engine import get_enforcer
from tests.test_policy_kit import add_lines, org  # noqa: F401


def test_it_admin_holds_admin_everywhere_but_password_hashes_stay_hidden(org):
    table = security.permissions(org.ctx("admin"))
    assert table.held == frozenset({("admin", "*")})
    for act in ("read", "create", "write", "delete", "export"):
        assert security.can(org.ctx("admin"), act, "model/base_user")
    assert security.can(org.ctx("admin"), "execute", "action/anything.at_all")
    assert table.field_level("base_user", "email") == "write"
    assert table.field_level("base_user", "password_hash") == "hidden"  # the specific rule
    assert table.scope_level("base_user", "read") == "all"
    assert table.scope_global("base_user", "write")


def test_can_and_require(org):
    ctx = org.ctx("rep_ia")
    assert security.can(ctx, "read", "model/base_user")
    assert not security.can(ctx, "write", "model/base_user")
    assert not security.can(ctx, "read", "model/security_audit")
    security.require(ctx, "read", "model/base_department")
    with pytest.raises(APIError) as caught:
        security.require(ctx, "delete", "model/base_user")
    assert caught.value.status_code == 403 and caught.value.code == "forbidden"


def test_a_role_held_in_one_division_does_not_grant_in_another(org):
    add_lines("sales_rep, IA, model/base_tag, write", "finance, *, model/base_sequence, read")
    assert security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    assert not security.can(org.ctx("rep_md"), "write", "model/base_tag")  # rule is IA-only
    # multi: sales_rep in IA, finance in MD
    assert security.can(org.ctx("multi"), "write", "model/base_tag")  # default division IA
    assert not security.can(org.ctx("multi"), "read", "model/base_sequence")
    assert security.can(org.ctx("multi", "MD"), "read", "model/base_sequence")
    assert not security.can(org.ctx("multi", "MD"), "write", "model/base_tag")
    assert security.permissions(org.ctx("multi", "MD")).roles == ["finance"]


def test_division_header_must_name_a_division_where_a_role_is_held(org):
    with pytest.raises(APIError) as caught:
        security.permissions(org.ctx("rep_ia", "MD"))
    assert caught.value.status_code == 403
    assert security.permissions(org.ctx("rep_ia", "IA")).division_code == "IA"


def test_a_role_held_in_star_applies_in_every_division(org):
    for division in ("IA", "MD"):
        ctx = org.ctx("auditor", division)
        table = security.permissions(ctx)
        assert table.division_code == division
        assert security.can(ctx, "read", "model/security_audit")
        assert not security.can(ctx, "delete", "model/security_audit")
        assert table.scope_level("security_audit", "read") == "all"
        assert table.scope_global("security_audit", "read")  # held in * by a * rule
    # without a header or department: the first active division
    assert security.permissions(org.ctx("auditor")).division_code == "IA"


def test_all_scope_from_a_division_role_stays_in_the_division(org):
    add_lines("sales_rep, *, scope/base_region, write:all",
              "sales_rep, *, model/base_region, write")
    table = security.permissions(org.ctx("rep_ia"))
    assert table.scope_level("base_region", "write") == "all"
    assert not table.scope_global("base_region", "write")


def test_field_levels_most_permissive_wins_and_default_follows_the_model(org):
    add_lines("sales_rep, *, field/base_user/email, masked",
              "finance, *, model/base_user, read",
              "sales_rep, *, model/base_department, write")
    rep = security.permissions(org.ctx("rep_ia"))
    assert rep.field_level("base_user", "email") == "masked"
    assert rep.field_level("base_user", "name") == "read"  # no field rule: model read
    assert rep.field_level("base_department", "name") == "write"  # model write
    assert rep.field_level("security_audit", "action") == "hidden"  # no access at all
    assert security.can(org.ctx("rep_ia"), "masked", "field/base_user/email")
    assert not security.can(org.ctx("rep_ia"), "read", "field/base_user/email")
    # finance (in MD) reads base_user without field rules: read beats sales_rep's masked
    finance = security.permissions(org.ctx("multi", "MD"))
    assert finance.field_level("base_user", "email") == "read"


def test_the_most_specific_field_rule_decides_within_a_role(org):
    add_lines("sales_rep, *, field/base_department/*, hidden",
              "sales_rep, *, field/base_department/name, read")
    table = security.permissions(org.ctx("rep_ia"))
    assert table.field_level("base_department", "name") == "read"
    assert table.field_level("base_department", "path") == "hidden"
    decision = table.explain("field/base_department/path", "masked")
    assert not decision.allowed
    assert decision.rule.line == "p, sales_rep, *, field/base_department/*, hidden"


def test_scope_levels_widest_wins_default_own_none_without_access(org):
    add_lines("sales_rep, *, model/base_attachment, read",
              "sales_rep, *, scope/base_attachment, read:department",
              "finance, MD, model/base_attachment, read",
              "finance, MD, scope/base_attachment, read:region",
              "sales_rep, *, model/base_attachment, write")
    multi_ia = security.permissions(org.ctx("multi"))
    assert multi_ia.scope_level("base_attachment", "read") == "department"
    assert multi_ia.scope_level("base_attachment", "write") == "own"  # no write scope line
    add_lines("sales_rep, MD, scope/base_attachment, read:division")  # MD-only rule
    multi_md = security.permissions(org.ctx("multi", "MD"))
    assert multi_md.scope_level("base_attachment", "read") == "region"  # finance only in MD
    assert security.permissions(org.ctx("rep_md")).scope_level("base_attachment", "read") == \
        "division"  # the widest of department (*) and division (MD)
    assert security.permissions(org.ctx("nobody")).scope_level("base_attachment", "read") == "none"
    with pytest.raises(ValueError):
        multi_ia.scope_level("base_attachment", "delete")


def test_explain_names_the_deciding_rule_or_the_roles_that_lack_one(org):
    table = security.permissions(org.ctx("rep_ia"))
    granted = table.explain("model/base_user", "read").as_dict()
    assert granted["allowed"] and granted["rule"] == "p, sales_rep, *, model/base_user, read"
    assert granted["role"] == "sales_rep" and granted["role_held_in"] == "IA"
    denied = table.explain("model/base_user", "delete").as_dict()
    assert not denied["allowed"] and denied["rule"] is None
    assert "sales_rep@IA" in denied["reason"] and "delete" in denied["reason"]
    field = table.explain("field/base_user/password_hash", "masked").as_dict()
    assert field["level"] == "hidden"
    assert field["rule"] == "p, sales_rep, *, field/base_user/password_hash, hidden"


def test_contexts_without_a_user(org):
    system = system_context(org.registry)
    assert security.can(system, "delete", "model/base_user")
    assert security.permissions(system).scope_level("base_user", "write") == "all"
    anonymous = Context(registry=org.registry, via="api")
    assert not security.can(anonymous, "read", "model/base_region")
    assert security.permissions(anonymous).field_level("base_user", "login") == "hidden"


def test_tables_are_shared_per_role_set_and_memoised_per_request(org):
    ctx = org.ctx("rep_ia")
    assert security.permissions(ctx) is security.permissions(ctx)
    org.user("rep_ia2", "IA", [("sales_rep", "IA")])
    assert security.permissions(org.ctx("rep_ia2")) is security.permissions(org.ctx("rep_ia"))
    assert security.permissions(org.ctx("rep_md")) is not security.permissions(ctx)


def test_compiled_tables_agree_with_casbin_enforce(org):
    """Random policies: every model/action decision of the compiled table equals `enforce`."""
    rng = random.Random(20260)
    models = ["base_user", "base_tag", "base_region", "base_sequence", "base_attachment"]
    acts = ["read", "create", "write", "delete", "export"]
    roles = ["sales_rep", "sales_manager", "finance", "dealer"]
    lines = set()
    for _ in range(120):
        resource = rng.choice([f"model/{rng.choice(models)}", "model/*",
                               f"action/{rng.choice(['a.one', 'a.two'])}"])
        act = "execute" if resource.startswith("action/") else rng.choice(acts + ["*"])
        lines.add(f"{rng.choice(roles)}, {rng.choice(['*', 'IA', 'MD'])}, {resource}, {act}")
    add_lines(*sorted(lines))
    org.user("mgr_md", "MD", [("sales_manager", "MD"), ("dealer", "IA")])
    add_lines("dealer, IA, model/base_company, read")  # bump once more: the g-lines are current
    enforcer = get_enforcer()
    checked = 0
    for login in ("rep_ia", "rep_md", "multi", "mgr_md", "nobody", "auditor"):
        for division in ("IA", "MD"):
            ctx = org.ctx(login)
            ctx.division_id = org.divisions[division].id
            try:
                table = security.permissions(ctx)
            except APIError:
                continue  # no role in that division
            subject = f"user:{org.users[login].id}"
            for resource in [f"model/{m}" for m in models] + ["action/a.one", "action/a.two"]:
                for act in acts + ["execute"]:
                    expected = enforcer.enforce(subject, division, resource, act)
                    assert table.allows(resource, act) == expected, (login, division, resource, act)
                    checked += 1
    assert checked > 300
