"""The 核实反馈表 as an xlsx a unit clerk fills in Excel, WPS or LibreOffice.

Layout (kept in one place, the reader in returns.py uses the same constants):
row 1 title with the deadline; row 2 the form number (identifies the form on return); row 3 headers;
data from row 4. The sheet is protected: the centre's columns are locked, the unit's are not.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import xlsxwriter
from django.conf import settings

from shebao.core.exporters import safe_cell
from shebao.core.values.masking import mask_account, mask_ssn
from shebao.switching.models import VerificationForm, VerificationLine

TITLE_ROW = 0
CODE_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
CODE_CELL = (CODE_ROW, 1)
CODE_RE = re.compile(r"HF\d{6}[UT]\d{6}")

# (header, locked, width). The first seven are what the centre sent and must come back unchanged.
COLUMNS: tuple[tuple[str, bool, int], ...] = (
    ("序号", True, 6),
    ("社会保障号码", True, 21),
    ("姓名", True, 10),
    ("现开户银行", True, 16),
    ("现银行账号", True, 22),
    ("现账户户名", True, 10),
    ("社保卡号", True, 12),
    ("核实结果", False, 30),
    ("新开户银行", False, 16),
    ("新银行账号", False, 22),
    ("新账户户名", False, 10),
    ("备注", False, 30),
)
HEADERS = tuple(c[0] for c in COLUMNS)
PROTECTED = tuple(i for i, c in enumerate(COLUMNS) if c[1])
COL_RESULT, COL_NEW_BANK, COL_NEW_ACCOUNT, COL_NEW_NAME, COL_REMARK = 7, 8, 9, 10, 11
RESULT_LABELS = tuple(label for _, label in VerificationLine.Result.choices)


def protected_values(line: VerificationLine, *, full_ids: bool) -> tuple[str, ...]:
    """What the locked columns of a line's row hold, as text. Roles that do not see full identifiers on
    screen (units, townships) get them masked in the file too; the row is identified by its 序号."""
    ssn = line.ssn if full_ids else mask_ssn(line.ssn)
    account = line.account_no if full_ids else mask_account(line.account_no)
    return (str(line.row_no), ssn, line.name, line.bank_name, account, line.account_name, line.card_no)


def form_title(form: VerificationForm) -> str:
    due = f"请于{form.deadline:%Y年%m月%d日}前报送" if form.deadline else "请于下载次月15日前报送"
    return f"{settings.SHEBAO_CENTRE_NAME} 退休人员社会保障卡核实反馈表（{form.org_label}：{form.org_name}，{due}）"


def write_form_xlsx(
    form: VerificationForm, target: Path | io.BytesIO, *, card_bank_names: dict[str, str], full_ids: bool
) -> int:
    """Write the form; returns the number of person rows. Memory stays flat (constant_memory).

    With `full_ids` off the SSN and the current account are masked and the card account found by the
    comparison is left out: the unit verifies it from the card; left empty on return, it is taken as found.
    """
    wb = xlsxwriter.Workbook(
        target if isinstance(target, io.BytesIO) else str(target),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    ws = wb.add_worksheet("核实反馈表")
    title = wb.add_format(
        {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter", "text_wrap": True}
    )
    meta = wb.add_format({"num_format": "@"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DCE6F1", "border": 1, "align": "center", "text_wrap": True}
    )
    locked = wb.add_format({"num_format": "@", "border": 1, "bg_color": "#F2F2F2", "locked": True})
    unlocked = wb.add_format({"num_format": "@", "border": 1, "locked": False})
    for index, (_, _, width) in enumerate(COLUMNS):
        ws.set_column(index, index, width)
    ws.set_row(TITLE_ROW, 36)
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, len(COLUMNS) - 1, form_title(form), title)
    ws.write_string(CODE_ROW, 0, "表单编号", meta)
    ws.write_string(*CODE_CELL, form.code, meta)
    ws.write_string(CODE_ROW, 3, "下发期", meta)
    ws.write_string(CODE_ROW, 4, f"{form.period_issued // 100}年{form.period_issued % 100:02d}月", meta)
    ws.write_string(CODE_ROW, 7, "核实结果请从下拉列表选择；选“暂不能更换”须在备注中注明原因", meta)
    ws.write_row(HEADER_ROW, 0, HEADERS, head)
    ws.freeze_panes(FIRST_DATA_ROW, 3)
    row = FIRST_DATA_ROW - 1
    lines = form.lines.order_by("row_no").values_list(
        "row_no",
        "ssn",
        "name",
        "bank_name",
        "account_no",
        "account_name",
        "card_no",
        "card_bank_code",
        "card_account",
    )
    for (
        row_no,
        ssn,
        name,
        bank_name,
        account_no,
        account_name,
        card_no,
        card_bank,
        card_account,
    ) in lines.iterator(chunk_size=2000):
        row += 1
        if not full_ids:
            ssn, account_no, card_account = mask_ssn(ssn), mask_account(account_no), ""
        sent = (str(row_no), ssn, name, bank_name, account_no, account_name, card_no)
        for col, value in enumerate(sent):
            ws.write_string(row, col, str(safe_cell(value)), locked)
        ws.write_blank(row, COL_RESULT, None, unlocked)
        ws.write_string(row, COL_NEW_BANK, str(safe_cell(card_bank_names.get(card_bank, ""))), unlocked)
        ws.write_string(row, COL_NEW_ACCOUNT, card_account, unlocked)
        ws.write_string(row, COL_NEW_NAME, str(safe_cell(name)), unlocked)
        ws.write_blank(row, COL_REMARK, None, unlocked)
    count = row - FIRST_DATA_ROW + 1
    if count > 0:
        ws.data_validation(
            FIRST_DATA_ROW,
            COL_RESULT,
            row,
            COL_RESULT,
            {
                "validate": "list",
                "source": list(RESULT_LABELS),
                "error_title": "核实结果",
                "error_message": "请从下拉列表中选择核实结果",
            },
        )
    # No password: the protection keeps honest mistakes out; the upload check catches the rest.
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(HEADER_ROW)
    ws.fit_to_pages(1, 0)
    wb.close()
    return count


def bank_names_by_code() -> dict[str, str]:
    from shebao.orgs.models import Bank

    return {code: name for code, name in Bank.objects.values_list("code", "name")}
