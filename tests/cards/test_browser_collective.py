"""A bank outlet clerk, in Chromium, notifies a unit, hands its cards to two clerks and takes back the undistributed one."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from shebao.cards.models import CardIssue, CardNotice, CardState, UnitHandover
from shebao.core.values.ssn import make_ssn
from tests.browser.conftest import login
from tests.cards.factories import make_card
from tests.factories import PASSWORD, PersonFactory

SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")
pytestmark = pytest.mark.browser


@pytest.fixture
def inline_jobs(settings: Any, tmp_path: Any) -> Any:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_it_walks_through_a_unit_collective_pickup(page, transactional_db, world, inline_jobs):  # type: ignore[no-untyped-def]
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    cards = [
        make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        make_card(colleague, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
    ]

    login(page, "bank", PASSWORD)
    page.click("nav.sidebar >> text=单位集中领卡")
    page.click("#unit-table >> text=办理")
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=note]", "请两名经办人带介绍信")
    page.click("button:has-text('登记通知')")
    page.wait_for_selector("text=已登记对甲单位的领卡通知")

    page.fill("#id_letter_no", "甲单位介字第8号")
    page.fill("#id_clerk1_name", "孙会计")
    page.fill("#id_clerk1_ssn", make_ssn("341521", dt.date(1975, 1, 1), 11))
    page.fill("#id_clerk2_name", "钱出纳")
    page.fill("#id_clerk2_ssn", make_ssn("341521", dt.date(1976, 2, 2), 22))
    page.click("#collective-form button[type=submit]")
    page.wait_for_selector("h1:has-text('集中领卡移交单')")
    sheet = page.inner_text(".print-sheet")
    assert "甲单位介字第8号" in sheet and "王小明" in sheet and "张小华" in sheet
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "collective-handover.png"), full_page=True)

    # the unit hands Wang his card; Zhang cannot be reached
    page.context.clear_cookies()
    login(page, "unit", PASSWORD)
    page.click("nav.sidebar >> text=本单位集中领卡")
    page.check(f"input[name=card][value='{cards[0].pk}']")
    page.click("button:has-text('登记已发给本人')")
    page.wait_for_selector("text=已登记1张社保卡发给本人")

    # back at the outlet: only Wang is ticked, Zhang's card returns to stock; the bank activates Wang's card
    page.context.clear_cookies()
    login(page, "bank", PASSWORD)
    page.goto(page.base_url + "/cards/collective/")
    assert page.is_checked(f"input[name=handed_out][value='{cards[0].pk}']")
    assert not page.is_checked(f"input[name=handed_out][value='{cards[1].pk}']")
    page.click("button:has-text('办理交回')")
    page.wait_for_selector("text=未发出的卡已重新入库")
    page.click("#activate-table button:has-text('统一启用')")
    page.wait_for_selector("text=已按发卡名单启用1张社保卡的人社功能，通过移动终端激活1张的金融功能")

    handover = UnitHandover.objects.get()
    assert handover.settled_at is not None and handover.returned_count == 1
    assert CardNotice.objects.get().channel == "phone"
    states = {c.pk: c.state for c in type(cards[0]).objects.filter(pk__in=[c.pk for c in cards])}
    assert states == {cards[0].pk: CardState.ISSUED, cards[1].pk: CardState.IN_STOCK}
    assert CardIssue.objects.filter(handover=handover).count() == 2
    cards[0].refresh_from_db()
    assert cards[0].fin_activated_channel == "mobile_terminal"
    assert cards[0].ss_activated_channel == "bank_outlet"
