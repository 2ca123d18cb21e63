"""A CSV layout with the same H/D records as txt-v1, in UTF-8 (with BOM, for Excel) and commas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from shebao.core.errors import ValidationError
from shebao.payments.layouts.base import ReturnFileRefused, ReturnSource, source_stream
from shebao.payments.layouts.txt_v1 import RecordLayout

BOM = "\ufeff".encode()


class CsvV1Layout(RecordLayout):
    name = "csv-v1"
    label = "CSV格式（UTF-8）"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    reads_returns = True

    def begin(self, out: BinaryIO) -> None:
        out.write(BOM)

    def encode_record(self, fields: list[str], *, what: str) -> bytes:
        for value in fields:
            if "\r" in value or "\n" in value:
                raise ValidationError(f"{what}：字段“{value}”含有换行符，不能写入代发文件")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(fields)
        return buf.getvalue().encode("utf-8")

    def iter_records(self, data: ReturnSource) -> Iterator[tuple[int, list[str]]]:
        text = io.TextIOWrapper(source_stream(data), encoding="utf-8-sig", newline="")  # type: ignore[type-var]
        reader = csv.reader(text)
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except UnicodeDecodeError:
            raise ReturnFileRefused(["文件不是UTF-8编码"]) from None
        except csv.Error as exc:
            raise ReturnFileRefused([f"CSV格式错误（第{reader.line_num}行附近）：{exc}"]) from None
        finally:
            text.detach()  # the caller's file stays open (another layout may read it next)
