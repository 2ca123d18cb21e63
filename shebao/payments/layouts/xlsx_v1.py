"""An xlsx layout for banks that take a spreadsheet: a control block, then one row per payment.

The bank's return file (回盘) is the same workbook with the result filled in: the control block
gains 成功笔数, 成功金额, 失败笔数, 失败金额 after 总金额, and each detail row gains 处理结果 (0 paid,
1 failed), 原因代码 (the txt-v1 codes: 00, 01…08, 99) and 原因说明. It is read with calamine and checked
exactly like a txt-v1 return file (same header and line rules, same totals and line matching).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import xlsxwriter

from shebao.payments.layouts.base import (
    DetailRow,
    FileHeader,
    Layout,
    ReturnFileRefused,
    ReturnHeader,
    ReturnRow,
    ReturnSource,
    check_batch_no,
    format_amount,
    source_bytes,
)
from shebao.payments.layouts.txt_v1 import RecordLayout

# A fixed document date keeps the bytes identical on every rendering (xlsxwriter stores it in the zip).
_FIXED_CREATED = dt.datetime(2000, 1, 1)

HEADERS = ["序号", "银行账号", "户名", "金额", "证件类型", "证件号码", "待遇代码", "所属期"]
RETURN_CONTROL = [
    "批次号",
    "业务日期",
    "付款单位编号",
    "总笔数",
    "总金额",
    "成功笔数",
    "成功金额",
    "失败笔数",
    "失败金额",
]
RETURN_HEADERS = [*HEADERS, "处理结果", "原因代码", "原因说明"]
_AMOUNT_COLUMNS = {"总金额", "成功金额", "失败金额", "金额"}


def _text(value: Any, *, money: bool = False) -> str:
    """A cell as the text the checks expect. A bank's clerk may have typed numbers: whole floats lose
    their ".0", and a money cell typed as a number gets its two decimals (never rounded: 12.345 stays
    wrong and is refused by the amount check)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float | int):
        if money:
            try:
                d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            except InvalidOperation:
                return repr(value)
            return f"{d:.2f}" if d == d.quantize(Decimal("0.01")) else str(d)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    return str(value).strip()


def _is_reader_failure(exc: BaseException) -> bool:
    """calamine's errors, and the Rust panics a damaged file can raise (PanicException is a BaseException)."""
    from python_calamine import CalamineError

    return (
        isinstance(exc, CalamineError | OSError | ValueError | IndexError)
        or type(exc).__name__ == "PanicException"
    )


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

    reads_returns = True

    def iter_return(self, data: ReturnSource) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        """The control block (a bad one is refused at once) and every detail row, a ReturnRow or a
        string naming what is wrong with that row (by its row number in the spreadsheet)."""
        rows = self._sheet_rows(source_bytes(data))
        if len(rows) < 2 or [_text(c) for c in rows[0][: len(RETURN_CONTROL)]] != RETURN_CONTROL:
            raise ReturnFileRefused([f"第1行应为回盘控制信息表头：{'、'.join(RETURN_CONTROL)}"])
        control = [
            _text(c, money=name in _AMOUNT_COLUMNS) for name, c in zip(RETURN_CONTROL, rows[1], strict=False)
        ]
        control += [""] * (len(RETURN_CONTROL) - len(control))
        header = RecordLayout._return_header((2, ["H", *control]))
        start = next(
            (i for i, r in enumerate(rows[2:], start=2) if [_text(c) for c in r[:1]] == [RETURN_HEADERS[0]]),
            None,
        )
        if start is None or [_text(c) for c in rows[start][: len(RETURN_HEADERS)]] != RETURN_HEADERS:
            raise ReturnFileRefused([f"缺少回盘明细表头：{'、'.join(RETURN_HEADERS)}"])
        return header, self._details(rows, start + 1)

    @staticmethod
    def _details(rows: list[list[Any]], first: int) -> Iterator[ReturnRow | str]:
        for index in range(first, len(rows)):
            cells = rows[index]
            texts = [_text(c, money=name == "金额") for name, c in zip(RETURN_HEADERS, cells, strict=False)]
            if not any(texts) and not any(_text(c) for c in cells[len(RETURN_HEADERS) :]):
                continue  # an empty row (Excel keeps formatted rows)
            texts += [""] * (len(RETURN_HEADERS) - len(texts))
            seq, account_no, account_name, amount, _id_type, _id_no, _code, _period, result, reason, why = (
                texts
            )
            row_no = index + 1
            if len(cells) > len(RETURN_HEADERS) and any(_text(c) for c in cells[len(RETURN_HEADERS) :]):
                yield f"第{row_no}行：明细应有{len(RETURN_HEADERS)}列"
                continue
            yield RecordLayout._detail(
                row_no, ["D", seq, account_no, account_name, amount, result, reason, why]
            )

    @staticmethod
    def _sheet_rows(data: bytes) -> list[list[Any]]:
        from python_calamine import CalamineWorkbook, PasswordError

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except PasswordError:
            raise ReturnFileRefused(["回盘文件已设置密码，请取消密码后重新上传"]) from None
        except BaseException as exc:
            if not _is_reader_failure(exc):
                raise
            raise ReturnFileRefused(["回盘文件不是有效的xlsx工作簿"]) from None
        try:
            if not workbook.sheet_names:
                raise ReturnFileRefused(["回盘文件中没有工作表"])
            # Rows from row 1 of the sheet, so index + 1 is the row number the bank's clerk sees.
            return list(workbook.get_sheet_by_index(0).to_python(skip_empty_area=False))
        except BaseException as exc:
            if isinstance(exc, ReturnFileRefused) or not _is_reader_failure(exc):
                raise
            raise ReturnFileRefused([f"读取回盘工作表失败，文件可能已损坏：{exc}"]) from None
        finally:
            workbook.close()
