"""Playwright walk-throughs of the 寿县 flows: the unit's form end to end, and the township's intake."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from shebao.core.values.period import next_period, period_of
from shebao.people.models import PaymentAccount
from shebao.people.selectors import account_effective
from shebao.switching.models import AccountChange, VerificationForm
from tests.browser.conftest import login
from tests.factories import PASSWORD, PersonFactory
from tests.switching.factories import (
    NEW_ACCOUNT,
    NOT_NOW,
    PDF_SCAN,
    SWITCH,
    beneficiary,
    card_row,
    compare_cards,
    fill,
    read_xlsx,
    write_filled_xlsx,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")


def logout(pg: Any) -> None:
    pg.click("button.btn-logout")
    pg.wait_for_url("**/login/**")


def test_it_walks_the_unit_flow_from_form_to_switch(
    run_page: Any, transactional_db: Any, world: Any, tmp_path: Path
) -> None:
    a = beneficiary(world.person_a)
    a2 = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="甲二")
    )
    PaymentAccount.objects.create(
        person=a2,
        account_no="6217000000000000099",
        account_name="甲二",
        kind="passbook",
        valid_from=201001,
        source="import",
    )
    compare_cards(world, [card_row(a, account=NEW_ACCOUNT)])  # 王小明's card is activated

    def steps(page: Any) -> None:
        # the centre generates this period's forms
        login(page, "clerk", PASSWORD)
        page.click("text=核实反馈表 >> nth=0")
        page.click("button:has-text('生成本期核实反馈表')")
        assert "已生成 1 张核实反馈表" in page.inner_text("body")
        logout(page)

        # the unit clerk downloads, fills and returns it
        login(page, "unit", PASSWORD)
        page.click("text=本单位核实反馈表")
        page.click("td >> a:has-text('HF')")
        with page.expect_download() as info:
            page.click("text=下载电子表（xlsx）")
        rows = [list(r) for r in read_xlsx(Path(info.value.path()).read_bytes())]
        assert {r[2] for r in rows[3:]} == {"王小明", "甲二"}
        filled = tmp_path / "反馈表.xlsx"
        filled.write_bytes(
            write_filled_xlsx(
                fill(rows, {a.name: (SWITCH, NEW_ACCOUNT, ""), a2.name: (NOT_NOW, "", "卧床不起")})
            )
        )
        scan = tmp_path / "盖章.pdf"
        scan.write_bytes(PDF_SCAN)
        page.reload()
        page.set_input_files("#data_file", str(filled))
        page.set_input_files("#scan_file", str(scan))
        page.click("button:has-text('上传报送')")
        assert "核实反馈表已报送，等待中心复核" in page.inner_text("body")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "switching-unit-returned.png"), full_page=True)
        logout(page)

        # a centre clerk reviews the returned form and prepares its changes under their own name
        login(page, "clerk", PASSWORD)
        page.goto(page.base_url + f"/switching/forms/{VerificationForm.objects.get().pk}/")
        page.click("button:has-text('审核通过，提交复核')")
        assert "已审核，变更已提交复核员复核" in page.inner_text("body")
        logout(page)

        # a supervisor reviews it: the card account pays from next month
        login(page, "supervisor", PASSWORD)
        page.goto(page.base_url + f"/switching/forms/{VerificationForm.objects.get().pk}/")
        page.click("button:has-text('复核通过')")
        assert "已复核通过" in page.inner_text("body")
        form = VerificationForm.objects.get()
        change = AccountChange.objects.get()
        start = next_period(period_of(form.returned_on))
        assert (form.state, change.state, change.valid_from) == ("approved", "approved", start)
        assert account_effective(a.pk, start).account_no == NEW_ACCOUNT
        assert account_effective(a.pk, period_of(form.returned_on)).source == "import"  # the old row stays
        page.goto(page.base_url + f"/switching/changes/{change.pk}/notice/")
        assert "保留6个月" in page.inner_text("body")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "switching-notice.png"), full_page=True)
            for name, url in (
                ("form-print", f"/switching/forms/{form.pk}/print/"),
                ("progress", "/switching/progress/"),
            ):
                page.goto(page.base_url + url)
                page.screenshot(path=os.path.join(SHOTS, f"switching-{name}.png"), full_page=True)

    run_page(steps)


def test_it_walks_the_township_flow(run_page: Any, transactional_db: Any, world: Any, tmp_path: Path) -> None:
    villager = beneficiary(
        PersonFactory(region=world.region, employer=None, township=world.town_a, name="乡甲")
    )
    PaymentAccount.objects.create(
        person=villager,
        account_no="6217000000000000077",
        account_name="乡甲",
        kind="passbook",
        valid_from=201001,
        source="import",
    )
    photo = tmp_path / "card.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32)
    scan = tmp_path / "盖章.pdf"
    scan.write_bytes(PDF_SCAN)

    def steps(page: Any) -> None:
        login(page, "town", PASSWORD)
        page.click("text=乡镇核实登记")
        page.fill("#ssn", villager.ssn)
        page.fill("#card_no", "A12345678")
        page.fill("#account_no", NEW_ACCOUNT)
        page.fill("#account_name", villager.name)
        page.set_input_files("#card_photo", str(photo))
        page.set_input_files("#id_photo", str(photo))
        page.click("button:has-text('登记')")
        assert "已登记 乡甲" in page.inner_text("body")
        page.set_input_files("#scan_file", str(scan))
        page.click("button:has-text('报送中心')")
        assert "已报送 1 人" in page.inner_text("body")
        logout(page)

        login(page, "clerk", PASSWORD)  # the centre clerk checks the photos and prepares the change
        page.click("text=账户变更复核")
        page.click("button:has-text('审核通过，提交复核')")
        assert "已审核，提交复核：乡甲" in page.inner_text("body")
        logout(page)

        login(page, "supervisor", PASSWORD)
        page.click("text=账户变更复核")
        page.click("button:has-text('通过')")
        assert "已复核通过：乡甲" in page.inner_text("body")
        change = AccountChange.objects.get()
        assert change.payment_account.person == villager
        start = next_period(period_of(change.submitted_on))  # the card pays from next month
        assert (change.valid_from, account_effective(villager.pk, start).account_no) == (start, NEW_ACCOUNT)
        assert (
            account_effective(villager.pk, period_of(change.submitted_on)).source == "import"
        )  # old row stays

    run_page(steps)
