from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from shebao.core.errors import StateError, ValidationError
from shebao.payments.layouts import DetailRow, FileHeader, get_layout
from shebao.payments.models import BankFile, PaymentLine
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import bank_file_bytes, payroll_file
from tests.factories import AccountFactory, PersonFactory
from tests.payments.factories import approved, filed

HEADER = FileHeader(batch_no="202406-PEN-EMP-ICBC-7", business_date=dt.date(2024, 6, 20), payer_code="110001")
ROWS = [
    DetailRow(
        1, "6217000000000000011", "王小明", Decimal("2345.60"), "341521195003010118", "PEN-EMP", 202406
    ),
    DetailRow(
        2, "6217000000000000029", "买买提·艾力", Decimal("1800.00"), "341521196207090222", "PEN-EMP", 202406
    ),
    DetailRow(3, "6217000000000000037", "张喆", Decimal("2045.55"), "34152119620709030X", "PEN-EMP", 202406),
]

# Written by hand from /work/shared/formats/bank-txt-v1.md.
EXPECTED = (
    "H|202406-PEN-EMP-ICBC-7|20240620|110001|3|6191.15\r\n"
    "D|1|6217000000000000011|王小明|2345.60|01|341521195003010118|PEN-EMP|202406\r\n"
    "D|2|6217000000000000029|买买提·艾力|1800.00|01|341521196207090222|PEN-EMP|202406\r\n"
    "D|3|6217000000000000037|张喆|2045.55|01|34152119620709030X|PEN-EMP|202406\r\n"
)


def _render(layout: str, rows=ROWS, header=HEADER) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    get_layout(layout).render(header, rows, out)
    return out.getvalue()


def test_txt_v1_is_byte_exact_gbk_with_crlf_and_header_totals():
    data = _render("txt-v1")

    assert data == EXPECTED.encode("gbk")
    assert b"\xcd\xf5\xd0\xa1\xc3\xf7" in data  # 王小明 in GBK
    assert data.count(b"\r\n") == 4 and b"\n" not in data.replace(b"\r\n", b"")


def test_a_name_gbk_cannot_encode_is_refused_before_anything_is_written():
    rows = [
        *ROWS[:2],
        DetailRow(3, "6217000000000000037", "张\U00020000", Decimal("1.00"), "X", "PEN-EMP", 202406),
    ]
    out = io.BytesIO()

    with pytest.raises(ValidationError, match="GBK无法表示"):
        get_layout("txt-v1").render(HEADER, rows, out)

    assert out.getvalue() == b""


@pytest.mark.parametrize("bad", ["王|小明", "王\r\n小明"])
def test_a_field_with_a_separator_or_line_break_is_refused(bad):
    rows = [DetailRow(1, "6217000000000000011", bad, Decimal("1.00"), "X", "PEN-EMP", 202406)]

    with pytest.raises(ValidationError):
        _render("txt-v1", rows)


@pytest.mark.parametrize("batch_no", ["", "A" * 33, "2024_06", "批次1"])
def test_a_batch_number_outside_the_layout_is_refused(batch_no):
    header = FileHeader(batch_no=batch_no, business_date=dt.date(2024, 6, 20), payer_code="110001")

    with pytest.raises(ValidationError, match="批次号"):
        _render("txt-v1", header=header)


@pytest.mark.parametrize("layout", ["txt-v1", "csv-v1", "xlsx-v1"])
def test_every_layout_gives_the_same_bytes_twice(layout):
    assert _render(layout) == _render(layout)


def test_the_csv_layout_carries_the_same_records():
    text = _render("csv-v1").decode("utf-8-sig")

    assert text.splitlines()[0] == "H,202406-PEN-EMP-ICBC-7,20240620,110001,3,6191.15"
    assert "D,2,6217000000000000029,买买提·艾力,1800.00,01,341521196207090222,PEN-EMP,202406" in text


def test_filing_writes_one_file_per_bank_with_control_totals(pay, world):
    payroll = filed(pay)

    files = {f.bank: f for f in payroll.bank_files.all()}
    assert set(files) == {world.bank_a, world.bank_b}
    a = files[world.bank_a]
    assert (a.control_count, a.control_total, a.layout) == (1, Decimal("2345.60"), "txt-v1")
    line = PaymentLine.objects.get(bank_file=a)
    expected = (
        f"H|{a.batch_no}|{a.business_date:%Y%m%d}|110001|1|2345.60\r\n"
        f"D|1|{line.account_no}|王小明|2345.60|01|{world.person_a.ssn}|PEN-EMP|202406\r\n"
    )
    assert bank_file_bytes(a) == expected.encode("gbk")
    assert payroll.state == "filed"
    payroll_reconcile(payroll)


def test_regenerating_a_bank_file_gives_the_same_bytes(pay):
    bank_file = filed(pay).bank_files.first()

    assert bank_file_bytes(bank_file) == bank_file_bytes(BankFile.objects.get(pk=bank_file.pk))


def test_an_unencodable_name_is_held_before_filing_and_never_reaches_a_file(pay, world):
    person = PersonFactory(region=world.region, name="张\U00020000")
    AccountFactory(person=person, bank=world.bank_a)
    from shebao.payments.services import entitlement_create

    entitlement_create(
        person=person, benefit_type=pay.pension, from_period=202401, amount="100.00", actor=world.centre_clerk
    )
    payroll = approved(pay)

    files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    held = PaymentLine.objects.get(payroll=payroll, person=person)
    assert held.state == "held" and held.bank_file is None and "GBK" in held.hold_reason
    assert sum(f.control_count for f in files) == 2
    assert all("张".encode("gbk") not in bank_file_bytes(f) for f in files)


def test_a_draft_cannot_be_filed(pay, world):
    from tests.payments.factories import generate

    with pytest.raises(StateError, match="复核后"):
        payroll_file(payroll=generate(pay), actor=world.centre_clerk)
