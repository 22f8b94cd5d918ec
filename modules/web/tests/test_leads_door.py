"""The authorization matrix of `tests/test_door_matrix.py`, applied to the leads pages: every
`/leads…` page URL (ids of both divisions substituted) as users of several roles, on demo data
with markers planted in MD records and in every free-text / encrypted field. It fails on a
server error, an MD marker shown to a user without an MD role, a planted value shown to the
role that has those fields hidden, a blind-index column in the HTML, or a business table read
without passing the door (`security.scope`)."""
from __future__ import annotations

from tests.support import LiveServer
from tests.test_door_matrix import (HIDDEN_MARK, MD_MARK, DoorTracer, plant_markers,
                                    restricted_role, sample_ids, urls_for)

# the pool page lists the ownerless leads of the caller's current division after
# `require(ctx, "execute", "action/lead.pool")` — the same reviewed exception as the API's
ALLOWED = {("/leads/pool", "leads_lead")}
ROLES = {"admin": True, "li.na": False, "wang.fang": False, "hu.bin": False,
         "gao.feng": True, "matrix.viewer": False}


def test_leads_pages_pass_the_door(web_install, monkeypatch):
    from core.web.app import make_app
    from modules.base import services
    from modules.base.models import Division, User
    from modules.web.tests.conftest import PageClient, password_of

    registry = web_install.registry
    ia, md = (Division.get(Division.code == code) for code in ("IA", "MD"))
    restricted_role(ia, plant_markers(registry, md.id))
    viewer = services.create_user("matrix.viewer", "矩阵", password_of("li.na"),
                                  department=User.get(User.login == "li.na").department)
    services.assign_role(viewer, "matrix_restricted", ia)
    ids = sample_ids(registry, md.id) + sample_ids(registry, ia.id)
    urls = [u for u in urls_for(make_app(registry), ids) if u.startswith("/leads")]
    urls += ["/leads?q=a", "/leads?owner=none", f"/leads/merge?ids={ids[0]},{ids[-1]}"]
    assert len(urls) > 20
    tracer = DoorTracer(monkeypatch, registry)
    problems = []
    with LiveServer(registry, huike_i18n_strict=True) as live:
        for login, sees_md in ROLES.items():
            http = PageClient(live.base_url).sign_in(login)
            for url in urls:
                tracer.reset()
                answer = http.get(url)
                body, where = answer.text, f"{login} GET {url} → {answer.status_code}"
                if answer.status_code >= 500:
                    problems.append(f"server error: {where}: {body[:200]}")
                if not sees_md and MD_MARK in body:
                    problems.append(f"cross-division leak: {where}")
                if "_bidx" in body:
                    problems.append(f"blind-index column in output: {where}")
                if login == "matrix.viewer" and HIDDEN_MARK in body:
                    problems.append(f"hidden field leaked: {where}")
                if answer.headers.get("X-Huike-I18n-Missing"):
                    problems.append(f"untranslated {answer.headers['X-Huike-I18n-Missing']}: "
                                    f"{where}")
                bypassed = {t for t in tracer.bypassed() if (url.split("?")[0], t) not in ALLOWED}
                if answer.status_code < 400 and bypassed:
                    problems.append(f"door bypass ({', '.join(sorted(bypassed))}): {where}")
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"
