"""Deal pages over HTTP against a live server with the demo data: the kanban, moves blocked by
stage gates (the dialog asks for exactly what is missing; filling it in moves the deal), the
deal page with its stage history, the forecast, and a presales engineer who must never see a
deal amount anywhere in these pages."""
from __future__ import annotations

import decimal
import re

import pytest

from modules.base import services as base_services
from modules.base.demo import DEMO_PASSWORD
from modules.base.models import Division, User
from modules.contacts.models import Account, Contact
from modules.opportunities.models import Opportunity, Stage
from modules.opportunities.pipelines import default_pipeline, stages_of

MISSING = "X-Huike-I18n-Missing"


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert MISSING not in response.headers, response.headers[MISSING]
    return response


def user(login: str) -> User:
    return User.get(User.login == login)


def ia_stages() -> list[Stage]:
    return stages_of(default_pipeline(Division.get(Division.code == "IA").id).id)


def fresh_deal(name: str, owner: str = "li.na") -> tuple[Opportunity, Account]:
    """A deal in the first stage with no close date and no contact, on a new account with
    one contact (so every gate of the next stages is unmet)."""
    from core.db import utcnow

    owner_row = user(owner)
    division = Division.get(Division.code == "IA")
    account = Account.create(name=f"{name} 客户", name_key=name, division=division,
                             owner=owner_row)
    Contact.create(account=account, name=f"{name} 联系人")
    first = ia_stages()[0]
    now = utcnow()
    deal = Opportunity.create(name=name, account=account, division=division, owner=owner_row,
                              pipeline=first.pipeline_id, stage=first, amount=decimal.Decimal(
                                  "123456.78"), created_at=now, updated_at=now,
                              stage_entered_at=now, created_by=owner_row)
    return deal, account


@pytest.fixture
def rep(page_client):
    return page_client("li.na")


def test_kanban_shows_the_callers_deals_by_stage(rep):
    deal, _ = fresh_deal("看板测试")
    board = ok(rep.get("/deals"))
    first = ia_stages()[0]
    column = board.text.split(f'data-stage-id="{first.id}"', 1)[1].split("</section>", 1)[0]
    assert f'data-deal-id="{deal.id}"' in column
    assert "¥123,456.78" in board.text
    others = Opportunity.select().where(Opportunity.owner != user("li.na").id)
    shown = set(map(int, re.findall(r'data-deal-id="(\d+)"', board.text)))
    assert not shown & {o.id for o in others}
    assert "vendor/Sortable.min.js" in board.text and "static/deals.js" in board.text
    partial = ok(rep.htmx("GET", "/deals", params={"partial": "board"}))
    assert partial.text.lstrip().startswith('<div class="hk-kanban')


def test_gated_move_asks_for_the_missing_fields_then_moves(rep):
    deal, account = fresh_deal("关卡测试")
    stages = ia_stages()
    demo = stages[2]  # 方案演示: needs expected_close (需求确认) and a contact (方案演示)
    blocked = rep.htmx("POST", f"/deals/{deal.id}/move", data={"stage": str(demo.id)})
    assert blocked.status_code == 422 and blocked.headers.get("X-Huike-Gate") == "1"
    assert 'data-missing="expected_close"' in blocked.text
    assert 'data-missing="contact"' in blocked.text
    assert Opportunity.get_by_id(deal.id).stage_id == stages[0].id
    contact = Contact.get(Contact.account == account.id)
    half = rep.htmx("POST", f"/deals/{deal.id}/move",
                    data={"stage": str(demo.id), "expected_close": "2031-05-20"})
    assert half.status_code == 422
    assert 'data-missing="expected_close"' not in half.text
    assert 'data-missing="contact"' in half.text
    moved = ok(rep.htmx("POST", f"/deals/{deal.id}/move",
                        data={"stage": str(demo.id), "contact": str(contact.id)}))
    assert f'data-deal-id="{deal.id}"' in moved.text
    row = Opportunity.get_by_id(deal.id)
    assert row.stage_id == demo.id and row.contact_id == contact.id
    assert str(row.expected_close) == "2031-05-20"


def test_bad_values_in_the_gate_dialog_are_named(rep):
    deal, _ = fresh_deal("关卡校验")
    stages = ia_stages()
    answer = rep.htmx("POST", f"/deals/{deal.id}/move",
                      data={"stage": str(stages[1].id), "expected_close": "not-a-date"})
    assert answer.status_code == 422
    assert 'data-error="expected_close"' in answer.text
    assert Opportunity.get_by_id(deal.id).stage_id == stages[0].id


def test_plain_form_move_and_lost_reason(rep):
    deal, _ = fresh_deal("输单测试")
    lost = next(s for s in ia_stages() if s.kind == "lost")
    page = rep.post(f"/deals/{deal.id}/move", data={"stage": str(lost.id)})
    assert page.status_code == 422 and 'data-missing="lost_reason"' in page.text
    assert "<html" in page.text  # a full page for a form posted without script
    done = rep.post(f"/deals/{deal.id}/move", data={"stage": str(lost.id),
                                                    "lost_reason": "预算取消"})
    assert done.status_code == 303
    assert Opportunity.get_by_id(deal.id).stage_id == lost.id


def test_detail_shows_stage_history(rep):
    deal, _ = fresh_deal("历史测试")
    stages = ia_stages()
    rep.htmx("POST", f"/deals/{deal.id}/move",
             data={"stage": str(stages[1].id), "expected_close": "2031-01-01"})
    page = ok(rep.get(f"/deals/{deal.id}"))
    history = page.text.split('id="dl-history"', 1)[1].split("</table>", 1)[0]
    assert stages[1].name in history
    assert 'data-field="amount" data-level="write"' in page.text
    assert 'id="timeline"' in page.text


def test_another_divisions_deal_is_a_404_page(rep):
    md = Opportunity.select().join(Division, on=(Opportunity.division == Division.id)).where(
        Division.code == "MD").first()
    assert rep.get(f"/deals/{md.id}").status_code == 404
    assert rep.post(f"/deals/{md.id}/move", data={"stage": "1"}).status_code == 404


def test_forecast_page(page_client):
    manager = page_client("wang.fang")
    page = ok(manager.get("/deals/forecast"))
    assert 'id="dl-forecast"' in page.text and 'data-chart="dl-forecast-chart"' in page.text
    assert "vendor/echarts.min.js" in page.text
    assert "¥" in page.text


@pytest.fixture
def presales(page_client):
    """A presales engineer of the IA division (reads every deal of it, never money)."""
    from security.passwords import hash_password

    if User.get_or_none(User.login == "pre.ia") is None:
        dept = user("wang.fang").department
        found = base_services.create_user("pre.ia", "售前测试", None, department=dept)
        User.update(password_hash=hash_password(DEMO_PASSWORD)).where(
            User.id == found.id).execute()
        base_services.assign_role(found, "presales", dept.division)
    return page_client("pre.ia")


def money_texts(deals) -> set[str]:
    """Every way an amount or budget of `deals` could be printed."""
    texts = set()
    for deal in deals:
        for value in (deal.amount, deal.budget):
            if value is None or value == 0:
                continue
            value = decimal.Decimal(value).quantize(decimal.Decimal("0.01"))
            texts |= {f"{value:,.2f}", f"{value:.2f}"}
    return texts


def test_presales_never_sees_an_amount(presales):
    deal, _ = fresh_deal("售前不可见金额")
    ia = Division.get(Division.code == "IA")
    division_deals = list(Opportunity.select().where(Opportunity.division == ia.id))
    secrets = money_texts(division_deals)
    pages = {"/deals": ok(presales.get("/deals")),
             f"/deals/{deal.id}": ok(presales.get(f"/deals/{deal.id}")),
             "/deals/forecast": ok(presales.get("/deals/forecast"))}
    assert f'data-deal-id="{deal.id}"' in pages["/deals"].text  # the division's deals...
    for path, page in pages.items():
        text = page.text
        assert "¥" not in text, path  # ...but no money at all
        assert not [s for s in secrets if s in text], path
        assert 'data-field="amount"' not in text and 'data-field="budget"' not in text, path
        assert "weighted" not in text.split("<main", 1)[1].replace("deals.kanban", ""), path
    # read-only: no card can be dragged, no move form, the server refuses a move anyway
    assert "hk-locked" in pages["/deals"].text
    assert 'id="dl-move-form"' not in pages[f"/deals/{deal.id}"].text
    stage = ia_stages()[1]
    assert presales.post(f"/deals/{deal.id}/move",
                         data={"stage": str(stage.id)}).status_code == 403
