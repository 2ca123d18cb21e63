"""List exporters (after pretix's ListExporter): a subclass yields rows; the base writes xlsx or CSV.

Sheets are written with xlsxwriter's constant_memory mode and CSV through defusedcsv, so a cell
that starts with = + - @ never becomes a formula in Excel, WPS or LibreOffice.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from defusedcsv import csv
from django.http import FileResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that would be a formula gets a leading apostrophe (shown as plain text in every office suite)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class ListExporter:
    title: str = "导出"
    sheet_name: str = "Sheet1"

    def headers(self) -> Sequence[str]:
        raise NotImplementedError

    def rows(self) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    def column_widths(self) -> Sequence[int] | None:
        return None

    def write_xlsx(self, target: Path | io.BytesIO) -> int:
        wb = xlsxwriter.Workbook(
            target if isinstance(target, io.BytesIO) else str(target),
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "in_memory": False},
        )
        ws = wb.add_worksheet(self.sheet_name)
        head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "align": "center"})
        text = wb.add_format({"num_format": "@"})
        money = wb.add_format({"num_format": "0.00"})
        headers = list(self.headers())
        widths = self.column_widths() or [16] * len(headers)
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        ws.write_row(0, 0, headers, head)
        ws.freeze_panes(1, 0)
        n = 0
        from decimal import Decimal

        for n, row in enumerate(self.rows(), start=1):
            for c, value in enumerate(row):
                if isinstance(value, Decimal):
                    ws.write_number(n, c, float(value), money)
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(n, c, value)
                elif value is None:
                    continue
                else:
                    # IDs and account numbers stay text: 18 digits would lose precision as numbers.
                    ws.write_string(n, c, str(safe_cell(value)), text)
        wb.close()
        return n

    def write_csv(self, target: io.TextIOBase) -> int:
        writer = csv.writer(target)
        writer.writerow(self.headers())
        count = 0
        for row in self.rows():
            writer.writerow(["" if v is None else v for v in row])
            count += 1
        return count

    def xlsx_response(self, filename: str) -> FileResponse:
        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
        tmp.close()
        self.write_xlsx(Path(tmp.name))
        handle = open(tmp.name, "rb")  # noqa: SIM115
        Path(tmp.name).unlink()  # the open handle keeps the data until the response is sent
        return FileResponse(handle, as_attachment=True, filename=filename)
