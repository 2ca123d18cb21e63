"""A centre clerk, in Chromium, opens a replacement campaign, a unit-proxy phase and applies for its new
cards; the cards then travel (service level) to the unit and one is enabled; the campaign page shows the
old card's medical balance moved by the medical system and the progress figures changed."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from shebao.campaigns.models import CampaignMember, MedicalTransfer
from shebao.cards.models import Card, CardState
from shebao.cards.services import (
    Receiver,
    card_issue_collective,
    card_notice_record,
    handover_activate,
    production_file_write,
    production_return_import,
    shipment_create,
    shipment_receive,
    unit_handover_settle,
    unit_member_handout_record,
)
from shebao.core.values.ssn import make_ssn
from tests.cards.factories import make_card, photograph_waiting
from tests.cards.test_production import good_row, write_return
from tests.factories import PASSWORD, PersonFactory
from tests.playwright_support import login

SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")
pytestmark = pytest.mark.browser


@pytest.fixture
def retirees(world: Any, settings: Any, tmp_path: Any) -> list[Any]:
    """Unit A's two retirees with first-generation cards; the medical system knows Wang's balance."""
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = "tests.campaigns.test_automatic_transfer.FixedBalance"
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    people = [world.person_a, colleague]
    for p in people:
        make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    return people


def _deliver_and_enable(world: Any, tmp_path: Any) -> list[Card]:
    """Production, return file, shipment, unit collective pickup; the bank enables the unit's list (Wang only)."""
    new = list(Card.objects.filter(generation=2).order_by("pk"))
    photograph_waiting()
    production_file_write(actor=world.centre_clerk, directory=tmp_path)
    rows = [good_row(Card.objects.get(pk=c.pk), 700 + n) for n, c in enumerate(new)]
    production_return_import(path=write_return(tmp_path / "return.csv", rows), actor=world.centre_clerk)
    shipment = shipment_create(
        card_ids=[c.pk for c in new],
        outlet=world.outlet_a,
        handed_over_by="孙库管",
        received_by="周柜员",
        actor=world.centre_clerk,
    )
    shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", actor=world.bank_clerk
    )
    handover = card_issue_collective(
        card_ids=[c.pk for c in new],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字1号",
        clerks=(
            Receiver(name="孙会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
            Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
        ),
        actor=world.bank_clerk,
    )
    wang = next(c for c in new if c.person_id == world.person_a.pk)
    unit_member_handout_record(
        handover=handover, card_ids=[wang.pk], handed_on=dt.date.today(), actor=world.unit_clerk
    )
    # the unit could not reach Zhang: the card comes back; the bank enables the list (Wang's card)
    returned = [c.pk for c in new if c.pk != wang.pk]
    unit_handover_settle(
        handover=handover, returned_card_ids=returned, custodian="周柜员", actor=world.bank_clerk
    )
    handover_activate(handover=handover, place="甲单位会议室", actor=world.bank_clerk)
    return new


def _figures(page: Any, row: int) -> list[str]:
    return [
        c.strip() for c in page.locator("#phase-table tbody tr").nth(row).locator("td.num").all_inner_texts()
    ]


def test_it_walks_a_campaign_phase_to_the_moved_balance(page, transactional_db, world, retirees, tmp_path):  # type: ignore[no-untyped-def]
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "clerk", PASSWORD)
    page.click("nav.sidebar >> text=换代换卡批次")
    page.fill("#id_name", "文登区二代社保卡集中换发")
    page.select_option("#id_bank", str(world.bank_a.pk))
    page.fill("#id_transition_end", "2018-12-31")
    page.click("button:has-text('新建批次')")
    page.wait_for_selector("text=已新建换卡批次")

    page.fill("#id_month", "2018-05")
    page.select_option("#id_group", "unit_proxy")
    page.select_option("#id_outlet", str(world.outlet_a.pk))
    page.fill("#id_units", world.unit_a.name)
    page.click("#phase-form button[type=submit]")
    page.wait_for_selector("text=已新建阶段")
    assert _figures(page, 0) == ["0"] * 7

    page.click("#phase-table >> text=单位代领")
    page.click("#assign-form button[type=submit]")
    page.wait_for_selector("text=已分配 2 人")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("text=已为本阶段 2 人申领第2代社保卡")
    assert Card.objects.filter(generation=2, state=CardState.APPLIED).count() == 2

    _deliver_and_enable(world, tmp_path)

    page.click(".breadcrumb >> text=文登区二代社保卡集中换发")
    page.wait_for_selector("#transfer-summary")
    # members, produced, issued, social, financial, transferred, old cards not cancelled
    assert _figures(page, 0) == ["2", "2", "1", "1", "1", "1", "2"]
    assert "已转入新卡 1 人，合计 1,234.56 元" in page.inner_text("#transfer-summary")
    row = page.inner_text("#transfer-table tbody tr")
    assert "王小明" in row and "1,234.56" in row and "医保系统" in row and "已转移" in row
    member = CampaignMember.objects.get(person=world.person_a)
    transfer = MedicalTransfer.objects.get(member=member)
    assert transfer.amount is not None and str(transfer.amount) == "1234.56"
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "campaign-detail.png"), full_page=True)
