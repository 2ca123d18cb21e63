"""The reference layout `txt-v1` (/work/shared/formats/bank-txt-v1.md): GBK, CRLF, `|`-separated.

Disbursement:  H|batch_no|business_date|payer_code|total_count|total_amount
               D|seq|account_no|account_name|amount|id_type|id_no|benefit_code|period
Return:        H|batch_no|business_date|payer_code|total_count|total_amount|ok_count|ok_amount|fail_count|fail_amount
               D|seq|account_no|account_name|amount|result|reason_code|reason_text
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO

from shebao.core.errors import ValidationError
from shebao.payments.layouts.base import (
    DetailRow,
    FileHeader,
    Layout,
    ReturnFileRefused,
    ReturnHeader,
    ReturnRow,
    check_batch_no,
    copy_spool,
    format_amount,
    parse_amount,
    parse_count,
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

    def iter_records(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of each record, read as the file is consumed."""
        raise NotImplementedError

    def begin(self, out: BinaryIO) -> None:
        """Bytes before the header (a BOM, for instance)."""

    def render(self, header: FileHeader, rows: Iterable[DetailRow], out: BinaryIO) -> tuple[int, Decimal]:
        check_batch_no(header.batch_no)
        count, total = 0, Decimal("0.00")
        buf = spool()
        try:
            for row in rows:
                count += 1
                if row.seq != count:
                    raise ValidationError(f"第{count}笔的序号为{row.seq}，序号必须从1起连续")
                fields = [
                    "D",
                    str(row.seq),
                    row.account_no,
                    row.account_name,
                    format_amount(row.amount),
                    row.id_type,
                    row.id_no,
                    row.benefit_code,
                    str(row.period),
                ]
                buf.write(self.encode_record(fields, what=f"第{row.seq}笔（户名“{row.account_name}”）"))
                total += row.amount
            head = [
                "H",
                header.batch_no,
                header.business_date.strftime("%Y%m%d"),
                header.payer_code,
                str(count),
            ]
            head.append(f"{total:.2f}")
            self.begin(out)
            out.write(self.encode_record(head, what="文件头"))
            copy_spool(buf, out)
        finally:
            buf.close()
        return count, total

    def iter_return(self, data: bytes) -> tuple[ReturnHeader, Iterator[ReturnRow | str]]:
        """The header now (a bad one is refused at once) and the detail lines as they are read: a
        ReturnRow, or a string naming what is wrong with that line. Memory does not grow with the file."""
        records = self.iter_records(data)
        first = next(records, None)
        if first is None or first[1][:1] != ["H"]:
            raise ReturnFileRefused(["第1行不是文件头（H）"])
        h = first[1]
        if len(h) != 10:
            raise ReturnFileRefused([f"第1行：文件头应有10个字段，实有{len(h)}个"])
        counts = [parse_count(h[i]) for i in (4, 6, 8)]
        amounts = [parse_amount(h[i]) for i in (5, 7, 9)]
        if None in counts or None in amounts:
            raise ReturnFileRefused(["第1行：文件头的笔数或金额格式错误（金额须为两位小数）"])
        header = ReturnHeader(
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
        return header, (self._detail(line_no, rec) for line_no, rec in records)

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

    def iter_records(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        # Line by line: a GBK trail byte is never 0x0A, so splitting the bytes on LF is safe.
        for line_no, raw in enumerate(io.BytesIO(data), start=1):
            bare_lf = False
            if raw.endswith(b"\r\n"):
                raw = raw[:-2]
            elif raw.endswith(b"\n"):
                raw, bare_lf = raw[:-1], True
            # else: the last line without a line end, which banks often send; it is accepted.
            try:
                line = raw.decode("gbk")
            except UnicodeDecodeError:
                raise ReturnFileRefused([f"第{line_no}行：不是GBK编码"]) from None
            if bare_lf or "\r" in line:
                raise ReturnFileRefused([f"第{line_no}行：行尾应为CRLF"])
            yield line_no, line.split("|")
