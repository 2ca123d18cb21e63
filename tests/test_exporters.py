from __future__ import annotations

import io
from decimal import Decimal

from python_calamine import CalamineWorkbook

from shebao.core.exporters import ListExporter, safe_cell


class _Rows(ListExporter):
    def headers(self):  # type: ignore[no-untyped-def]
        return ["号码", "姓名", "金额"]

    def rows(self):  # type: ignore[no-untyped-def]
        yield ["341521198001010028", "=HYPERLINK(\"http://x\",\"点我\")", Decimal("2345.60")]
        yield ["000123", "@SUM(A1)", Decimal("0.10")]


def test_it_keeps_formula_payloads_as_plain_text_in_xlsx():  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    assert _Rows().write_xlsx(buf) == 2
    rows = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    assert rows[1][1].startswith("'=HYPERLINK")
    assert rows[2][1] == "'@SUM(A1)"


def test_it_keeps_long_ids_and_leading_zeros_as_text():  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    _Rows().write_xlsx(buf)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    assert rows[1][0] == "341521198001010028" and rows[2][0] == "000123"
    assert rows[1][2] == 2345.6


def test_it_defuses_formulas_in_csv():  # type: ignore[no-untyped-def]
    out = io.StringIO()
    _Rows().write_csv(out)
    text = out.getvalue()
    assert "'=HYPERLINK" in text or "\"'=HYPERLINK" in text
    assert safe_cell("+1") == "'+1" and safe_cell("普通") == "普通" and safe_cell(3) == 3
