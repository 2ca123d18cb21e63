"""A unit (or township) returns its filled 核实反馈表 with a scan of the stamped paper.

The whole file is checked first and every problem is reported by row and column; only a clean file is
applied, in one transaction. The same file uploaded again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.switching import actions
from shebao.switching.forms_xlsx import (
    CODE_CELL,
    CODE_RE,
    COL_NEW_ACCOUNT,
    COL_NEW_BANK,
    COL_NEW_NAME,
    COL_REMARK,
    COL_RESULT,
    FIRST_DATA_ROW,
    HEADER_ROW,
    HEADERS,
    PROTECTED,
    protected_values,
)
from shebao.switching.models import (
    AccountChange,
    ComparisonClass,
    ComparisonResult,
    ComparisonRun,
    VerificationForm,
    VerificationLine,
)
from shebao.switching.services import BankLookup, _is_form_clerk, _transition
from shebao.switching.tabular import SPREADSHEET_SUFFIXES, FileRejected, Problem, read_rows

SCAN_SIGNATURES = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
MAX_FILE_BYTES = 20 * 1024 * 1024
_RESULTS = {label: value for value, label in VerificationLine.Result.choices}
_NEEDS_ACCOUNT = {VerificationLine.Result.SWITCHABLE, VerificationLine.Result.CORRECTED}


def _read(upload: Any) -> bytes:
    data = upload.read()
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError("文件超过20MB，请压缩后再上传")
    return data


def check_scan(name: str, data: bytes) -> None:
    suffix = Path(name).suffix.lower()
    signatures = SCAN_SIGNATURES.get(suffix)
    if signatures is None:
        raise ValidationError("盖章扫描件应为 PDF、JPG 或 PNG 文件", field="scan")
    if not data.startswith(signatures):
        raise ValidationError("盖章扫描件内容与文件类型不符，请重新扫描后上传", field="scan")


def _find_code(rows: list[list[str]]) -> str:
    row, col = CODE_CELL
    if len(rows) > row and len(rows[row]) > col and CODE_RE.fullmatch(rows[row][col]):
        return rows[row][col]
    for cells in rows[:HEADER_ROW]:
        for cell in cells:
            if match := CODE_RE.search(cell):
                return match.group(0)
    return ""


def _cell(cells: list[str], col: int) -> str:
    return cells[col].strip() if col < len(cells) else ""


class ForeignFormFile(FileRejected):
    """The file is another form (of another unit, or another period): refused, and audited when it is
    another unit's — a unit holding another unit's people is worth a look."""

    def __init__(self, problems: list[Problem], *, other: VerificationForm | None):
        super().__init__(problems)
        self.other = other


class ParsedLine:
    __slots__ = ("line", "result", "remark", "bank_name", "account_no", "account_name")

    def __init__(
        self,
        line: VerificationLine,
        result: str,
        remark: str,
        bank_name: str,
        account_no: str,
        account_name: str,
    ):
        self.line = line
        self.result = result
        self.remark = remark
        self.bank_name = bank_name
        self.account_no = account_no
        self.account_name = account_name


def check_answer(
    *,
    row_no: int,
    line: VerificationLine,
    result_label: str,
    remark: str,
    bank_name: str,
    account_no: str,
    account_name: str,
    busy: bool,
    problems: list[Problem],
    card: tuple[str, str] | None = None,
) -> ParsedLine:
    """The rules of one answer, for a file row or an online row alike; problems are appended.

    `card` is what the latest comparison found for the person: (class, card bank account), or None. The
    account name must be the person's name (else the bank refuses to pay), and "switchable" means the
    card's financial function is open: only for someone the comparison found activated, into that card's
    account. An account the unit corrects goes as "corrected", which the centre clerk checks.
    """
    from shebao.core.values.bank import parse_bank_account
    from shebao.core.values.names import names_equal

    result = _RESULTS.get(result_label) or (result_label if result_label in _RESULTS.values() else None)
    if not result_label:
        problems.append(Problem(row_no, HEADERS[COL_RESULT], "请选择核实结果"))
    elif result is None:
        problems.append(
            Problem(row_no, HEADERS[COL_RESULT], f"“{result_label}”不是可选的核实结果，请从下拉列表选择")
        )
    elif result == VerificationLine.Result.NOT_SWITCHABLE and not remark:
        problems.append(
            Problem(row_no, HEADERS[COL_REMARK], "选择“暂不能更换”时须注明原因（如卧床不起、尚未办卡）")
        )
    if result in _NEEDS_ACCOUNT:
        activated = card is not None and card[0] == ComparisonClass.MATCHED_ACTIVATED
        if not account_no and result == VerificationLine.Result.SWITCHABLE:
            account_no = card[1] if activated and card is not None else line.card_account
        if not account_no:
            problems.append(Problem(row_no, HEADERS[COL_NEW_ACCOUNT], "请填写社保卡金融账号"))
        else:
            try:
                account_no = parse_bank_account(account_no).value
            except ValidationError as exc:
                problems.append(Problem(row_no, HEADERS[COL_NEW_ACCOUNT], exc.message))
        if result == VerificationLine.Result.SWITCHABLE:
            if not activated:
                found = ComparisonClass(card[0]).label if card is not None else "卡系统中未找到该人员"
                problems.append(
                    Problem(
                        row_no,
                        HEADERS[COL_RESULT],
                        f"比对结果为“{found}”，不能填“已核，金融功能已开通，可更换”；"
                        "请选择“暂不能更换”并注明原因（如尚未激活、尚未制卡）",
                    )
                )
            elif card is not None and account_no and account_no != card[1]:
                problems.append(
                    Problem(
                        row_no,
                        HEADERS[COL_NEW_ACCOUNT],
                        f"与卡系统中本人社保卡金融账号（尾号{card[1][-4:]}）不一致；"
                        "账号确有变化请选择“信息有误已更正”",
                    )
                )
        if not account_name:
            problems.append(Problem(row_no, HEADERS[COL_NEW_NAME], "请填写新账户户名"))
        elif not names_equal(account_name, line.name):
            problems.append(
                Problem(
                    row_no,
                    HEADERS[COL_NEW_NAME],
                    f"户名“{account_name}”与姓名“{line.name}”不一致，银行将拒绝发放",
                )
            )
        if busy:
            problems.append(Problem(row_no, HEADERS[COL_RESULT], "该人员已有待复核的账户变更，请联系中心"))
    return ParsedLine(line, result or "", remark[:200], bank_name[:100], account_no, account_name[:50])


def _busy_persons(form: VerificationForm, person_ids: list[int]) -> set[int]:
    return set(
        AccountChange.objects.filter(person_id__in=person_ids, state__in=AccountChange.OPEN_STATES)
        .exclude(form=form)
        .values_list("person_id", flat=True)
    )


def card_status(person_ids: list[int]) -> dict[int, tuple[str, str]]:
    """person -> (comparison class, card bank account) from the latest finished comparison holding them."""
    run_id = (
        ComparisonRun.objects.filter(
            state=ComparisonRun.State.DONE,
            pk__in=ComparisonResult.objects.filter(person_id__in=person_ids).values("run_id"),
        )
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if run_id is None:
        return {}
    return {
        pid: (klass, account or "")
        for pid, klass, account in ComparisonResult.objects.filter(
            run_id=run_id, person_id__in=person_ids
        ).values_list("person_id", "klass", "card_record__bank_account")
    }


def parse_return(form: VerificationForm, path: Path, *, suffix: str, full_ids: bool) -> list[ParsedLine]:
    """Check every row of a returned file against the form; raise FileRejected naming each bad cell."""
    rows = list(read_rows(path, suffix=suffix))
    problems: list[Problem] = []
    code = _find_code(rows)
    if code != form.code:
        other = VerificationForm.objects.filter(code=code).first() if code else None
        message = (
            f"这是{other.org_name}的核实反馈表（编号 {code}），不是本表（编号 {form.code}），请上传本单位的表"
            if other is not None
            else f"找不到表单编号，请上传从本系统下载的核实反馈表（编号 {form.code}）"
        )
        raise ForeignFormFile([Problem(CODE_CELL[0] + 1, "表单编号", message)], other=other)
    header = [c.replace(" ", "") for c in rows[HEADER_ROW]] if len(rows) > HEADER_ROW else []
    if tuple(header[: len(HEADERS)]) != HEADERS:
        raise FileRejected([Problem(HEADER_ROW + 1, "", "表头被修改，请使用下载的原表填写")])
    lines = {str(line.row_no): line for line in form.lines.all()}
    open_elsewhere = _busy_persons(form, [ln.person_id for ln in lines.values()])
    cards = card_status([ln.person_id for ln in lines.values()])
    seen: dict[str, int] = {}
    parsed: list[ParsedLine] = []
    for index in range(FIRST_DATA_ROW, len(rows)):
        cells = rows[index]
        row_no = index + 1
        if not any(c.strip() for c in cells):
            continue
        number = _cell(cells, 0)
        line = lines.get(number)
        if line is None:
            shown = _cell(cells, 1) or "（空）"
            problems.append(
                Problem(row_no, HEADERS[1], f"{shown} 不在本表中（序号“{number}”），不能添加表外人员")
            )
            continue
        if number in seen:
            problems.append(Problem(row_no, HEADERS[0], f"与第{seen[number]}行重复"))
            continue
        seen[number] = row_no
        sent = protected_values(line, full_ids=full_ids)
        for col in PROTECTED:
            if _cell(cells, col) != sent[col].strip():
                problems.append(
                    Problem(row_no, HEADERS[col], f"该列不可修改（原为“{sent[col]}”），更正请填写在“新”列中")
                )
        label = _cell(cells, COL_RESULT)
        parsed.append(
            check_answer(
                row_no=row_no,
                line=line,
                result_label=label,
                remark=_cell(cells, COL_REMARK),
                bank_name=_cell(cells, COL_NEW_BANK),
                account_no=_cell(cells, COL_NEW_ACCOUNT),
                account_name=_cell(cells, COL_NEW_NAME),
                busy=line.person_id in open_elsewhere,
                problems=problems,
                card=cards.get(line.person_id),
            )
        )
    missing = [line for number, line in lines.items() if number not in seen]
    for line in sorted(missing, key=lambda ln: ln.row_no)[:50]:
        problems.append(Problem(0, HEADERS[1], f"缺少序号{line.row_no}（{line.name}）的行，请勿删除表中人员"))
    if problems:
        raise FileRejected(problems, total=len(problems) + max(0, len(missing) - 50))
    return parsed


def form_return_upload(
    *,
    form: VerificationForm,
    actor: Any,
    data_file: Any,
    scan_file: Any,
    today: dt.date | None = None,
) -> VerificationForm:
    """The form's own clerk uploads the filled file and the stamped scan. Valid rows become submitted
    AccountChanges that wait for a centre clerk (form_check); nothing is applied when any row is wrong; the same file again changes nothing."""
    if not _is_form_clerk(actor, form):
        raise PermissionDenied("只能报送本单位（本乡镇）的核实反馈表")
    data_name = getattr(data_file, "name", "") or "return.xlsx"
    suffix = Path(data_name).suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise ValidationError(
            "核实反馈表应为 xlsx、xls 或 ods 文件（Excel、WPS、LibreOffice 保存均可）", field="data_file"
        )
    data = _read(data_file)
    checksum = hashlib.sha256(data).hexdigest()
    if _already_applied(form, checksum):
        return form
    _check_can_return(form)
    scan_name, scan = _scan(scan_file)
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            parsed = parse_return(form, Path(tmp.name), suffix=suffix, full_ids=bool(actor.sees_full_ids))
        except ForeignFormFile as exc:
            if exc.other is not None:
                with transaction.atomic():
                    audit_record(
                        actor=actor,
                        action=actions.FORM_RETURN_REFUSED,
                        obj=form,
                        new={"file_of_form": exc.other.code, "file_name": data_name},
                        reason=exc.problems[0].message,
                    )
            raise
    return _apply_return(
        form=form,
        actor=actor,
        parsed=parsed,
        checksum=checksum,
        data=(f"{form.code}{suffix}", data),
        scan=(scan_name, scan),
        today=today or timezone.localdate(),
    )


def form_return_online(
    *,
    form: VerificationForm,
    actor: Any,
    answers: dict[int, dict[str, str]],
    scan_file: Any,
    today: dt.date | None = None,
) -> VerificationForm:
    """机关事业单位: the clerk edits bank account name and number of their retirees online (银行账号批量修改)
    instead of returning the file, and attaches the stamped scan. Same rules, same review.

    `answers` maps a line id to result / remark / bank_name / account_no / account_name.
    """
    if not _is_form_clerk(actor, form):
        raise PermissionDenied("只能报送本单位的核实反馈表")
    if form.employer is None or form.employer.kind != "institution":
        raise StateError("在线批量修改仅适用于机关事业单位，企业请上传填好的核实反馈表")
    lines = list(form.lines.order_by("row_no"))
    canonical = json.dumps(
        [[ln.pk, *(str(answers.get(ln.pk, {}).get(k, "")).strip() for k in _ONLINE_FIELDS)] for ln in lines],
        ensure_ascii=False,
    )
    checksum = hashlib.sha256(canonical.encode()).hexdigest()
    if _already_applied(form, checksum):
        return form
    _check_can_return(form)
    scan_name, scan = _scan(scan_file)
    busy = _busy_persons(form, [ln.person_id for ln in lines])
    cards = card_status([ln.person_id for ln in lines])
    problems: list[Problem] = []
    parsed = []
    for line in lines:
        given = {k: str(answers.get(line.pk, {}).get(k, "")).strip() for k in _ONLINE_FIELDS}
        parsed.append(
            check_answer(
                row_no=line.row_no,
                line=line,
                result_label=given["result"],
                remark=given["remark"],
                bank_name=given["bank_name"],
                account_no=given["account_no"],
                account_name=given["account_name"],
                busy=line.person_id in busy,
                problems=problems,
                card=cards.get(line.person_id),
            )
        )
    if problems:
        raise FileRejected(problems)
    return _apply_return(
        form=form,
        actor=actor,
        parsed=parsed,
        checksum=checksum,
        data=None,
        scan=(scan_name, scan),
        today=today or timezone.localdate(),
    )


_ONLINE_FIELDS = ("result", "remark", "bank_name", "account_no", "account_name")


def _already_applied(form: VerificationForm, checksum: str) -> bool:
    return form.return_checksum == checksum and form.state in (
        VerificationForm.State.RETURNED,
        VerificationForm.State.CHECKED,
        VerificationForm.State.APPROVED,
    )


def _check_can_return(form: VerificationForm) -> None:
    if form.state == VerificationForm.State.GENERATED:
        raise StateError("请先下载核实反馈表，填写后再报送")
    if form.state not in (VerificationForm.State.DOWNLOADED, VerificationForm.State.REJECTED):
        raise StateError(f"该表{form.get_state_display()}，不能再次报送；如需更正请联系中心退回")


def _scan(scan_file: Any) -> tuple[str, bytes]:
    if scan_file is None:
        raise ValidationError("请同时上传加盖单位公章的反馈表扫描件（PDF 或图片）", field="scan")
    scan_name = getattr(scan_file, "name", "") or "scan"
    scan = _read(scan_file)
    check_scan(scan_name, scan)
    return scan_name, scan


def _apply_return(
    *,
    form: VerificationForm,
    actor: Any,
    parsed: list[ParsedLine],
    checksum: str,
    data: tuple[str, bytes] | None,
    scan: tuple[str, bytes],
    today: dt.date,
) -> VerificationForm:
    """One transaction: the files, the answers, the prepared changes, the state and the audit rows."""
    with transaction.atomic():
        old_state = VerificationForm.objects.select_for_update().get(pk=form.pk).state
        if old_state not in (VerificationForm.State.DOWNLOADED, VerificationForm.State.REJECTED):
            raise StateError("该表已被报送，请刷新页面后查看")
        if data is not None:
            form.return_file.save(data[0], ContentFile(data[1]), save=False)
        form.scan_file.save(
            f"{form.code}_scan{Path(scan[0]).suffix.lower()}", ContentFile(scan[1]), save=False
        )
        _transition(
            VerificationForm,
            form.pk,
            old_state,
            VerificationForm.State.RETURNED,
            returned_by=actor,
            returned_on=today,
            return_checksum=checksum,
            return_file=form.return_file.name if data is not None else "",
            scan_file=form.scan_file.name,
        )
        for p in parsed:
            p.line.result = p.result
            p.line.remark = p.remark
        VerificationLine.objects.bulk_update([p.line for p in parsed], ["result", "remark"], batch_size=1000)
        banks = BankLookup()
        changes = []
        for p in parsed:
            if p.result not in _NEEDS_ACCOUNT:
                continue
            bank = banks.find(
                code=p.line.card_bank_code if p.account_no == p.line.card_account else "", name=p.bank_name
            )
            changes.append(
                AccountChange(
                    person_id=p.line.person_id,
                    form=form,
                    form_line=p.line,
                    bank=bank,
                    bank_name=p.bank_name or (bank.name if bank else ""),
                    account_no=p.account_no,
                    account_name=p.account_name,
                    submitted_on=today,
                    state=AccountChange.State.SUBMITTED,
                    submitted_by=actor,
                )
            )
        AccountChange.objects.bulk_create(changes, batch_size=1000)
        audit_record(
            actor=actor,
            action=actions.FORM_RETURN,
            obj=form,
            old={"state": old_state},
            new={
                "state": VerificationForm.State.RETURNED,
                "checksum": checksum,
                "changes": len(changes),
                "online": data is None,
            },
        )
        audit_record_many(
            actor=actor,
            action=actions.CHANGE_SUBMIT,
            object_type="people.person",
            rows=(
                {
                    "object_id": c.person_id,
                    "object_repr": c.account_name,
                    "new": {"account_no": c.account_no, "form": form.code},
                }
                for c in changes
            ),
        )
    form.refresh_from_db()
    return form
