"""Tests of the people app. The helpers below write the spreadsheet formats an import accepts.

xlsx comes from xlsxwriter. No library here writes .ods or .xls, and LibreOffice is not on the CI
machine, so both are built by hand: an .ods is a zip with a mimetype entry and content.xml; an .xls
is a BIFF8 workbook stream (BOF, BOUNDSHEET, SST, LABELSST/NUMBER records) inside a minimal OLE2
compound file. Both hold just enough for calamine to read the first sheet.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

Rows = Sequence[Sequence[Any]]


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8") -> Path:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Rows) -> Path:
    """Strings as text cells, int/float as number cells (as a clerk's Excel would store them)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    sheet = workbook.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value not in ("", None):
                sheet.write_string(r, c, str(value))
    workbook.close()
    return path


def write_ods(path: Path, rows: Rows) -> Path:
    cells_xml = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, int | float):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
                )
            elif value in ("", None):
                cells.append("<table:table-cell/>")
            else:
                cells.append(
                    f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'
                )
        cells_xml.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f"{''.join(cells_xml)}"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(dt: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x06))


def _biff8_workbook(rows: Rows) -> bytes:
    strings: list[str] = []
    index: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                cells.append(_record(0x0203, struct.pack("<HHHd", r, c, 0, float(value))))
            elif value not in ("", None):
                text = str(value)
                if text not in index:
                    index[text] = len(strings)
                    strings.append(text)
                cells.append(_record(0x00FD, struct.pack("<HHHI", r, c, 0, index[text])))
    width = max((len(row) for row in rows), default=0)
    sheet = (
        _bof(0x0010)
        + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + b"".join(cells)
        + _record(0x000A)
    )
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )
    name = "Sheet1".encode("utf-16-le")

    def globals_part(sheet_offset: int) -> bytes:
        boundsheet = struct.pack("<IBBBB", sheet_offset, 0, 0, len("Sheet1"), 1) + name
        return (
            _bof(0x0005)
            + _record(0x0042, struct.pack("<H", 1200))
            + _record(0x0085, boundsheet)
            + _record(0x00FC, sst)
            + _record(0x000A)
        )

    head = globals_part(0)
    return globals_part(len(head)) + sheet


def write_xls(path: Path, rows: Rows) -> Path:
    """A BIFF8 .xls: the workbook stream in regular 512-byte sectors, one directory sector, one FAT sector."""
    stream = _biff8_workbook(rows)
    size = len(stream)
    data = stream.ljust(max(4096, -(-size // 512) * 512), b"\0")  # >= 4096 keeps it out of the mini stream
    n = len(data) // 512
    end, free, fat_mark, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [i + 1 for i in range(n - 1)] + [end, end, fat_mark]
    fat_sector = struct.pack("<128I", *(fat + [free] * (128 - len(fat))))

    def entry(name: str, kind: int, child: int, start: int, length: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", no_stream, no_stream, child)
            + b"\0" * 16
            + struct.pack("<I", 0)
            + b"\0" * 16
            + struct.pack("<II", start, length)
            + b"\0" * 4
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry("Workbook", 2, no_stream, 0, len(data))
        + entry("", 0, no_stream, 0, 0)
        + entry("", 0, no_stream, 0, 0)
    )
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, n, 0, 4096, end, 0, end, 0)
        + struct.pack("<109I", n + 1, *([free] * 108))
    )
    path.write_bytes(header + data + directory + fat_sector)
    return path
