"""The reference layout `txt-v1` (/work/shared/formats/bank-txt-v1.md): GBK, CRLF, `|`-separated.

Disbursement:  H|batch_no|business_date|payer_code|total_count|total_amount
               D|seq|account_no|account_name|amount|id_type|id_no|benefit_code|period
Return:        H|batch_no|business_date|payer_code|total_count|total_amount|ok_count|ok_amount|fail_count|fail_amount
               D|seq|account_no|account_name|amount|result|reason_code|reason_text
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import BinaryIO

from shebao.core.errors import ValidationError
from shebao.core.values.money import from_fen
from shebao.payments.layouts.base import (
    DetailRow,
    FileHeader,
    Layout,
    Record,
    ReturnFileRefused,
    ReturnHeader,
    ReturnRow,
    ReturnSource,
    check_batch_no,
    copy_spool,
    fen_text,
    parse_amount,
    parse_count,
    record_of,
    source_stream,
    spool,
)
from shebao.payments.models import FailureReason

REASONS: dict[str, str] = {
    "01": FailureReason.NAME_MISMATCH,
    "02": FailureReason.NO_ACCOUNT,
    "03": FailureReason.CLOSED,
    "04": FailureReason.LOST,
    "05": FailureReason.FROZEN,
    "06": FailureReason.CARD_REPLACING,
    "07": FailureReason.NO_CREDIT,
    "08": FailureReason.ABNORMAL,
    "99": FailureReason.OTHER,
}

_FORBIDDEN = ("|", "\r", "\n")
RENDER_CHUNK = 5000
# A return file is read in blocks of about this many bytes (cut at a line end): memory stays flat.
READ_BLOCK = 1024 * 1024

# A detail line that passes every check `_detail` makes (8 fields, seq 1…, two-decimal amount, a paid
# line with 00 or a failed one with a known code). A line that does not match goes through `_detail`,
# which names the problem; the two must accept exactly the same lines.
_DETAIL_OK = re.compile(
    r"D\|([1-9][0-9]{0,9})\|([^|]*)\|([^|]*)\|((0|[1-9][0-9]{0,11})\.([0-9]{2}))"
    r"\|(?:0\|(00)|1\|(0[1-8]|99))\|([^|]*)"
)


class RecordLayout(Layout):
    """H/D record files. Subclasses say how one record becomes bytes and how bytes become records."""

    field_label = {
        "account_name": "户名",
        "account_no": "账号",
        "id_no": "证件号码",
        "payer_code": "付款单位编号",
    }

    def encode_record(self, fields: list[str], *, what: str) -> bytes:
        raise NotImplementedError

    def iter_records(self, data: ReturnSource) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of each record, read as the file is consumed."""
        raise NotImplementedError

    def begin(self, out: BinaryIO) -> None:
        """Bytes before the header (a BOM, for instance)."""

    def render(self, header: FileHeader, rows: Iterable[DetailRow], out: BinaryIO) -> tuple[int, Decimal]:
        return self.render_records(header, (record_of(row) for row in rows), out)

    def render_records(
        self, header: FileHeader, records: Iterable[Record], out: BinaryIO
    ) -> tuple[int, Decimal]:
        """Detail lines go to a spool in chunks (the header needs their count and total), then the
        header and the spool to `out`; nothing reaches `out` if a line cannot be written."""
        check_batch_no(header.batch_no)
        count = total = 0
        buf = spool()
        try:
            source = iter(records)
            while chunk := list(islice(source, RENDER_CHUNK)):
                first, count = count + 1, count + len(chunk)
                if [r[0] for r in chunk] != list(range(first, count + 1)):
                    at, bad = next((i, r[0]) for i, r in enumerate(chunk, start=first) if r[0] != i)
                    raise ValidationError(f"第{at}笔的序号为{bad}，序号必须从1起连续")
                if min(r[3] for r in chunk) <= 0:
                    fen = min(r[3] for r in chunk)
                    raise ValidationError(f"金额{from_fen(fen)}不是正的两位小数")
                total += sum(r[3] for r in chunk)
                buf.write(self.encode_details(chunk))
            head = [
                "H",
                header.batch_no,
                header.business_date.strftime("%Y%m%d"),
                header.payer_code,
                str(count),
                fen_text(total),
            ]
            self.begin(out)
            out.write(self.encode_record(head, what="文件头"))
            copy_spool(buf, out)
        finally:
            buf.close()
        return count, from_fen(total)

    def encode_details(self, chunk: list[Record]) -> bytes:
        """A chunk of detail records as bytes, one `encode_record` each (a layout may do it faster,
        but must then give the same bytes and, for a bad line, the same error)."""
        return b"".join(
            self.encode_record(
                ["D", str(seq), account_no, name, fen_text(fen), id_type, id_no, code, str(period)],
                what=f"第{seq}笔（户名“{name}”）",
            )
            for seq, account_no, name, fen, id_no, code, period, id_type in chunk
        )

    def iter_return(self, data: ReturnSource) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        """The header now (a bad one is refused at once) and the detail lines as they are read: a
        ReturnRow, or a string naming what is wrong with that line. Memory does not grow with the file."""
        records = self.iter_records(data)
        header = self._return_header(next(records, None))
        return header, (self._detail(line_no, rec) for line_no, rec in records)

    @staticmethod
    def _return_header(first: tuple[int, list[str]] | None) -> ReturnHeader:
        if first is None or first[1][:1] != ["H"]:
            raise ReturnFileRefused(["第1行不是文件头（H）"])
        h = first[1]
        if len(h) != 10:
            raise ReturnFileRefused([f"第1行：文件头应有10个字段，实有{len(h)}个"])
        counts = [parse_count(h[i]) for i in (4, 6, 8)]
        amounts = [parse_amount(h[i]) for i in (5, 7, 9)]
        if None in counts or None in amounts:
            raise ReturnFileRefused(["第1行：文件头的笔数或金额格式错误（金额须为两位小数）"])
        return ReturnHeader(
            batch_no=h[1],
            business_date=h[2],
            payer_code=h[3],
            total_count=counts[0],  # type: ignore[arg-type]
            total_amount=amounts[0],  # type: ignore[arg-type]
            ok_count=counts[1],  # type: ignore[arg-type]
            ok_amount=amounts[1],  # type: ignore[arg-type]
            fail_count=counts[2],  # type: ignore[arg-type]
            fail_amount=amounts[2],  # type: ignore[arg-type]
        )

    @staticmethod
    def _detail(line_no: int, rec: list[str]) -> ReturnRow | str:
        if rec[:1] != ["D"] or len(rec) != 8:
            return f"第{line_no}行：明细应为以D开头的8个字段"
        _, seq_s, account_no, account_name, amount_s, result, code, text = rec
        seq, amount = parse_count(seq_s), parse_amount(amount_s)
        if seq is None or seq == 0:
            return f"第{line_no}行：序号“{seq_s}”无效"
        if amount is None:
            return f"第{line_no}行（序号{seq}）：金额“{amount_s}”格式错误"
        if result == "0":
            if code != "00":
                return f"第{line_no}行（序号{seq}）：成功的明细原因代码应为00，实为“{code}”"
            failure = ""
        elif result == "1":
            failure = REASONS.get(code, "")
            if not failure:
                return f"第{line_no}行（序号{seq}）：未知的失败原因代码“{code}”"
        else:
            return f"第{line_no}行（序号{seq}）：处理结果“{result}”应为0或1"
        return ReturnRow(
            line_no=line_no,
            seq=seq,
            account_no=account_no,
            account_name=account_name,
            amount=amount,
            paid=result == "0",
            reason_code=code,
            reason_text=text[:200],
            failure=failure,
            fen=int(amount * 100),  # exactly two decimals (AMOUNT_RE)
        )

    def parse_return(self, data: bytes) -> tuple[ReturnHeader, list[ReturnRow]]:
        header, items = self.iter_return(data)
        rows: list[ReturnRow] = []
        problems: list[str] = []
        for item in items:
            if isinstance(item, str):
                problems.append(item)
            else:
                rows.append(item)
        if problems:
            raise ReturnFileRefused(problems)
        return header, rows


class TxtV1Layout(RecordLayout):
    name = "txt-v1"
    label = "标准文本格式（txt-v1，GBK）"
    extension = "txt"
    content_type = "text/plain; charset=GBK"
    reads_returns = True

    def encode_record(self, fields: list[str], *, what: str) -> bytes:
        line = "|".join(fields)
        # One scan of the joined line; the per-field search only runs to name the culprit.
        if line.count("|") != len(fields) - 1 or "\r" in line or "\n" in line:
            bad = next(v for v in fields if any(c in v for c in _FORBIDDEN))
            raise ValidationError(f"{what}：字段“{bad}”含有“|”或换行符，不能写入代发文件")
        try:
            return (line + "\r\n").encode("gbk")
        except UnicodeEncodeError as exc:
            bad = line[exc.start : exc.end]
            # Never let the codec substitute "?": the bank would credit a different name or reject it.
            raise ValidationError(
                f"{what}：含GBK无法表示的字符“{bad}”，文件未生成；请与银行核实可用写法并登记户名白名单后处理该笔"
            ) from None

    def encode_details(self, chunk: list[Record]) -> bytes:
        # The whole chunk is formatted as one string, checked with three counts and encoded once.
        # Any doubt (a separator, a line break, a character GBK lacks) goes through the per-line path,
        # which names the line.
        text = "".join(
            [
                f"D|{seq}|{account_no}|{name}|{fen // 100}.{fen % 100:02d}|{id_type}|{id_no}|{code}|{period}\r\n"
                for seq, account_no, name, fen, id_no, code, period, id_type in chunk
            ]
        )
        n = len(chunk)
        if text.count("|") != 8 * n or text.count("\r") != n or text.count("\n") != n:
            return super().encode_details(chunk)
        try:
            return text.encode("gbk")
        except UnicodeEncodeError:
            return super().encode_details(chunk)

    def iter_records(self, data: ReturnSource) -> Iterator[tuple[int, list[str]]]:
        for line_no, line in self._iter_lines(data):
            yield line_no, line.split("|")

    def iter_return(self, data: ReturnSource) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        lines = self._iter_lines(data)
        first = next(lines, None)
        header = self._return_header(None if first is None else (first[0], first[1].split("|")))
        return header, self._details(lines)

    def _details(self, lines: Iterator[tuple[int, str]]) -> Iterator[ReturnRow | str]:
        """Detail rows of the lines. A line the fast pattern accepts is built straight from its groups
        (amount in fen, no Decimal arithmetic); any other goes through `_detail`, which names the problem."""
        fullmatch = _DETAIL_OK.fullmatch
        make = ReturnRow._make
        reasons = REASONS
        for line_no, line in lines:
            m = fullmatch(line)
            if m is None:
                yield self._detail(line_no, line.split("|"))
                continue
            seq, account_no, account_name, amount, yuan, cents, ok, code, text = m.groups()
            fen = int(yuan) * 100 + int(cents)
            if ok:
                row = (
                    line_no,
                    int(seq),
                    account_no,
                    account_name,
                    Decimal(amount),
                    True,
                    ok,
                    text[:200],
                    "",
                    fen,
                )
            else:
                failure = reasons[code]
                row = (
                    line_no,
                    int(seq),
                    account_no,
                    account_name,
                    Decimal(amount),
                    False,
                    code,
                    text[:200],
                    failure,
                    fen,
                )
            yield make(row)

    def _iter_lines(self, data: ReturnSource) -> Iterator[tuple[int, str]]:
        # Read in blocks cut after a LF: a GBK trail byte is never 0x0A (nor 0x0D), so cutting and
        # decoding the bytes there is the same as decoding the file line by line. A block whose lines
        # all decode and all end in CRLF is split at once; any other goes line by line, which names
        # the first bad line.
        stream = source_stream(data)
        line_no = 0
        rest = b""
        while block := stream.read(READ_BLOCK):
            if rest:
                block, rest = rest + block, b""
            cut = block.rfind(b"\n") + 1
            if cut < len(block):
                block, rest = block[:cut], block[cut:]
            if not block:
                continue
            try:
                text = block.decode("gbk")
            except UnicodeDecodeError:
                text = ""
            n = text.count("\n")
            if text and text.count("\r") == n and text.count("\r\n") == n:
                lines = text.split("\r\n")
                lines.pop()  # after the last CRLF
                for line in lines:
                    line_no += 1
                    yield line_no, line
            else:
                pieces = block.split(b"\n")
                pieces.pop()  # after the last LF
                for raw in pieces:
                    line_no += 1
                    yield line_no, self._line(line_no, raw + b"\n")
        if rest:  # the last line without a line end, which banks often send; it is accepted
            yield line_no + 1, self._line(line_no + 1, rest)

    @staticmethod
    def _line(line_no: int, raw: bytes) -> str:
        bare_lf = False
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith(b"\n"):
            raw, bare_lf = raw[:-1], True
        try:
            line = raw.decode("gbk")
        except UnicodeDecodeError:
            raise ReturnFileRefused([f"第{line_no}行：不是GBK编码"]) from None
        if bare_lf or "\r" in line:
            raise ReturnFileRefused([f"第{line_no}行：行尾应为CRLF"])
        return line
