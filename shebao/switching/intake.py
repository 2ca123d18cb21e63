"""Township intake (寿县 township flow): a retiree comes with card and ID; the clerk checks them, photographs
the card and the ID front, records the verification and reminds them to activate the financial function;
by the 15th of each month the township submits its records, which become submitted account changes that a
centre clerk checks and prepares (account_change_check) before a supervisor approves them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import period_of
from shebao.people.selectors import persons_visible_to
from shebao.switching import actions
from shebao.switching.models import AccountChange, TownshipIntake, TownshipSubmission
from shebao.switching.returns import MAX_FILE_BYTES, check_scan
from shebao.switching.services import BankLookup

PHOTO_SIGNATURES = {".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".png": b"\x89PNG\r\n\x1a\n"}


def township_due_date(today: dt.date) -> dt.date:
    """寿县: the township uploads its month's records 每月15日前 (postponed over holidays)."""
    from shebao.core.selectors import workday_calendar
    from shebao.core.values.workdays import monthly_deadline

    return monthly_deadline(period_of(today), 15, workday_calendar())


def _photo(upload: Any, label: str, field: str) -> tuple[str, bytes]:
    if upload is None:
        raise ValidationError(f"请上传{label}", field=field)
    name = getattr(upload, "name", "") or "photo"
    data = upload.read()
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{label}超过20MB，请压缩后再上传", field=field)
    signature = PHOTO_SIGNATURES.get(suffix)
    if signature is None or not data.startswith(signature):
        raise ValidationError(f"{label}应为 JPG 或 PNG 图片", field=field)
    return suffix, data


def _require_township_clerk(actor: Any) -> None:
    if not actor.can("switching.intake") or not actor.township_id:
        raise PermissionDenied("只有乡镇经办员可以登记核实")


def township_intake_record(
    *,
    actor: Any,
    ssn: str,
    card_no: str,
    account_no: str,
    account_name: str,
    bank_name: str = "",
    fin_activated: bool,
    card_photo: Any,
    id_photo: Any,
    note: str = "",
    today: dt.date | None = None,
) -> TownshipIntake:
    """Record one walk-in verification. The account name must be the person's name (else the bank refuses)."""
    from shebao.core.values.bank import parse_bank_account, parse_card_no
    from shebao.core.values.names import names_equal
    from shebao.core.values.ssn import parse_ssn

    _require_township_clerk(actor)
    value = parse_ssn(ssn).value
    person = persons_visible_to(actor).filter(ssn=value, death_date__isnull=True).first()
    if person is None:
        raise ValidationError("本乡镇没有该社会保障号码的待遇人员，请核对身份证", field="ssn")
    card = parse_card_no(card_no)
    number = parse_bank_account(account_no).value
    if not names_equal(account_name, person.name):
        raise ValidationError(
            f"户名“{account_name}”与姓名“{person.name}”不一致，银行将拒绝发放", field="account_name"
        )
    card_suffix, card_data = _photo(card_photo, "社保卡照片", "card_photo")
    id_suffix, id_data = _photo(id_photo, "身份证正面照片", "id_photo")
    intake = TownshipIntake(
        township_id=actor.township_id,
        person=person,
        card_no=card,
        bank_name=bank_name.strip()[:100],
        account_no=number,
        account_name=account_name.strip()[:50],
        fin_activated=fin_activated,
        note=note[:200],
        recorded_by=actor,
        recorded_on=today or timezone.localdate(),
    )
    try:
        with transaction.atomic():
            intake.card_photo.save(f"{person.pk}_card{card_suffix}", ContentFile(card_data), save=False)
            intake.id_photo.save(f"{person.pk}_id{id_suffix}", ContentFile(id_data), save=False)
            intake.save()
            audit_record(
                actor=actor,
                action=actions.INTAKE_RECORD,
                obj=person,
                new={"card_no": card, "account_no": number, "fin_activated": fin_activated},
            )
    except IntegrityError:
        raise StateError(f"{person.name} 已有尚未报送的核实登记") from None
    return intake


def township_intake_mark_activated(*, actor: Any, intake_id: int) -> TownshipIntake:
    """The retiree activated the financial function at the bank after the visit."""
    _require_township_clerk(actor)
    with transaction.atomic():
        intake = (
            TownshipIntake.objects.select_for_update()
            .filter(pk=intake_id, township_id=actor.township_id, submission__isnull=True)
            .first()
        )
        if intake is None:
            raise PermissionDenied("该登记不属于本乡镇或已报送")
        if not intake.fin_activated:
            intake.fin_activated = True
            intake.save(update_fields=["fin_activated"])
            audit_record(
                actor=actor,
                action=actions.INTAKE_RECORD,
                obj=intake,
                old={"fin_activated": False},
                new={"fin_activated": True},
            )
    return intake


def open_intakes(actor: Any) -> QuerySet[TownshipIntake]:
    if not actor.township_id:
        return TownshipIntake.objects.none()
    return TownshipIntake.objects.filter(
        township_id=actor.township_id, submission__isnull=True
    ).select_related("person")


def township_submit(*, actor: Any, scan_file: Any, today: dt.date | None = None) -> TownshipSubmission:
    """Submit this township's records whose financial function is open: each becomes a prepared change.

    Records still waiting for activation stay for a later month.
    """
    _require_township_clerk(actor)
    if scan_file is None:
        raise ValidationError("请上传加盖公章的《核实反馈表》扫描件", field="scan")
    scan_name = getattr(scan_file, "name", "") or "scan"
    scan = scan_file.read()
    check_scan(scan_name, scan)
    today = today or timezone.localdate()
    with transaction.atomic():
        ready = list(open_intakes(actor).select_for_update().filter(fin_activated=True))
        if not ready:
            raise StateError("没有可报送的核实登记（金融功能已开通的人员）")
        busy = set(
            AccountChange.objects.filter(
                person_id__in=[i.person_id for i in ready], state__in=AccountChange.OPEN_STATES
            ).values_list("person__name", flat=True)
        )
        if busy:
            raise StateError(f"以下人员已有待复核的账户变更：{'、'.join(sorted(busy))}")
        submission = TownshipSubmission(township_id=actor.township_id, submitted_by=actor, submitted_on=today)
        submission.scan_file.save(
            f"{actor.township_id}_{today:%Y%m%d}{Path(scan_name).suffix.lower()}",
            ContentFile(scan),
            save=False,
        )
        submission.save()
        banks = BankLookup()
        for intake in ready:
            intake.change = AccountChange.objects.create(
                person_id=intake.person_id,
                bank=banks.find(name=intake.bank_name),
                bank_name=intake.bank_name,
                account_no=intake.account_no,
                account_name=intake.account_name,
                submitted_on=today,
                state=AccountChange.State.SUBMITTED,
                submitted_by=actor,
            )
            intake.submission = submission
        TownshipIntake.objects.bulk_update(ready, ["change", "submission"])
        audit_record(actor=actor, action=actions.INTAKE_SUBMIT, obj=submission, new={"records": len(ready)})
        audit_record_many(
            actor=actor,
            action=actions.CHANGE_SUBMIT,
            object_type="people.person",
            rows=(
                {"object_id": i.person_id, "object_repr": i.account_name, "new": {"account_no": i.account_no}}
                for i in ready
            ),
        )
    return submission
