"""Bank file layouts: a registry by name. Each bank's `file_layout` names one.

A layout renders a disbursement file from header facts and detail rows, and (if it can) parses the
bank's return file into rows mapped onto the one failure taxonomy (`FailureReason`). Other apps or
deployments add a bank's own layout with `register_layout(MyLayout())`.
"""

from __future__ import annotations

from shebao.core.errors import ValidationError
from shebao.payments.layouts.base import (
    DetailRow,
    FileHeader,
    Layout,
    ReturnFileRefused,
    ReturnHeader,
    ReturnRow,
)

LAYOUTS: dict[str, Layout] = {}


def register_layout(layout: Layout) -> None:
    if layout.name in LAYOUTS and type(LAYOUTS[layout.name]) is not type(layout):
        raise ValueError(f"layout {layout.name!r} is already registered")
    LAYOUTS[layout.name] = layout


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValidationError(f"未知的代发文件格式“{name}”，请在银行信息中改为已支持的格式") from None


def _register_builtins() -> None:
    from shebao.payments.layouts.csv_v1 import CsvV1Layout
    from shebao.payments.layouts.txt_v1 import TxtV1Layout
    from shebao.payments.layouts.xlsx_v1 import XlsxV1Layout

    for layout in (TxtV1Layout(), CsvV1Layout(), XlsxV1Layout()):
        register_layout(layout)


_register_builtins()

__all__ = [
    "LAYOUTS",
    "DetailRow",
    "FileHeader",
    "Layout",
    "ReturnFileRefused",
    "ReturnHeader",
    "ReturnRow",
    "get_layout",
    "register_layout",
]
