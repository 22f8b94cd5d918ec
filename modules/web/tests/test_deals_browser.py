"""Must-show browser test of the deal board (Debian's Chromium, headless, via Playwright): drag
a deal card into a gated stage, see exactly the missing fields in the dialog, fill them in
place, and the card lands in the stage (and the deal is there in the database)."""
from __future__ import annotations

from modules.contacts.models import Contact
from modules.opportunities.models import Opportunity
from modules.web.tests.test_deals import fresh_deal, ia_stages


def drag(page, source, target) -> None:
    """Press on `source`, move over `target` in small steps, release (SortableJS fallback
    mode follows the mouse like a finger)."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2,
                    steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 40, steps=20)
    page.mouse.up()


def test_drag_into_gated_stage_fill_missing_fields_and_land(page, ui_login):
    deal, account = fresh_deal("拖拽关卡测试")
    contact = Contact.get(Contact.account == account.id)
    stages = ia_stages()
    target = stages[2]  # 方案演示: needs an expected close date and a primary contact
    ui_login(page, "li.na")
    page.goto("/deals")
    card = page.locator(f'[data-deal-id="{deal.id}"]')
    column = page.locator(f'[data-stage-id="{target.id}"]')
    card.scroll_into_view_if_needed()
    drag(page, card, column)

    dialog = page.locator("#dl-gate-dialog")
    dialog.wait_for(state="visible")
    missing = dialog.locator("[data-missing]")
    assert sorted(missing.evaluate_all("els => els.map(e => e.dataset.missing)")) == [
        "contact", "expected_close"]
    # the move was refused: the card went back to its stage
    assert page.locator(f'[data-stage-id="{stages[0].id}"] [data-deal-id="{deal.id}"]').count() == 1
    assert Opportunity.get_by_id(deal.id).stage_id == stages[0].id

    page.fill("#dl-g-expected_close", "2031-06-30")
    page.select_option("#dl-g-contact", str(contact.id))
    page.click("#dl-gate-submit")
    page.locator(f'[data-stage-id="{target.id}"] [data-deal-id="{deal.id}"]').wait_for()
    dialog.wait_for(state="hidden")
    row = Opportunity.get_by_id(deal.id)
    assert row.stage_id == target.id and row.contact_id == contact.id
    assert str(row.expected_close) == "2031-06-30"
