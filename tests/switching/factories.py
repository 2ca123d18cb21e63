"""Factories and helpers for the switching tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from shebao.people.models import BenefitCategory, PersonCategory
from shebao.people.services import beneficiary_flags_refresh

CARD_HEADERS = [
    "社会保障号码",
    "姓名",
    "社保卡号",
    "银行代码",
    "金融账号",
    "卡状态",
    "金融功能已激活",
    "激活日期",
]


def beneficiary(person: Any, category: str = BenefitCategory.ENTERPRISE_RETIREE) -> Any:
    PersonCategory.objects.get_or_create(person=person, category=category)
    beneficiary_flags_refresh([person.pk])  # a category written outside the people services
    person.is_beneficiary = True
    return person


def card_row(
    person: Any,
    *,
    name: str | None = None,
    card_no: str = "A12345678",
    bank_code: str = "",
    account: str = "6228480000000000018",
    state: str = "正常",
    activated: bool = True,
    ssn: str | None = None,
) -> list[str]:
    return [
        ssn or person.ssn,
        person.name if name is None else name,
        card_no,
        bank_code,
        account,
        state,
        "是" if activated else "否",
        "2020-03-01" if activated else "",
    ]


def write_card_xlsx(path: Path, rows: list[list[str]], headers: list[str] | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, headers or CARD_HEADERS)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            ws.write_string(i, j, value)
    wb.close()
    return path


def write_card_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CARD_HEADERS)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def read_xlsx(data: bytes) -> list[list[Any]]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return wb.get_sheet_by_index(0).to_python()


def write_filled_xlsx(rows: list[list[Any]]) -> bytes:
    """The form as a unit clerk's Excel would save it after filling it in."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("核实反馈表")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value in (None, ""):
                continue
            ws.write_string(r, c, str(value)) if isinstance(value, str) else ws.write(r, c, value)
    wb.close()
    return buf.getvalue()


PDF_SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def today() -> dt.date:
    return dt.date(2026, 11, 20)


def cell_protection(data: bytes, row: int) -> dict[str, bool]:
    """Column letter -> locked, for one 1-based row of the first sheet, as Excel would enforce it."""
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert "<sheetProtection" in sheet
    xfs_block = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    assert xfs_block is not None
    xfs = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs_block.group(1), re.S)
    unlocked = [('locked="0"' in xf) for xf in xfs]
    row_xml = re.search(rf'<row r="{row}"[^>]*>(.*?)</row>', sheet, re.S)
    assert row_xml is not None
    out = {}
    for col, style in re.findall(r'<c r="([A-Z]+)\d+"(?: s="(\d+)")?', row_xml.group(1)):
        out[col] = not unlocked[int(style or 0)]
    return out


def setup_forms_world(world: Any, *, period: int = 202611) -> dict[str, Any]:
    """Beneficiaries in two units and one township, plus people who must not be on any form."""
    from shebao.people.models import PaymentAccount
    from shebao.switching.services import forms_generate, rollout_rule_save
    from tests.factories import AccountFactory, PersonFactory

    a = beneficiary(world.person_a)
    b = beneficiary(world.person_b)
    a2 = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="甲二")
    )
    AccountFactory(person=a2, bank=world.bank_b)
    village = beneficiary(
        PersonFactory(region=world.region, employer=None, township=world.town_a, name="乡甲"),
        BenefitCategory.RESIDENT_PENSIONER,
    )
    AccountFactory(person=village, bank=world.bank_a)
    on_card = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="已用卡")
    )
    AccountFactory(person=on_card, kind=PaymentAccount.Kind.CARD, bank=world.bank_a)
    cadre = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="离休"),
        BenefitCategory.RETIRED_CADRE,
    )
    rollout_rule_save(
        actor=world.supervisor, category=BenefitCategory.RETIRED_CADRE, pays_from=201801, exempt=True
    )
    # The card system as the centre compared it: 甲 and 乙 have activated cards, 甲二 a card not yet
    # activated, the villager none. A unit may confirm "switchable" only for an activated card.
    compare_cards(
        world,
        [
            card_row(a, account=NEW_ACCOUNT),
            card_row(b, card_no="B12345678", account=B_ACCOUNT),
            card_row(a2, card_no="C12345678", account=A2_CARD_ACCOUNT, activated=False),
        ],
    )
    forms = forms_generate(actor=world.centre_clerk, period=period)
    return {"a": a, "b": b, "a2": a2, "village": village, "on_card": on_card, "cadre": cadre, "forms": forms}


SWITCH = "已核，金融功能已开通，可更换"
NOT_NOW = "暂不能更换"
NEW_ACCOUNT = "6228480000000000018"
B_ACCOUNT = "6228480000000000026"
A2_CARD_ACCOUNT = "6228480000000000034"


def compare_cards(world: Any, rows: list[list[str]]) -> Any:
    """A finished comparison of the region's beneficiaries with a card-system file of these rows."""
    import tempfile

    from shebao.switching.cardsources import FileCardSource
    from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute

    with tempfile.TemporaryDirectory() as tmp:
        path = write_card_xlsx(Path(tmp) / "cards.xlsx", rows)
        extract = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
        run = comparison_create(
            region=world.region, source_description=path.name, actor=world.centre_clerk, extract=extract
        )
        return comparison_execute(run=run, actor=world.centre_clerk)


def downloaded_rows(client: Any, user: Any, form: Any) -> list[list[Any]]:
    from django.urls import reverse

    client.force_login(user)
    response = client.get(reverse("switching:form_download", args=[form.pk]))
    return [list(r) for r in read_xlsx(b"".join(response.streaming_content))]


def fill(rows: list[list[Any]], answers: dict[str, tuple[str, str, str]]) -> list[list[Any]]:
    """answers: name -> (result, new account, remark), as the unit clerk types them."""
    for row in rows[3:]:
        result, account, remark = answers.get(row[2], ("", "", ""))
        row[7], row[11] = result, remark
        if account:
            row[9] = account
    return rows


def upload(client: Any, form: Any, content: bytes, *, name: str = "反馈表.xlsx", scan: bool = True) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    files = {"data_file": SimpleUploadedFile(name, content)}
    if scan:
        files["scan_file"] = SimpleUploadedFile("盖章.pdf", PDF_SCAN, content_type="application/pdf")
    return client.post(reverse("switching:form_upload", args=[form.pk]), files)


def write_filled_ods(rows: list[list[Any]]) -> bytes:
    """The form as LibreOffice Calc would save it (OpenDocument spreadsheet, cells as text)."""
    import zipfile
    from xml.sax.saxutils import escape

    body = []
    for row in rows:
        cells = "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'
            if v not in (None, "")
            else "<table:table-cell/>"
            for v in row
        )
        body.append(f"<table:table-row>{cells}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="核实反馈表">'
        + "".join(body)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()
