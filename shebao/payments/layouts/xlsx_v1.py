"""An xlsx layout for banks that take a spreadsheet: a control block, then one row per payment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

import xlsxwriter

from shebao.payments.layouts.base import DetailRow, FileHeader, Layout, check_batch_no, format_amount

# A fixed document date keeps the bytes identical on every rendering (xlsxwriter stores it in the zip).
_FIXED_CREATED = dt.datetime(2000, 1, 1)

HEADERS = ["序号", "银行账号", "户名", "金额", "证件类型", "证件号码", "待遇代码", "所属期"]


class XlsxV1Layout(Layout):
    name = "xlsx-v1"
    label = "Excel格式（xlsx）"
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def render(self, header: FileHeader, rows: Iterable[DetailRow], out: BinaryIO) -> tuple[int, Decimal]:
        check_batch_no(header.batch_no)
        materialised = list(rows)
        count = len(materialised)
        total = sum((r.amount for r in materialised), Decimal("0.00"))
        wb = xlsxwriter.Workbook(
            out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
        )
        wb.set_properties({"created": _FIXED_CREATED})
        ws = wb.add_worksheet("代发明细")
        text = wb.add_format({"num_format": "@"})
        bold = wb.add_format({"bold": True})
        ws.write_row(0, 0, ["批次号", "业务日期", "付款单位编号", "总笔数", "总金额"], bold)
        ws.write_row(
            1,
            0,
            [
                header.batch_no,
                header.business_date.strftime("%Y%m%d"),
                header.payer_code,
                str(count),
                f"{total:.2f}",
            ],
            text,
        )
        ws.write_row(3, 0, HEADERS, bold)
        for i, r in enumerate(materialised, start=4):
            # Every cell is text: 18-digit IDs and 19-digit accounts would lose digits as numbers.
            ws.write_row(
                i,
                0,
                [
                    str(r.seq),
                    r.account_no,
                    r.account_name,
                    format_amount(r.amount),
                    r.id_type,
                    r.id_no,
                    r.benefit_code,
                    str(r.period),
                ],
                text,
            )
        wb.close()
        return count, total
