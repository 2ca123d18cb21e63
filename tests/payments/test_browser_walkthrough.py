"""Playwright: prepare, approve and file a payroll, upload a return file with a failure, resolve the name
mismatch through the whitelist, and pay it in a second batch, with reconciliation shown at every step."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shebao.payments.models import NameWhitelist, Payroll
from tests.browser.conftest import login
from tests.factories import PASSWORD
from tests.payments.factories import return_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")
BALANCED = "成功+失败+待发+暂缓＝应发"


def logout(pg: Any) -> None:
    pg.click("button.btn-logout")
    pg.wait_for_url("**/login/**")


def open_payroll(pg: Any, payroll: Payroll) -> None:
    pg.goto(f"{pg.base_url}/payments/payrolls/{payroll.pk}/")


def approve(pg: Any, payroll: Payroll) -> None:
    login(pg, "supervisor", PASSWORD)
    open_payroll(pg, payroll)
    pg.click("#approve-btn")
    body = pg.inner_text("body")
    assert "发放表已复核" in body and BALANCED in body
    logout(pg)


def upload(pg: Any, path: Path) -> str:
    pg.set_input_files("#return-form input[type=file]", str(path))
    pg.click("#return-form button[type=submit]")
    return pg.inner_text("body")


def test_it_walks_a_payroll_through_a_failure_and_a_second_payment(
    page: Any, pay: Any, world: Any, tmp_path: Path
):
    pg = page
    # The clerk prepares June's pension payroll.
    login(pg, "clerk", PASSWORD)
    pg.click("text=待遇发放表")
    pg.fill("input[name=period]", "202406")
    pg.click("#generate-form button[type=submit]")
    body = pg.inner_text("body")
    assert "4,145.60" in body and BALANCED in body
    payroll = Payroll.objects.get(kind="normal")
    logout(pg)

    approve(pg, payroll)

    # The clerk files it and downloads bank A's file.
    login(pg, "clerk", PASSWORD)
    open_payroll(pg, payroll)
    pg.click("#file-btn")
    body = pg.inner_text("body")
    assert "代发文件已生成" in body and BALANCED in body
    file_a = payroll.bank_files.get(bank=world.bank_a)
    with pg.expect_download() as info:
        pg.click(f"#file-table tr:has-text('{file_a.batch_no}') >> text=下载")
    assert Path(info.value.path()).read_bytes().startswith(f"H|{file_a.batch_no}|".encode())

    # Bank A returns 王小明 as 户名不符; bank B pays.
    ret_a, ret_b = tmp_path / "a.txt", tmp_path / "b.txt"
    ret_a.write_bytes(return_bytes(file_a, failures={1: "name_mismatch"}))
    ret_b.write_bytes(return_bytes(payroll.bank_files.get(bank=world.bank_b)))
    body = upload(pg, ret_a)
    assert "成功0笔，失败1笔" in body and BALANCED in body
    body = upload(pg, ret_b)
    assert "已对账" in body and "50.00%" in body and BALANCED in body
    if SHOTS:
        pg.screenshot(path=os.path.join(SHOTS, "payments-reconciled.png"), full_page=True)

    # The clerk verifies the name with 王小明 and records the bank's spelling.
    pg.click("text=支付失败与二次支付")
    assert "户名不符 1笔" in pg.inner_text("body")
    pg.click("#failure-table a:has-text('处理')")
    pg.check("input[value=name_verified]")
    pg.fill("input[name=spelling]", "王晓明")
    pg.fill("input[name=note]", "本人持身份证核实")
    pg.click("#resolve-form button[type=submit]")
    assert "待二次支付" in pg.inner_text("body")
    assert NameWhitelist.objects.filter(person=world.person_a, spelling="王晓明").exists()
    logout(pg)

    # A supervisor confirms the spelling the clerk recorded (maker-checker on the whitelist).
    login(pg, "supervisor", PASSWORD)
    pg.goto(f"{pg.base_url}/payments/failures/")
    pg.click("#whitelist-pending button[type=submit]")
    assert "已确认" in pg.inner_text("body")
    logout(pg)

    login(pg, "clerk", PASSWORD)
    pg.goto(f"{pg.base_url}/payments/failures/")
    pg.click("#repayment-form button[type=submit]")
    body = pg.inner_text("body")
    assert "二次支付" in body and "王晓明" in body and "2,345.60" in body
    batch = Payroll.objects.get(kind="repayment")
    logout(pg)

    approve(pg, batch)

    login(pg, "clerk", PASSWORD)
    open_payroll(pg, batch)
    pg.click("#file-btn")
    assert BALANCED in pg.inner_text("body")
    second = tmp_path / "second.txt"
    second.write_bytes(return_bytes(batch.bank_files.get()))
    body = upload(pg, second)
    assert "已对账" in body and "100.00%" in body and BALANCED in body
    pg.click("text=支付失败与二次支付")
    assert "没有发放失败的明细" in pg.inner_text("#failure-table")  # nothing left to deal with
    pg.click("#failure-status >> text=已处理")
    assert "二次支付：已发放" in pg.inner_text("body")

    # The first payroll still balances to the fen: its failed line stays failed, the money went in
    # the second batch, and together they paid every yuan that was due.
    open_payroll(pg, payroll)
    body = pg.inner_text("body")
    assert "已对账" in body and BALANCED in body
    paid = sum(
        (line.amount for p in (payroll, batch) for line in p.lines.filter(state="paid")), Decimal("0.00")
    )
    assert paid == Decimal("4145.60")
