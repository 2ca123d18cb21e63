"""Every write to cards: each service checks the transition table, locks the card, posts the ledger
and writes its audit row in one transaction."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from shebao.accounts.roles import Role
from shebao.audit.services import audit_record, audit_record_many
from shebao.cards import actions
from shebao.cards.models import (
    CARD_TRANSITIONS,
    INFLOW_KINDS,
    LIVE_STATES,
    MAIL_TRANSITIONS,
    Card,
    CardAccountOffer,
    CardApplication,
    CardDestruction,
    CardDestructionItem,
    CardIssue,
    CardLocation,
    CardMovement,
    CardNotice,
    CardRecall,
    CardState,
    DeliveryMode,
    DocumentDisposal,
    FinancialChannel,
    Generation,
    LivenessProof,
    MailRequest,
    MailState,
    ProductionBatch,
    Shipment,
    SocialChannel,
    TempCard,
    TempCardReconciliation,
    UnitHandover,
    VaultClosing,
    VaultDifference,
    VillageSession,
)
from shebao.cards.selectors import (
    batch_visible_to,
    card_balance_at,
    card_ids_in_stock,
    card_location_now,
    cards_visible_to,
    locations_visible_to,
    shipment_missing_cards,
)
from shebao.cards.signals import social_function_enabled
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.bank import parse_card_no
from shebao.core.values.names import names_equal, normalize_name
from shebao.core.values.period import parse_period, period_of
from shebao.core.values.ssn import parse_ssn
from shebao.orgs.models import Bank, Employer, Outlet, Region
from shebao.orgs.selectors import outlets_visible_to, region_ids_under
from shebao.people.models import Person
from shebao.people.selectors import persons_visible_to

if TYPE_CHECKING:
    from shebao.cards.importers import ReturnResult

_STATE_LABELS = dict(CardState.choices)

# 直系亲属: who may collect a card without a reserved agent, against the household register (户口本).
DIRECT_RELATIVES = frozenset(
    {
        CardApplication.Relation.SPOUSE,
        CardApplication.Relation.PARENT,
        CardApplication.Relation.CHILD,
        CardApplication.Relation.GRANDPARENT,
        CardApplication.Relation.GRANDCHILD,
    }
)


class Outcome(NamedTuple):
    """The card after an idempotent request, and whether anything changed ("already so" is normal)."""

    card: Card
    changed: bool


@dataclass(frozen=True)
class Receiver:
    """The person standing at the counter: the holder, an agent, or a unit clerk."""

    name: str
    ssn: str
    relation: str = ""  # an agent's relation to the holder
    household_register: bool = False  # 户口本原件 shown (an agent who was not reserved)
    phone: str = ""
    address: str = ""
    form_signed: bool = False  # signed the 个人领取登记表 (附件5)
    applicant_id_shown: bool = False  # a reserved agent also showed the applicant's ID


# ---------------------------------------------------------------- the transition table and the ledger


def state_label(state: str) -> str:
    return str(_STATE_LABELS.get(state, state))


def check_transition(old: str, new: str) -> None:
    """Refuse any change of state that the table does not list."""
    if new not in CARD_TRANSITIONS.get(old, frozenset()):
        raise StateError(f"社保卡当前状态为“{state_label(old)}”，不能办理为“{state_label(new)}”")


def _lock_card(card: Card | int) -> Card:
    pk = card if isinstance(card, int) else card.pk
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return (
        Card.objects.select_for_update(of=("self",))
        .select_related("person", "bank", "application")
        .get(pk=pk)
    )


def _lock_cards(ids: Sequence[int]) -> list[Card]:
    # A fixed order, so two clerks locking overlapping sets cannot deadlock.
    cards = list(
        Card.objects.select_for_update(of=("self",))
        .select_related("person", "bank")
        .filter(pk__in=list(ids))
        .order_by("pk")
    )
    if len(cards) != len(set(ids)):
        raise ValidationError("部分社保卡不存在，请刷新后重试")
    return cards


def _transition(card: Card, new: str, *, actor: Any, action: str, reason: str = "", **fields: Any) -> None:
    """Compare-and-swap the state of a locked card, then write the audit row."""
    old = card.state
    check_transition(old, new)
    now = timezone.now()
    changed = Card.objects.filter(pk=card.pk, state=old).update(state=new, updated_at=now, **fields)
    if changed != 1:
        raise StateError("该卡状态已被他人修改，请刷新后重试")
    old_values = {"state": old, **{k: getattr(card, k) for k in fields}}
    card.state = new
    for k, v in fields.items():
        setattr(card, k, v)
    audit_record(
        actor=actor, action=action, obj=card, old=old_values, new={"state": new, **fields}, reason=reason
    )


def _require_card_scope(actor: Any, card: Card) -> None:
    if not cards_visible_to(actor).filter(pk=card.pk).exists():
        raise PermissionDenied("该社保卡不在您的管辖范围内")


def _require_outlet_scope(actor: Any, outlet: Outlet) -> None:
    if not outlets_visible_to(actor).filter(pk=outlet.pk).exists():
        raise PermissionDenied(f"您无权在“{outlet.name}”办理业务")


def actor_region(actor: Any) -> Region:
    region_id = getattr(actor, "region_id", None)
    if region_id:
        return Region.objects.get(pk=region_id)
    region = Region.objects.filter(code=settings.SHEBAO_REGION_CODE).first()
    if region is None:
        raise ValidationError("未设置本中心的统筹区，无法确定中心库房")
    return region


def centre_location(region: Region) -> CardLocation:
    loc, _ = CardLocation.objects.get_or_create(
        kind=CardLocation.Kind.CENTRE, region=region, defaults={"name": f"{region.name}社保卡中心库房"}
    )
    return loc


def outlet_location(outlet: Outlet) -> CardLocation:
    loc, _ = CardLocation.objects.get_or_create(
        outlet=outlet,
        defaults={"kind": CardLocation.Kind.OUTLET, "region_id": outlet.region_id, "name": outlet.name},
    )
    return loc


def _post(
    card: Card,
    location: CardLocation,
    kind: str,
    *,
    custodian: str,
    actor: Any,
    counterparty: str = "",
    batch_ref: str = "",
    shipment: Shipment | None = None,
    at: dt.datetime | None = None,
) -> CardMovement:
    """Post one ledger line for a locked card. A card is in one place at most; stock never goes negative."""
    if not custodian.strip():
        raise ValidationError("请填写保管责任人", field="custodian")
    if kind in INFLOW_KINDS:
        where = card_location_now(card.pk)
        if where is not None:
            raise StateError(f"卡号 {card.card_no} 已在“{where.name}”库存中，不能重复入库")
    elif card_balance_at(card.pk, location.pk) < 1:
        raise StateError(f"卡号 {card.card_no} 不在“{location.name}”的库存中")
    return CardMovement.objects.create(
        card=card,
        location=location,
        kind=kind,
        custodian=custodian.strip(),
        counterparty=counterparty[:100],
        batch_ref=batch_ref[:60],
        shipment=shipment,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _post_many(
    cards: list[Card],
    location: CardLocation,
    kind: str,
    new_state: str,
    *,
    custodian: str,
    actor: Any,
    action: str,
    reason: str,
    at: dt.datetime,
    counterparty: str = "",
    batch_ref: str = "",
    shipment: Shipment | None = None,
) -> None:
    """`_post` and `_transition` for many locked cards at once (one old state), set-based."""
    ids = [c.pk for c in cards]
    olds = {c.state for c in cards}
    if len(olds) != 1:
        raise StateError("所选社保卡的状态不一致，请分开办理")
    old = olds.pop()
    check_transition(old, new_state)
    if kind in INFLOW_KINDS:
        if card_ids_in_stock(None).filter(card_id__in=ids).exists():
            raise StateError("有社保卡已在库存中，不能重复入库，请核对后再办理")
    else:
        here = set(card_ids_in_stock([location.pk]).filter(card_id__in=ids).values_list("card_id", flat=True))
        missing = [c for c in cards if c.pk not in here]
        if missing:
            raise StateError(f"卡号 {missing[0].card_no} 不在“{location.name}”的库存中")
    user = actor if getattr(actor, "pk", None) else None
    CardMovement.objects.bulk_create(
        CardMovement(
            card=c,
            location=location,
            kind=kind,
            custodian=custodian[:50],
            counterparty=counterparty[:100],
            batch_ref=batch_ref[:60],
            shipment=shipment,
            at=at,
            actor=user,
        )
        for c in cards
    )
    moved = Card.objects.filter(pk__in=ids, state=old).update(state=new_state, updated_at=at)
    if moved != len(ids):
        raise StateError("有社保卡的状态已被他人修改，请刷新后重试")
    audit_record_many(
        actor=actor,
        action=action,
        object_type="cards.card",
        rows=(
            {
                "object_id": c.pk,
                "object_repr": str(c.card_no),
                "old": {"state": old},
                "new": {"state": new_state},
            }
            for c in cards
        ),
        reason=reason,
    )
    for c in cards:
        c.state = new_state


def _require_cards_scope(actor: Any, cards: list[Card]) -> None:
    visible = cards_visible_to(actor).filter(pk__in=[c.pk for c in cards]).count()
    if visible != len(cards):
        raise PermissionDenied("所选社保卡中有不在您管辖范围内的卡")


def _custodian_of(actor: Any) -> str:
    return getattr(actor, "display_name", "") or str(actor)


# ---------------------------------------------------------------- applications


def card_apply(
    *,
    person: Person,
    bank: Bank,
    delivery: str,
    actor: Any,
    generation: int = Generation.THIRD,
    outlet: Outlet | None = None,
    agent_name: str = "",
    agent_ssn: str = "",
    agent_relation: str = "",
    mail_address: str = "",
    mail_phone: str = "",
    reason: str = CardApplication.Reason.NEW,
    replaces: Card | None = None,
    photo: Any = None,
    photo_from: CardApplication | None = None,
    correction: str = "",
) -> Card:
    """Accept an application at a window and open the card in state 已申领.

    `photo` is the upload taken at the window (jpg or png, checked by its bytes); a replacement card
    reuses the photo of the application it replaces (`photo_from`).
    """
    if not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    if person.is_deceased:
        raise ValidationError("该人员已登记死亡，不能申领社保卡")
    if delivery not in DeliveryMode.values:
        raise ValidationError("请选择领卡方式", field="delivery")
    if generation not in Generation.values:
        raise ValidationError("卡代别只能是第一、二、三代", field="generation")
    if delivery == DeliveryMode.OUTLET_PICKUP and outlet is None:
        raise ValidationError("网点领取须选择领卡网点", field="outlet")
    if outlet is not None:
        _require_outlet_scope(actor, outlet)
        if outlet.kind == Outlet.Kind.BANK_BRANCH and outlet.bank_id != bank.pk:
            raise ValidationError(f"“{outlet.name}”不是{bank.name}的网点，不能领取该行社保卡", field="outlet")
    if delivery == DeliveryMode.MAIL and not (mail_address.strip() and mail_phone.strip()):
        raise ValidationError("邮寄领卡须填写邮寄地址和收件电话", field="mail_address")
    if agent_ssn or agent_name:
        agent = parse_ssn(agent_ssn)
        agent_ssn = agent.value
        if agent_ssn == person.ssn:
            raise ValidationError("代办人不能是申领人本人", field="agent_ssn")
        if not normalize_name(agent_name):
            raise ValidationError("请填写预留代办人姓名", field="agent_name")
        if agent_relation not in CardApplication.Relation.values:
            raise ValidationError("请选择代办人与申领人的关系", field="agent_relation")
    if photo is not None:
        _check_photo(photo)
    live = Card.objects.filter(person=person, generation=generation, state__in=LIVE_STATES).first()
    if live is not None:
        raise StateError(
            f"{person.name}已有一张{Generation(generation).label}社保卡（{state_label(live.state)}），"
            "不能重复申领；如卡已遗失，请先正式挂失再补卡"
        )
    try:
        with transaction.atomic():
            application = CardApplication.objects.create(
                person=person,
                bank=bank,
                generation=generation,
                reason=reason,
                agent_name=normalize_name(agent_name) if agent_ssn else "",
                agent_ssn=agent_ssn,
                agent_relation=agent_relation if agent_ssn else "",
                delivery=delivery,
                outlet=outlet,
                mail_address=mail_address.strip(),
                mail_phone=mail_phone.strip(),
                photo=photo_from.photo.name if photo_from is not None and photo_from.photo else "",
                correction=correction.strip()[:200],
                created_by=actor,
            )
            if photo is not None:
                suffix = Path(photo.name).suffix.lower()
                application.photo.save(f"{application.pk}{suffix}", photo, save=True)
            card = Card.objects.create(
                person=person, bank=bank, generation=generation, application=application, replaces=replaces
            )
            audit_record(
                actor=actor,
                action=actions.CARD_APPLY,
                obj=card,
                new={
                    "application": application.pk,
                    "bank": bank.code,
                    "delivery": delivery,
                    "generation": generation,
                    "photo": bool(application.photo),
                    "reason": reason,
                    **({"replaces": replaces.pk} if replaces is not None else {}),
                    **({"correction": application.correction} if application.correction else {}),
                },
            )
    except IntegrityError:
        # Two windows accepting the same person at once: the database constraint lets one through.
        raise StateError(
            f"{person.name}已有一张有效的{Generation(generation).label}社保卡，不能重复申领"
        ) from None
    return card


def _check_photo(upload: Any) -> None:
    """A photo is a jpg or png by its own bytes, not by the name it came with, within the size limit."""
    from shebao.cards.conf import liveness_max_bytes

    accepted = _PROOF_TYPES["photo"]
    suffix = Path(getattr(upload, "name", "") or "").suffix.lower()
    if suffix not in accepted:
        raise ValidationError("相片只能是 jpg 或 png 文件", field="photo")
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        raise ValidationError("上传的相片是空的", field="photo")
    if size > liveness_max_bytes("photo"):
        raise ValidationError(f"相片不能超过{liveness_max_bytes('photo') // 1024 // 1024}MB", field="photo")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(sig) for sig in accepted[suffix]):
        raise ValidationError(f"相片内容与扩展名{suffix}不符，请上传原始照片", field="photo")


def application_resubmit(*, application: CardApplication, actor: Any) -> Card:
    """A corrected application whose production failed goes back to the production queue."""
    with transaction.atomic():
        app = CardApplication.objects.select_for_update().get(pk=application.pk)
        if app.state != CardApplication.State.RETURNED:
            raise StateError("只有制卡失败退回的申领可以重新提交")
        card = app.cards.filter(state=CardState.PRODUCTION_FAILED).first()
        if card is None:
            raise StateError("该申领没有制卡失败的卡")
        card = _lock_card(card)
        _require_card_scope(actor, card)
        _transition(
            card,
            CardState.APPLIED,
            actor=actor,
            action=actions.CARD_APPLICATION_RESUBMIT,
            failure_stage="",
            failure_reason="",
        )
        CardApplication.objects.filter(pk=app.pk).update(state=CardApplication.State.ACCEPTED)
    return card


# ---------------------------------------------------------------- production


def production_file_write(*, actor: Any, fmt: str = "csv", directory: Path | None = None) -> ProductionBatch:
    """Write the list of applied cards for the card factory and move them to 制卡中."""
    from shebao.cards.exporters import ProductionFileExporter

    if fmt not in ("csv", "xlsx"):
        raise ValidationError("制卡文件格式只能是 csv 或 xlsx", field="fmt")
    applied = cards_visible_to(actor).filter(state=CardState.APPLIED)
    # The factory prints the photo on the card: an application without one waits on the production
    # page for the window to take it, instead of failing at the factory weeks later.
    ids = list(
        applied.filter(application__isnull=False)
        .exclude(application__photo="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        waiting = applied.count()
        if waiting:
            raise ValidationError(f"没有待制卡的申领：{waiting}张申领缺少相片，请先补采相片")
        raise ValidationError("没有待制卡的申领")
    directory = directory or production_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    name = f"制卡数据_{stamp}_{len(ids)}.{fmt}"
    path = directory / name
    exporter = ProductionFileExporter(ids)
    if fmt == "xlsx":
        exporter.write_xlsx(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            exporter.write_csv(fh)
    try:
        with transaction.atomic():
            batch = ProductionBatch.objects.create(file_name=name, card_count=len(ids), created_by=actor)
            moved = Card.objects.filter(pk__in=ids, state=CardState.APPLIED).update(
                state=CardState.IN_PRODUCTION, production_batch=batch, updated_at=timezone.now()
            )
            if moved != len(ids):
                raise StateError("制卡期间有申领被他人修改，请重新生成制卡文件")
            audit_record_many(
                actor=actor,
                action=actions.CARD_PRODUCTION_FILE,
                object_type="cards.card",
                rows=(
                    {
                        "object_id": pk,
                        "old": {"state": CardState.APPLIED},
                        "new": {"state": CardState.IN_PRODUCTION},
                    }
                    for pk in ids
                ),
                reason=name,
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return batch


def production_dir() -> Path:
    return Path(settings.DATA_DIR) / "cards" / "production"


class ProductionPackage(NamedTuple):
    file: IO[bytes]
    name: str


def production_package_open(*, batch: ProductionBatch, actor: Any) -> ProductionPackage:
    """The production batch as one zip for the card factory: the data file and `photos/<社会保障号码>.jpg`.

    Written to a temporary file (memory stays flat however large the batch) and returned open at its
    start; the caller streams it and closing it removes it. The same batch gives the same bytes: entries
    in card order, fixed timestamps and attributes, so the factory (and we) can compare checksums.
    Every download is audited: the zip carries personal data and photos.
    """
    if not batch_visible_to(actor, batch):
        raise PermissionDenied("该制卡批次不在您的管辖范围内，或不存在")
    data = production_dir() / batch.file_name
    if not data.exists():
        raise StateError("制卡文件已不存在")
    # A zip entry's time is local wall-clock time without a zone; the batch's own time keeps it stable.
    stamp = timezone.localtime(batch.created_at).timetuple()[:6]

    def entry(name: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = compress
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        return info

    fh = tempfile.TemporaryFile(prefix="shebao-production-")  # noqa: SIM115 (the response closes it)
    try:
        with zipfile.ZipFile(fh, "w") as zf:
            with data.open("rb") as src, zf.open(entry(batch.file_name, zipfile.ZIP_DEFLATED), "w") as dst:
                shutil.copyfileobj(src, dst)
            taken: set[str] = set()
            for name, photo in _package_photos(data):
                taken.add(name)
                try:
                    src_photo = default_storage.open(photo, "rb")
                except FileNotFoundError:
                    raise StateError(f"{name} 的相片文件已不存在，请联系管理员") from None
                # jpg and png are compressed already: stored, not deflated again
                with src_photo, zf.open(entry(name, zipfile.ZIP_STORED), "w") as dst:
                    shutil.copyfileobj(src_photo, dst)
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=actions.CARD_PRODUCTION_DOWNLOAD,
                obj=batch,
                new={"file": batch.file_name, "cards": batch.card_count, "photos": len(taken)},
            )
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    return ProductionPackage(fh, f"{Path(batch.file_name).stem}.zip")


def _package_photos(data: Path) -> Iterator[tuple[str, str]]:
    """(entry name, stored photo) for every line of a batch's data file that names a photo, in file order.

    Read from the file the factory got, not from the cards' current batch: a card that failed and was
    sent again in a later batch is still a line of this one, and its zip keeps its photo. A line whose
    application no longer has a photo (batches written before photos were kept) is left out.
    """
    from shebao.cards.models import CardApplication

    def pairs(rows: Iterator[Sequence[Any]]) -> Iterator[tuple[str, str]]:
        head = [str(c).strip() for c in next(rows, [])]
        if "申领编号" not in head or "相片文件" not in head:
            return
        app_col, photo_col = head.index("申领编号"), head.index("相片文件")
        for row in rows:
            if len(row) <= max(app_col, photo_col):
                continue
            app, name = str(row[app_col]).strip().removesuffix(".0"), str(row[photo_col]).strip()
            if app.isdigit() and name:
                yield app, name

    def lines() -> Iterator[tuple[str, str]]:
        if data.suffix.lower() == ".xlsx":
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_path(str(data)).get_sheet_by_index(0)
            yield from pairs(iter(sheet.iter_rows()))
            return
        import csv

        with data.open(encoding="utf-8-sig", newline="") as fh:
            yield from pairs(csv.reader(fh))

    pending = lines()
    while chunk := list(itertools.islice(pending, 900)):
        stored = dict(
            CardApplication.objects.filter(pk__in=[int(a) for a, _ in chunk])
            .exclude(photo="")
            .values_list("pk", "photo")
        )
        for app, name in chunk:
            if stored.get(int(app)):
                yield name, stored[int(app)]


def application_photo_attach(*, application: CardApplication, photo: Any, actor: Any) -> CardApplication:
    """补采相片: the photo taken later for an application that has none, so it can go to production.

    Only while the card still waits for production; the photo of a card already at the factory is
    the one the factory has.
    """
    _check_photo(photo)
    with transaction.atomic():
        app = CardApplication.objects.select_for_update().get(pk=application.pk)
        card = app.cards.filter(state__in=(CardState.APPLIED, CardState.PRODUCTION_FAILED)).first()
        if card is None:
            raise StateError("该申领的卡已送制卡或已办结，不能再更换相片")
        _require_card_scope(actor, card)
        old = app.photo.name or ""
        suffix = Path(photo.name).suffix.lower()
        app.photo.save(f"{app.pk}{suffix}", photo, save=True)
        audit_record(
            actor=actor,
            action=actions.CARD_APPLICATION_PHOTO,
            obj=app,
            old={"photo": old},
            new={"photo": app.photo.name},
        )
    return app


def production_return_import(*, path: Path, actor: Any, custodian: str = "") -> ReturnResult:
    """Read a factory/bank return file: validate every row first, then write everything or nothing.

    Produced cards enter the centre's vault (ledger `received`); failed records go back to the
    application with their stage and reason. The same file read twice changes nothing.
    """
    from shebao.cards.importers import apply_return_file

    return apply_return_file(path=path, actor=actor, custodian=custodian or _custodian_of(actor))


# ---------------------------------------------------------------- shipments


def shipment_create(
    *,
    card_ids: Sequence[int],
    outlet: Outlet,
    handed_over_by: str,
    received_by: str,
    actor: Any,
    boxes: str = "",
) -> Shipment:
    """Hand cards over from the centre's vault to an outlet (合作银行社保卡领卡登记表, 附件2)."""
    if not card_ids:
        raise ValidationError("请选择要配送的社保卡")
    if not handed_over_by.strip() or not received_by.strip():
        raise ValidationError("交接双方的姓名都要填写", field="received_by")
    _require_outlet_scope(actor, outlet)
    source = centre_location(actor_region(actor))
    with transaction.atomic():
        destination = outlet_location(outlet)
        cards = _lock_cards(card_ids)
        _require_cards_scope(actor, cards)
        for card in cards:
            if card.state != CardState.PRODUCED:
                raise StateError(f"卡号 {card.card_no} 不在中心库房（{state_label(card.state)}），不能配送")
            if outlet.kind == Outlet.Kind.BANK_BRANCH and card.bank_id != outlet.bank_id:
                raise ValidationError(
                    f"卡号 {card.card_no} 是{card.bank.name}的卡，不能配送到“{outlet.name}”"
                )
        shipment = Shipment.objects.create(
            source=source,
            destination=destination,
            boxes=boxes.strip(),
            card_count=len(cards),
            handed_over_by=handed_over_by.strip(),
            received_by=received_by.strip(),
            created_by=actor,
        )
        _post_many(
            cards,
            source,
            CardMovement.Kind.HANDED_OVER,
            CardState.SHIPPED,
            custodian=handed_over_by.strip(),
            counterparty=f"{outlet.name} {received_by.strip()}",
            batch_ref=boxes.strip(),
            shipment=shipment,
            actor=actor,
            action=actions.CARD_SHIP,
            reason=f"配送#{shipment.pk}至{outlet.name}",
            at=timezone.now(),
        )
    return shipment


def _card_nos(raw: Sequence[str], *, field: str) -> set[str]:
    """Card numbers typed or scanned by a clerk; every malformed one is listed."""
    found: set[str] = set()
    bad: list[str] = []
    for item in raw:
        for token in item.replace("，", ",").replace(",", " ").split():
            try:
                found.add(parse_card_no(token))
            except ValidationError:
                bad.append(token)
    if bad:
        raise ValidationError(f"以下卡号格式有误，请核对：{'、'.join(bad[:20])}", field=field)
    return found


def _shipment_outstanding_ids(shipment: Shipment) -> list[int]:
    return list(shipment_missing_cards(shipment).values_list("pk", flat=True))


def _shipment_claim(shipment: Shipment, old: str, new: str, **fields: Any) -> None:
    """Compare-and-swap a shipment's state along SHIPMENT_TRANSITIONS."""
    from shebao.cards.models import SHIPMENT_TRANSITIONS

    if new not in SHIPMENT_TRANSITIONS.get(old, frozenset()):
        raise StateError("该批社保卡已签收入库，无需重复签收")
    if Shipment.objects.filter(pk=shipment.pk, state=old).update(state=new, **fields) != 1:
        raise StateError("该批社保卡已签收入库，无需重复签收")


def shipment_receive(
    *,
    shipment: Shipment,
    custodian: str,
    actor: Any,
    missing_card_nos: Sequence[str] = (),
    shortage_note: str = "",
) -> Shipment:
    """The outlet signs the shipment in: every card found gets a `received` line at the outlet, state 网点待领.

    Cards the outlet did not find in the boxes are listed by number with a note: they stay in transit
    (no location holds them), the shipment is 有短缺待查, and `shipment_receive_late` signs them in
    if they turn up. The signed record (附件2) then matches what the outlet really holds.
    """
    if not custodian.strip():
        raise ValidationError("请填写入库保管责任人", field="custodian")
    outlet = shipment.destination.outlet
    assert outlet is not None
    _require_outlet_scope(actor, outlet)
    missing = _card_nos(missing_card_nos, field="missing_card_nos")
    note = shortage_note.strip()
    if missing and not note:
        raise ValidationError("有短缺卡的，请填写短缺说明（如箱号、清点经过）", field="shortage_note")
    with transaction.atomic():
        now = timezone.now()
        cards = _lock_cards(_shipment_outstanding_ids(shipment))
        numbers = {c.card_no for c in cards}
        stray = sorted(missing - numbers)
        if stray:
            raise ValidationError(
                f"以下卡号不在本批配送中：{'、'.join(stray[:20])}", field="missing_card_nos"
            )
        present = [c for c in cards if c.card_no not in missing]
        if cards and not present:
            raise ValidationError(
                "本批卡片全部短缺：整批未收到的请勿签收，请与中心库房核查", field="missing_card_nos"
            )
        _shipment_claim(
            shipment,
            Shipment.State.IN_TRANSIT,
            Shipment.State.SHORT if missing else Shipment.State.RECEIVED,
            received_at=now,
            shortage_note=note[:200] if missing else "",
        )
        if present:
            _post_many(
                present,
                shipment.destination,
                CardMovement.Kind.RECEIVED,
                CardState.IN_STOCK,
                custodian=custodian.strip(),
                counterparty=f"{shipment.source.name} {shipment.handed_over_by}",
                batch_ref=shipment.boxes,
                shipment=shipment,
                actor=actor,
                action=actions.CARD_RECEIVE,
                reason=f"配送#{shipment.pk}签收入库",
                at=now,
            )
        if missing:
            audit_record(
                actor=actor,
                action=actions.CARD_RECEIVE_SHORT,
                obj=shipment,
                new={"received": len(present), "missing": sorted(missing)},
                reason=note,
            )
    shipment.refresh_from_db()
    return shipment


def _shortage_cards(shipment: Shipment, numbers: set[str]) -> tuple[Shipment, list[Card], list[Card]]:
    """Inside the caller's transaction: the shipment locked (it must have a shortage to look into), its
    cards still missing (locked), and those of them `numbers` names (each must be one of them)."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.state != Shipment.State.SHORT:
        raise StateError("该批配送没有待查的短缺卡")
    outstanding = _lock_cards(_shipment_outstanding_ids(locked))
    cards = [c for c in outstanding if c.card_no in numbers]
    stray = sorted(numbers - {c.card_no for c in cards})
    if stray:
        raise ValidationError(f"以下卡号不是本批的短缺卡：{'、'.join(stray[:20])}", field="card_nos")
    return locked, outstanding, cards


def shipment_receive_late(
    *, shipment: Shipment, card_nos: Sequence[str], custodian: str, actor: Any
) -> Shipment:
    """Cards listed missing at a shipment's sign-in turned up: they enter the outlet's stock now; once
    none is missing, the shipment is 已签收入库."""
    if not custodian.strip():
        raise ValidationError("请填写入库保管责任人", field="custodian")
    outlet = shipment.destination.outlet
    assert outlet is not None
    _require_outlet_scope(actor, outlet)
    found = _card_nos(card_nos, field="card_nos")
    if not found:
        raise ValidationError("请填写找到的短缺卡卡号", field="card_nos")
    with transaction.atomic():
        locked, outstanding, cards = _shortage_cards(shipment, found)
        now = timezone.now()
        _post_many(
            cards,
            locked.destination,
            CardMovement.Kind.RECEIVED,
            CardState.IN_STOCK,
            custodian=custodian.strip(),
            counterparty=f"{locked.source.name} {locked.handed_over_by}",
            batch_ref=locked.boxes,
            shipment=locked,
            actor=actor,
            action=actions.CARD_RECEIVE,
            reason=f"配送#{locked.pk}短缺卡补收入库",
            at=now,
        )
        if len(cards) == len(outstanding):
            _shipment_claim(locked, Shipment.State.SHORT, Shipment.State.RECEIVED)
    shipment.refresh_from_db()
    return shipment


def shipment_cards_declare_lost(
    *, shipment: Shipment, card_nos: Sequence[str], reason: str, actor: Any
) -> list[Card]:
    """Cards listed missing at a shipment's sign-in that were not found (配送遗失): a supervisor voids
    each (已注销; its bank blocks the account) and applies for a new card for the holder, with the
    delivery and outlet of the lost card's application and its photo, free of charge. Once nothing is
    outstanding the shipment is 已签收入库. Returns the new cards."""
    if not actor.can("card.declare_lost"):
        raise PermissionDenied("配送短缺卡认定遗失须由中心复核员办理")
    if not reason.strip():
        raise ValidationError("请填写认定遗失的核查经过（如与网点、物流核对结果）", field="reason")
    lost = _card_nos(card_nos, field="card_nos")
    if not lost:
        raise ValidationError("请填写认定遗失的短缺卡卡号", field="card_nos")
    with transaction.atomic():
        locked, outstanding, cards = _shortage_cards(shipment, lost)
        _require_cards_scope(actor, cards)
        why = f"配送#{locked.pk}短缺，认定遗失：{reason.strip()}"[:200]
        made = []
        for card in cards:
            _transition(
                card, CardState.CANCELLED, actor=actor, action=actions.CARD_LOST_IN_TRANSIT, reason=why
            )
            made.append(
                _apply_again(
                    card,
                    reason=CardApplication.Reason.LOST_IN_TRANSIT,
                    actor=actor,
                    outlet=None if card.application else locked.destination.outlet,
                )
            )
        audit_record(
            actor=actor,
            action=actions.CARD_LOST_IN_TRANSIT,
            obj=locked,
            new={"lost": sorted(c.card_no for c in cards if c.card_no)},
            reason=reason.strip(),
        )
        if len(cards) == len(outstanding):
            _shipment_claim(locked, Shipment.State.SHORT, Shipment.State.RECEIVED)
    shipment.refresh_from_db()
    return made


# ---------------------------------------------------------------- notices and issuing


def card_notice_record(
    *,
    outlet: Outlet,
    channel: str,
    actor: Any,
    employer: Employer | None = None,
    person: Person | None = None,
    sent_at: dt.datetime | None = None,
    note: str = "",
    recipient: str = "",
) -> CardNotice:
    """Record that an outlet tells a unit or a person that cards are waiting (phone, SMS, fax, written).

    The full message is kept on the notice; after the commit it goes out through the one pluggable
    sender (`shebao.cards.notify`), which marks the notice sent or failed.
    """
    from shebao.cards.conf import unit_pickup_workdays
    from shebao.core.selectors import workday_calendar

    _require_outlet_scope(actor, outlet)
    if channel not in CardNotice.Channel.values:
        raise ValidationError("请选择通知方式", field="channel")
    if employer is None and person is None:
        raise ValidationError("请选择被通知的单位或个人", field="employer")
    location = CardLocation.objects.filter(outlet=outlet).first()
    waiting = Card.objects.filter(
        pk__in=card_ids_in_stock([location.pk] if location else []), state=CardState.IN_STOCK
    )
    waiting = waiting.filter(person__employer=employer) if employer else waiting.filter(person=person)
    count = waiting.count()
    addressee = employer.name if employer else person.name  # type: ignore[union-attr]
    if count == 0:
        raise ValidationError(f"“{outlet.name}”没有{addressee}待领的社保卡，无需通知", field="employer")
    sent_at = sent_at or timezone.now()
    if not recipient.strip():
        recipient = (employer.contact_phone if employer else person.phone) or ""  # type: ignore[union-attr]
    if employer is not None:
        days = unit_pickup_workdays()
        deadline = workday_calendar().add_workdays(timezone.localtime(sent_at).date(), days)
        message = (
            f"{employer.name}：贵单位{count}名参保人员的社会保障卡已到{outlet.name}，"
            f"请于{deadline.year}年{deadline.month}月{deadline.day}日前（{days}个工作日内）由2名经办人持单位介绍信和本人身份证前来集中领取。"
        )
    else:
        message = (
            f"{person.name}您好：您的社会保障卡已到{outlet.name}，"  # type: ignore[union-attr]
            "请本人携带身份证前来领取；委托他人代领的，代办人须携带本人及您的身份证。"
        )
    if note.strip():
        message += f"（{note.strip()}）"
    with transaction.atomic():
        notice = CardNotice.objects.create(
            outlet=outlet,
            employer=employer,
            person=person,
            channel=channel,
            sent_at=sent_at,
            note=note.strip()[:200],
            recipient=recipient.strip()[:200],
            message=message,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.CARD_NOTICE,
            obj=notice,
            new={
                "outlet": outlet.code,
                "employer": employer.pk if employer else None,
                "person": person.pk if person else None,
                "channel": channel,
                "cards": count,
            },
        )
        # The outside world hears of it only once the record is safely stored.
        transaction.on_commit(lambda: notice_deliver(notice_id=notice.pk))
    return notice


def notice_deliver(*, notice_id: int) -> CardNotice:
    """Hand one pending notice to the configured sender and record what it answered."""
    from shebao.cards.models import NoticeDelivery
    from shebao.cards.notify import NoticeSendError, get_sender

    notice = CardNotice.objects.select_related("outlet", "employer", "person", "created_by").get(pk=notice_id)
    if notice.delivery != NoticeDelivery.PENDING:
        return notice
    sender_name = ""
    try:
        sender = get_sender()
        sender_name = str(getattr(sender, "name", type(sender).__name__))
        ref = sender.send(notice)
    except NoticeSendError as exc:
        state, error, ref = NoticeDelivery.FAILED, str(exc)[:200], ""
    else:
        state, error = NoticeDelivery.SENT, ""
    now = timezone.now()
    with transaction.atomic():
        changed = CardNotice.objects.filter(pk=notice.pk, delivery=NoticeDelivery.PENDING).update(
            delivery=state, delivered_at=now, sender=sender_name[:100], delivery_error=error
        )
        if changed:
            audit_record(
                actor=notice.created_by,
                action=actions.CARD_NOTICE_SEND,
                obj=notice,
                old={"delivery": NoticeDelivery.PENDING},
                new={"delivery": state, "sender": sender_name, "ref": ref, "error": error},
            )
    notice.refresh_from_db()
    return notice


def notice_resend(*, notice: CardNotice, actor: Any) -> CardNotice:
    """Send a failed notice again (the gateway was down): it goes back to pending and, after the
    commit, through the configured sender once more. A notice that was sent is not sent twice."""
    from shebao.cards.models import NoticeDelivery

    _require_outlet_scope(actor, notice.outlet)
    with transaction.atomic():
        changed = CardNotice.objects.filter(pk=notice.pk, delivery=NoticeDelivery.FAILED).update(
            delivery=NoticeDelivery.PENDING, delivered_at=None, delivery_error=""
        )
        if changed != 1:
            raise StateError("只有发送失败的通知可以重新发送（该通知已发送或正在发送）")
        audit_record(
            actor=actor,
            action=actions.CARD_NOTICE_RESEND,
            obj=notice,
            old={"delivery": NoticeDelivery.FAILED, "error": notice.delivery_error},
            new={"delivery": NoticeDelivery.PENDING},
        )
        transaction.on_commit(lambda: notice_deliver(notice_id=notice.pk))
    notice.delivery, notice.delivered_at, notice.delivery_error = NoticeDelivery.PENDING, None, ""
    return notice


def _social_channel_of(outlet: Outlet) -> str:
    channels: dict[str, str] = {
        Outlet.Kind.SERVICE_WINDOW: SocialChannel.WINDOW,
        Outlet.Kind.GRASSROOTS_STATION: SocialChannel.TOWNSHIP_STATION,
    }
    return channels.get(outlet.kind, SocialChannel.BANK_OUTLET)


def _check_in_outlet_stock(card: Card, location: CardLocation, outlet: Outlet) -> None:
    if card.state != CardState.IN_STOCK or card_balance_at(card.pk, location.pk) < 1:
        raise StateError(f"卡号 {card.card_no or '（未制卡）'} 不在“{outlet.name}”的库存中，不能在此发放")
    if card.person.is_deceased:
        raise StateError(f"持卡人{card.person.name}已登记死亡，不能发放，请按废卡回收")
    _require_no_temp_card(card.person)


def _require_no_temp_card(person: Person) -> None:
    """发放正式卡片前核实临时卡: an outstanding temporary card is recovered or paid for first."""
    from shebao.cards.models import TempCard

    temp = TempCard.objects.filter(person=person, state=TempCard.State.OUTSTANDING).first()
    if temp is not None:
        raise StateError(
            f"{person.name}有未回收的临时卡（{temp.temp_no}），须先回收临时卡，"
            "或临时卡丢失、损坏的收取工本费后，再发放正式卡",
            field="temp_card",
        )


def _require_card_bank(actor: Any, card: Card) -> None:
    """Only the co-brand bank opens the card's bank account for use (金融功能由联名银行激活)."""
    if getattr(actor, "role", None) != Role.BANK_CLERK or getattr(actor, "bank_id", None) != card.bank_id:
        raise PermissionDenied(
            f"金融功能只能由联名银行（{card.bank.name}）的经办人员激活；"
            "综合服务窗口发卡后，由银行人员在本卡页面登记激活",
            field="activate_financial",
        )


def card_issue(
    *,
    card: Card,
    outlet: Outlet,
    mode: str,
    receiver: Receiver,
    actor: Any,
    activate_social: bool = False,
    activate_financial: bool = False,
) -> CardIssue:
    """Hand a card over the counter to its holder (本人领取) or an agent (代办人领取).

    The card must be in this outlet's stock. An agent is either the reserved one (same ID number) or a
    direct relative with the household register. An agent may have the social function enabled, never
    the financial one (the holder goes to the bank in person). The financial function is activated on
    the spot only by a clerk of the card's bank; at a comprehensive window the window enables the
    social function and the bank's clerk activates the financial one as a separate record.
    """
    _require_outlet_scope(actor, outlet)
    if mode not in (CardIssue.Mode.PERSONAL, CardIssue.Mode.AGENT):
        raise ValidationError("请选择本人领取或代办人领取", field="mode")
    name = normalize_name(receiver.name)
    if not name:
        raise ValidationError("请填写领取人姓名", field="receiver_name")
    receiver_ssn = parse_ssn(receiver.ssn).value
    if mode == CardIssue.Mode.PERSONAL and not (receiver.phone.strip() and receiver.address.strip()):
        raise ValidationError("本人领取须核对并登记持卡人的联系电话和住址", field="phone")
    if not receiver.form_signed:
        raise ValidationError("领取人须在《个人领取登记表》（附件5）上签字", field="form_signed")
    with transaction.atomic():
        card = _lock_card(card)
        location = outlet_location(outlet)
        _check_in_outlet_stock(card, location, outlet)
        holder = card.person
        application = card.application
        reserved = False
        if mode == CardIssue.Mode.PERSONAL:
            if receiver_ssn != holder.ssn or not names_equal(name, holder.name):
                raise ValidationError("领取人证件与持卡人不符，不能按本人领取办理", field="receiver_ssn")
        else:
            if receiver_ssn == holder.ssn:
                raise ValidationError("领取人是持卡人本人，请按本人领取办理", field="mode")
            if application is not None and application.agent_ssn:
                if receiver_ssn != application.agent_ssn or not names_equal(name, application.agent_name):
                    raise ValidationError(
                        f"领取人不是申领时预留的代办人（预留代办人：{application.agent_name}），不能代领",
                        field="receiver_ssn",
                    )
                if not receiver.applicant_id_shown:
                    raise ValidationError(
                        "预留代办人须出示本人及申领人的身份证，请查验申领人身份证", field="applicant_id_shown"
                    )
                reserved = True
            else:
                if receiver.relation not in DIRECT_RELATIVES:
                    raise ValidationError("未预留代办人的，只能由直系亲属代领", field="relation")
                if not receiver.household_register:
                    raise ValidationError(
                        "未预留代办人的，须查验证明直系亲属关系的户口本原件", field="household_register"
                    )
            if activate_financial:
                raise ValidationError(
                    "代办人领卡不能激活金融功能，须由持卡人本人持身份证到联名银行网点办理",
                    field="activate_financial",
                )
        if activate_financial:
            _require_card_bank(actor, card)
        now = timezone.now()
        _post(
            card,
            location,
            CardMovement.Kind.ISSUED,
            custodian=_custodian_of(actor),
            actor=actor,
            counterparty=name if mode == CardIssue.Mode.PERSONAL else f"{name}（代办）",
            at=now,
        )
        issue = CardIssue.objects.create(
            card=card,
            outlet=outlet,
            mode=mode,
            receiver_name=name,
            receiver_ssn=receiver_ssn,
            relation=receiver.relation if mode == CardIssue.Mode.AGENT and not reserved else "",
            reserved_agent=reserved,
            household_register=receiver.household_register and mode == CardIssue.Mode.AGENT and not reserved,
            applicant_id_shown=reserved,
            id_checked=True,
            form_signed=True,
            phone=receiver.phone.strip(),
            address=receiver.address.strip(),
            issued_at=now,
            created_by=actor,
        )
        _transition(
            card,
            CardState.ISSUED,
            actor=actor,
            action=actions.CARD_ISSUE,
            reason=f"{issue.get_mode_display()}：{name}",
        )
        if activate_social:
            _activate_social(card, channel=_social_channel_of(outlet), place=outlet.name, actor=actor, at=now)
        if activate_financial:
            _activate_financial(
                card, channel=FinancialChannel.COUNTER, place=outlet.name, actor=actor, at=now
            )
    return issue


def card_issue_collective(
    *,
    card_ids: Sequence[int],
    outlet: Outlet,
    employer: Employer,
    notice: CardNotice,
    letter_no: str,
    clerks: tuple[Receiver, Receiver],
    actor: Any,
    today: dt.date | None = None,
) -> UnitHandover:
    """单位集中领卡: two unit clerks with a letter of introduction, within the working days after the notice."""
    from shebao.cards.conf import unit_pickup_workdays
    from shebao.core.selectors import workday_calendar

    _require_outlet_scope(actor, outlet)
    if notice.outlet_id != outlet.pk or notice.employer_id != employer.pk:
        raise ValidationError("领卡通知不是本网点发给该单位的通知", field="notice")
    today = today or timezone.localdate()
    days = unit_pickup_workdays()
    deadline = workday_calendar().add_workdays(timezone.localtime(notice.sent_at).date(), days)
    if today > deadline:
        raise ValidationError(
            f"已超过领卡通知后{days}个工作日的期限（截止{deadline:%Y-%m-%d}），请重新通知单位", field="notice"
        )
    if not letter_no.strip():
        raise ValidationError("请填写单位介绍信编号", field="letter_no")
    (c1, c2) = clerks
    names = [normalize_name(c1.name), normalize_name(c2.name)]
    if not all(names):
        raise ValidationError("请填写两名单位经办人的姓名", field="clerks")
    ssns = [parse_ssn(c1.ssn).value, parse_ssn(c2.ssn).value]
    if ssns[0] == ssns[1]:
        raise ValidationError("集中领卡须由两名不同的单位经办人办理", field="clerks")
    if not card_ids:
        raise ValidationError("请选择要领取的社保卡")
    with transaction.atomic():
        location = outlet_location(outlet)
        cards = _lock_cards(card_ids)
        for card in cards:
            if card.person.employer_id != employer.pk:
                raise ValidationError(f"{card.person.name}不是{employer.name}的人员，不能由该单位集中领取")
            if card.state != CardState.IN_STOCK:
                raise StateError(f"卡号 {card.card_no} 不在“{outlet.name}”的库存中，不能在此发放")
            if card.person.is_deceased:
                raise StateError(f"持卡人{card.person.name}已登记死亡，不能发放，请按废卡回收")
            _require_no_temp_card(card.person)
        handover = UnitHandover.objects.create(
            outlet=outlet,
            employer=employer,
            notice=notice,
            letter_no=letter_no.strip(),
            clerk1_name=names[0],
            clerk1_ssn=ssns[0],
            clerk2_name=names[1],
            clerk2_ssn=ssns[1],
            card_count=len(cards),
            created_by=actor,
        )
        now = timezone.now()
        _post_many(
            cards,
            location,
            CardMovement.Kind.ISSUED,
            CardState.ISSUED,
            custodian=_custodian_of(actor),
            counterparty=f"{employer.name}（{names[0]}、{names[1]}）",
            batch_ref=f"移交单#{handover.pk}",
            actor=actor,
            action=actions.CARD_ISSUE_COLLECTIVE,
            reason=f"移交单#{handover.pk}",
            at=now,
        )
        CardIssue.objects.bulk_create(
            CardIssue(
                card=card,
                outlet=outlet,
                mode=CardIssue.Mode.UNIT_COLLECTIVE,
                receiver_name=names[0],
                receiver_ssn=ssns[0],
                handover=handover,
                issued_at=now,
                created_by=actor,
            )
            for card in cards
        )
    return handover


def unit_handover_settle(
    *, handover: UnitHandover, returned_card_ids: Sequence[int], custodian: str, actor: Any
) -> UnitHandover:
    """The unit hands back the cards it could not give to its members (文登: 发卡名单和未发社保卡交回).

    Returned cards go back into the outlet's stock (ledger `returned`); the others stay issued and the
    bank may enable them. A handover is settled once.
    """
    if not custodian.strip():
        raise ValidationError("请填写接收交回卡片的保管责任人", field="custodian")
    _require_outlet_scope(actor, handover.outlet)
    with transaction.atomic():
        locked = UnitHandover.objects.select_for_update().get(pk=handover.pk)
        if locked.settled_at is not None:
            raise StateError("该移交单已办理交回，不能重复办理")
        own = set(CardIssue.objects.filter(handover=locked).values_list("card_id", flat=True))
        stray = set(returned_card_ids) - own
        if stray:
            raise ValidationError("交回的卡中有不属于本移交单的卡，请核对")
        now = timezone.now()
        if returned_card_ids:
            cards = _lock_cards(returned_card_ids)
            _post_many(
                cards,
                outlet_location(locked.outlet),
                CardMovement.Kind.RETURNED,
                CardState.IN_STOCK,
                custodian=custodian.strip(),
                counterparty=f"{locked.employer.name}（未发出）",
                batch_ref=f"移交单#{locked.pk}",
                actor=actor,
                action=actions.CARD_HANDOVER_SETTLE,
                reason=f"移交单#{locked.pk}交回未发卡",
                at=now,
            )
        UnitHandover.objects.filter(pk=locked.pk).update(
            settled_at=now, settled_by=actor, returned_count=len(returned_card_ids)
        )
        audit_record(
            actor=actor,
            action=actions.CARD_HANDOVER_SETTLE,
            obj=locked,
            new={"returned": sorted(returned_card_ids), "handed_out": len(own) - len(returned_card_ids)},
        )
    handover.refresh_from_db()
    return handover


# ---------------------------------------------------------------- activation


def _activate_social(card: Card, *, channel: str, place: str, actor: Any, at: dt.datetime) -> bool:
    if card.ss_activated_at is not None:
        return False
    if card.state != CardState.ISSUED:
        raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，不能启用人社功能")
    if channel not in SocialChannel.values:
        raise ValidationError("请选择人社功能的启用方式", field="channel")
    user = actor if getattr(actor, "pk", None) else None
    Card.objects.filter(pk=card.pk, ss_activated_at__isnull=True).update(
        ss_activated_at=at, ss_activated_place=place[:100], ss_activated_channel=channel, ss_activated_by=user
    )
    card.ss_activated_at, card.ss_activated_place, card.ss_activated_channel = at, place, channel
    audit_record(
        actor=actor,
        action=actions.CARD_ACTIVATE_SOCIAL,
        obj=card,
        new={"channel": channel, "place": place, "at": at},
    )
    social_function_enabled.send(sender=Card, card=card, actor=actor, at=at, channel=channel)
    return True


def _activate_financial(card: Card, *, channel: str, place: str, actor: Any, at: dt.datetime) -> bool:
    if card.fin_activated_at is not None:
        return False
    if card.state != CardState.ISSUED:
        raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，不能激活金融功能")
    if channel not in FinancialChannel.values:
        raise ValidationError("请选择金融功能的激活方式", field="channel")
    if not card.bank_account:
        raise StateError("该卡没有金融账号，不能激活金融功能")
    user = actor if getattr(actor, "pk", None) else None
    Card.objects.filter(pk=card.pk, fin_activated_at__isnull=True).update(
        fin_activated_at=at,
        fin_activated_place=place[:100],
        fin_activated_channel=channel,
        fin_activated_by=user,
    )
    card.fin_activated_at, card.fin_activated_place, card.fin_activated_channel = at, place, channel
    # Offered, not written: the account-switching app decides when the card account starts paying.
    CardAccountOffer.objects.create(
        person_id=card.person_id, card=card, bank_id=card.bank_id, account_no=card.bank_account, offered_at=at
    )
    audit_record(
        actor=actor,
        action=actions.CARD_ACTIVATE_FINANCIAL,
        obj=card,
        new={"channel": channel, "place": place, "at": at, "account": card.bank_account},
    )
    return True


def card_activate_social(
    *, card: Card, channel: str, place: str, actor: Any, at: dt.datetime | None = None
) -> Outcome:
    """Enable the social-insurance function (window, township station, bank outlet, or centrally for mail)."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        changed = _activate_social(card, channel=channel, place=place, actor=actor, at=at or timezone.now())
    return Outcome(card, changed)


def card_activate_financial(
    *, card: Card, channel: str, place: str, actor: Any, at: dt.datetime | None = None
) -> Outcome:
    """The co-brand bank activates the financial function; the card's account is offered for payments."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        # The page is the bank's alone (card.activate_financial); the service still takes a centre actor
        # recording what the bank reported (payments and switching call it so).
        if getattr(actor, "role", None) != Role.CENTRE_CLERK:
            _require_card_bank(actor, card)
        changed = _activate_financial(
            card, channel=channel, place=place, actor=actor, at=at or timezone.now()
        )
    return Outcome(card, changed)


# ---------------------------------------------------------------- loss, unlock, replacement


class LossKind:
    TEMPORARY = "temporary"
    FORMAL = "formal"


def _require_loss_scope(actor: Any, card: Card) -> None:
    _require_card_scope(actor, card)
    if getattr(actor, "role", None) == Role.BANK_CLERK and actor.bank_id != card.bank_id:
        raise PermissionDenied(f"该卡的挂失、解挂须由联名银行（{card.bank.name}）或社保经办机构办理")


def card_report_loss(*, card: Card, kind: str, actor: Any, reason: str = "") -> Outcome:
    """临时挂失 / 正式挂失. A request for the state the card is already in is a normal answer."""
    if kind not in (LossKind.TEMPORARY, LossKind.FORMAL):
        raise ValidationError("请选择临时挂失或正式挂失", field="kind")
    with transaction.atomic():
        card = _lock_card(card)
        _require_loss_scope(actor, card)
        if kind == LossKind.TEMPORARY:
            if card.state == CardState.TEMPORARILY_LOST:
                return Outcome(card, False)
            if card.state == CardState.FORMALLY_LOST:
                raise StateError("该卡已正式挂失，无需再临时挂失")
            _transition(
                card,
                CardState.TEMPORARILY_LOST,
                actor=actor,
                action=actions.CARD_LOSS_TEMPORARY,
                reason=reason,
            )
        else:
            if card.state == CardState.FORMALLY_LOST:
                return Outcome(card, False)
            _transition(
                card, CardState.FORMALLY_LOST, actor=actor, action=actions.CARD_LOSS_FORMAL, reason=reason
            )
    return Outcome(card, True)


def card_unlock(*, card: Card, actor: Any, reason: str = "") -> Outcome:
    """解挂: only a temporary loss can be lifted; an already normal card is a normal answer."""
    with transaction.atomic():
        card = _lock_card(card)
        _require_loss_scope(actor, card)
        if card.state == CardState.ISSUED:
            return Outcome(card, False)
        if card.state == CardState.FORMALLY_LOST:
            raise StateError("正式挂失的卡不能解挂，请办理补卡")
        if card.state != CardState.TEMPORARILY_LOST:
            raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，无需解挂")
        _transition(card, CardState.ISSUED, actor=actor, action=actions.CARD_UNLOCK, reason=reason)
    return Outcome(card, True)


def card_replace(
    *,
    card: Card,
    actor: Any,
    delivery: str = "",
    outlet: Outlet | None = None,
    reason: str = "",
) -> Card:
    """补卡: the formally lost card becomes 已补换 and a new card (a new number at production) is applied for."""
    with transaction.atomic():
        old = _lock_card(card)
        _require_card_scope(actor, old)
        if old.state != CardState.FORMALLY_LOST:
            raise StateError(f"补卡须先办理正式挂失（该卡当前状态为“{state_label(old.state)}”）")
        _transition(old, CardState.REPLACED, actor=actor, action=actions.CARD_REPLACE, reason=reason)
        if not delivery and old.application is None:
            raise ValidationError("请选择新卡的领卡方式", field="delivery")
        new = _apply_again(
            old, reason=CardApplication.Reason.REPLACEMENT, actor=actor, delivery=delivery, outlet=outlet
        )
    return new


def _apply_again(
    old: Card, *, reason: str, actor: Any, delivery: str = "", outlet: Outlet | None = None
) -> Card:
    """A new application replacing `old`: its person, bank and generation, and unless given its
    application's delivery, outlet, agent and mail details and its photo."""
    previous = old.application
    return card_apply(
        person=old.person,
        bank=old.bank,
        delivery=delivery or (previous.delivery if previous else DeliveryMode.OUTLET_PICKUP),
        outlet=outlet or (previous.outlet if previous else None),
        generation=old.generation,
        agent_name=previous.agent_name if previous else "",
        agent_ssn=previous.agent_ssn if previous else "",
        agent_relation=previous.agent_relation if previous else "",
        mail_address=previous.mail_address if previous else "",
        mail_phone=previous.mail_phone if previous else "",
        reason=reason,
        replaces=old,
        photo_from=previous,
        actor=actor,
    )


# States from which a card may be cancelled (注销), straight from the transition table.
CANCELLABLE_STATES = tuple(old for old, new in CARD_TRANSITIONS.items() if CardState.CANCELLED in new)


def card_cancel(*, card: Card, reason: str, actor: Any, returned_at: Outlet | None = None) -> Outcome:
    """注销: end a card. An application not yet produced is withdrawn; a card in the holder's hands or
    formally lost is cancelled. When the holder hands the cancelled card in at `returned_at`, it enters
    that outlet's custody (ledger `returned`) and later goes to the provincial centre for destruction.

    Cancelling a cancelled card again is a normal answer (nothing changes).
    """
    if not reason.strip():
        raise ValidationError("请填写注销原因", field="reason")
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        if card.state == CardState.CANCELLED:
            return Outcome(card, False)
        check_transition(card.state, CardState.CANCELLED)
        if returned_at is not None:
            if card.state != CardState.ISSUED:
                raise ValidationError(
                    f"社保卡当前状态为“{state_label(card.state)}”，没有可交回的实体卡", field="returned_at"
                )
            _require_outlet_scope(actor, returned_at)
            _post(
                card,
                outlet_location(returned_at),
                CardMovement.Kind.RETURNED,
                custodian=_custodian_of(actor),
                actor=actor,
                counterparty=f"{card.person.name}（注销交回）",
            )
        if card.application_id and card.state in (CardState.APPLIED, CardState.PRODUCTION_FAILED):
            CardApplication.objects.filter(pk=card.application_id).update(
                state=CardApplication.State.CANCELLED
            )
        where = f"（实体卡交回{returned_at.name}）" if returned_at is not None else ""
        _transition(
            card, CardState.CANCELLED, actor=actor, action=actions.CARD_CANCEL, reason=reason.strip() + where
        )
    return Outcome(card, True)


# ---------------------------------------------------------------- recall (error cards, waste cards)


def card_recall(
    *,
    card: Card,
    kind: str,
    reason: str,
    actor: Any,
    outlet: Outlet | None = None,
    cause: str = "",
    death_certificate_no: str = "",
    handed_in_by: str = "",
) -> CardRecall:
    """Take a card back as an error card (信息有误) or a waste card.

    An issued card comes back over the counter of `outlet` (ledger `recalled` there); a centre clerk
    without an outlet takes it back at the centre's window into the centre's vault. A card still in
    an outlet's stock or in the centre's vault is recalled where it lies. `handed_in_by` names who
    brought the card when it is not the holder (a family member of a deceased holder). The person may
    then apply for a new card.
    """
    if kind not in CardRecall.Kind.values:
        raise ValidationError("请选择回收类型", field="kind")
    if not reason.strip():
        raise ValidationError("请填写回收原因（如卡面信息错误的具体内容）", field="reason")
    from shebao.cards.models import WasteCause

    if kind == CardRecall.Kind.ERROR:
        cause = WasteCause.ERROR
    elif not cause:
        cause = WasteCause.OTHER_FAULT
    elif cause not in WasteCause.values or cause == WasteCause.ERROR:
        raise ValidationError("请选择废卡的作废原因", field="cause")
    if cause == WasteCause.DECEASED and not death_certificate_no.strip():
        raise ValidationError("持卡人死亡的废卡须登记死亡证明编号", field="death_certificate_no")
    handed_in_by = " ".join(handed_in_by.split())[:30]
    with transaction.atomic():
        card = _lock_card(card)
        _require_card_scope(actor, card)
        check_transition(card.state, CardState.RECALLED)
        now = timezone.now()
        if card.state == CardState.ISSUED:
            if outlet is not None:
                _require_outlet_scope(actor, outlet)
                location = outlet_location(outlet)
            elif getattr(actor, "role", None) == Role.CENTRE_CLERK:
                # 中心窗口收回: the card enters the centre's vault, the clerk is its custodian
                location = centre_location(actor_region(actor))
            else:
                raise ValidationError("请选择收回该卡的网点", field="outlet")
            _post(
                card,
                location,
                CardMovement.Kind.RECALLED,
                custodian=_custodian_of(actor),
                actor=actor,
                counterparty=f"{handed_in_by}（代{card.person.name}交回）"
                if handed_in_by
                else card.person.name,
                at=now,
            )
        else:
            where = card_location_now(card.pk)
            if where is None:
                raise StateError("该卡不在任何库位中，无法回收")
            if where.outlet_id is not None:
                _require_outlet_scope(actor, where.outlet)  # type: ignore[arg-type]
            location = where
        recall = CardRecall.objects.create(
            card=card,
            kind=kind,
            reason=reason.strip()[:200],
            cause=cause,
            death_certificate_no=death_certificate_no.strip()[:40],
            location=location,
            recalled_at=now,
            created_by=actor,
        )
        why = reason.strip() + (f"（{handed_in_by}交回）" if handed_in_by else "")
        _transition(card, CardState.RECALLED, actor=actor, action=actions.CARD_RECALL, reason=why)
    return recall


def error_card_reapply(
    *,
    card: Card,
    correction: str,
    actor: Any,
    name: str = "",
    delivery: str = "",
    outlet: Outlet | None = None,
    mail_address: str = "",
    mail_phone: str = "",
    photo: Any = None,
) -> Card:
    """信息有误: after the error card was recalled, the data is collected again and a new card is applied
    for, linked to the error card (`replaces`), with what was corrected.

    `name` corrects the holder's name in the person register when it was wrong on the card; a new
    `photo` replaces a wrong one (otherwise the old application's photo is reused). The previous
    application's delivery, outlet and reserved agent are kept unless given.
    """
    from shebao.cards.models import CardRecall
    from shebao.people.services import person_update

    if getattr(actor, "role", None) != Role.CENTRE_CLERK:
        raise PermissionDenied("信息有误卡须由中心窗口重新采集信息、受理申领")
    if not correction.strip():
        raise ValidationError("请填写更正内容（卡面哪项信息有误、更正为什么）", field="correction")
    with transaction.atomic():
        old = _lock_card(card)
        _require_card_scope(actor, old)
        recall = CardRecall.objects.filter(card=old, kind=CardRecall.Kind.ERROR).first()
        if old.state != CardState.RECALLED or recall is None:
            raise StateError("只有已回收的信息有误卡可以重新申领新卡")
        again = old.replaced_by.exclude(state=CardState.CANCELLED).first()
        if again is not None:
            raise StateError(f"该信息有误卡已重新申领新卡（{state_label(again.state)}），不能重复申领")
        person = old.person
        if name.strip() and not names_equal(name, person.name):
            person = person_update(
                actor=actor,
                person=person,
                changes={"name": name.strip()},
                reason=f"信息有误卡更正：{correction}",
            )
        previous = old.application
        if not delivery and previous is None:
            raise ValidationError("请选择新卡的领卡方式", field="delivery")
        delivery = delivery or previous.delivery  # type: ignore[union-attr]
        if delivery != DeliveryMode.MAIL:
            mail_address = mail_phone = ""
        elif not mail_address and previous is not None:
            mail_address, mail_phone = previous.mail_address, previous.mail_phone
        new = card_apply(
            person=person,
            bank=old.bank,
            delivery=delivery,
            outlet=outlet or (previous.outlet if previous else None),
            generation=old.generation,
            agent_name=previous.agent_name if previous else "",
            agent_ssn=previous.agent_ssn if previous else "",
            agent_relation=previous.agent_relation if previous else "",
            mail_address=mail_address,
            mail_phone=mail_phone,
            reason=CardApplication.Reason.ERROR_CARD,
            replaces=old,
            photo=photo,
            photo_from=previous if photo is None else None,
            correction=correction,
            actor=actor,
        )
    return new


def error_cards_handover(*, outlet: Outlet, handed_over_by: str, received_by: str, actor: Any) -> str:
    """信息有误人员清单 (附件4): the outlet hands its recalled error cards to the centre with the list.

    Every error card still in the outlet's custody leaves it (ledger `handed_over`) and enters the
    centre's vault (`received`), with one audit row per card. Returns the batch reference that the
    printed list carries.
    """
    from shebao.cards.models import CardRecall

    if not handed_over_by.strip() or not received_by.strip():
        raise ValidationError("交接双方的姓名都要填写", field="received_by")
    _require_outlet_scope(actor, outlet)
    centre = centre_location(actor_region(actor))
    now = timezone.now()
    batch = f"附件4-{outlet.code}-{timezone.localtime(now):%Y%m%d%H%M%S}"
    with transaction.atomic():
        location = outlet_location(outlet)
        ids = list(
            CardRecall.objects.filter(
                kind=CardRecall.Kind.ERROR,
                location=location,
                card__state=CardState.RECALLED,
                card_id__in=card_ids_in_stock([location.pk]),
            ).values_list("card_id", flat=True)
        )
        if not ids:
            raise ValidationError(f"“{outlet.name}”没有待移交的信息有误卡")
        cards = _lock_cards(ids)
        # Checked again under the lock: a second click at the same moment has already moved them.
        here = set(card_ids_in_stock([location.pk]).filter(card_id__in=ids).values_list("card_id", flat=True))
        cards = [c for c in cards if c.pk in here]
        if not cards:
            raise ValidationError(f"“{outlet.name}”没有待移交的信息有误卡")
        user = actor if getattr(actor, "pk", None) else None
        giver, taker = handed_over_by.strip()[:50], received_by.strip()[:50]
        CardMovement.objects.bulk_create(
            [
                *(
                    CardMovement(
                        card=c,
                        location=location,
                        kind=CardMovement.Kind.HANDED_OVER,
                        custodian=giver,
                        counterparty=f"{centre.name} {taker}"[:100],
                        batch_ref=batch,
                        at=now,
                        actor=user,
                    )
                    for c in cards
                ),
                *(
                    CardMovement(
                        card=c,
                        location=centre,
                        kind=CardMovement.Kind.RECEIVED,
                        custodian=taker,
                        counterparty=f"{outlet.name} {giver}"[:100],
                        batch_ref=batch,
                        at=now,
                        actor=user,
                    )
                    for c in cards
                ),
            ]
        )
        audit_record_many(
            actor=actor,
            action=actions.CARD_ERROR_HANDOVER,
            object_type="cards.card",
            rows=(
                {
                    "object_id": c.pk,
                    "object_repr": str(c.card_no),
                    "old": {"location": location.name},
                    "new": {"location": centre.name},
                }
                for c in cards
            ),
            reason=batch,
        )
    return batch


# ---------------------------------------------------------------- monthly vault closing (月清月结)


def vault_count_submit(
    *,
    location: CardLocation,
    period: int,
    card_nos: Sequence[str],
    counted_by: str,
    actor: Any,
    counted_at: dt.datetime | None = None,
) -> VaultClosing:
    """The custodian's physical count: every card found in the vault, compared with the ledger.

    The count is of the vault at the end of `period` (月清月结): it is compared with the ledger's stock
    at the month's end (the lines posted before the first moment of the next month), so a count
    entered days later is not thrown off by the cards received or issued since. Cards the ledger held
    but nobody found, and cards found that the ledger did not hold, become differences that must be
    explained before the month closes.
    """
    if not locations_visible_to(actor).filter(pk=location.pk).exists():
        raise PermissionDenied(f"您无权盘点“{location.name}”")
    period = parse_period(period)
    if period > period_of(timezone.localdate()):
        raise ValidationError("不能为未来的月份结账", field="period")
    if not counted_by.strip():
        raise ValidationError("请填写盘点人（保管责任人）", field="counted_by")
    counted: set[str] = set()
    bad: list[str] = []
    for raw in card_nos:
        if not raw.strip():
            continue
        try:
            counted.add(parse_card_no(raw))
        except ValidationError:
            bad.append(raw.strip())
    if bad:
        raise ValidationError(f"以下卡号格式有误，请核对：{'、'.join(bad[:20])}", field="card_nos")
    year, month = divmod(period, 100)
    month_end = timezone.make_aware(
        dt.datetime(year + month // 12, month % 12 + 1, 1), timezone.get_current_timezone()
    )
    ledger: dict[str, int] = {
        no: pk
        for no, pk in Card.objects.filter(
            pk__in=card_ids_in_stock([location.pk], before=month_end)
        ).values_list("card_no", "pk")
        if no
    }
    missing = sorted(set(ledger) - counted)
    extra = sorted(counted - set(ledger))
    extra_cards = dict(Card.objects.filter(card_no__in=extra).order_by("pk").values_list("card_no", "pk"))
    try:
        with transaction.atomic():
            closing = VaultClosing.objects.create(
                location=location,
                period=period,
                counted_by=counted_by.strip(),
                counted_at=counted_at or timezone.now(),
                counted_cards=len(counted),
                created_by=actor,
            )
            VaultDifference.objects.bulk_create(
                [
                    *(
                        VaultDifference(
                            closing=closing, kind=VaultDifference.Kind.MISSING, card_no=no, card_id=ledger[no]
                        )
                        for no in missing
                    ),
                    *(
                        VaultDifference(
                            closing=closing,
                            kind=VaultDifference.Kind.EXTRA,
                            card_no=no,
                            card_id=extra_cards.get(no),
                        )
                        for no in extra
                    ),
                ]
            )
            audit_record(
                actor=actor,
                action=actions.VAULT_COUNT,
                obj=closing,
                new={
                    "ledger": len(ledger),
                    "ledger_at": month_end,
                    "counted": len(counted),
                    "missing": missing,
                    "extra": extra,
                },
            )
    except IntegrityError:
        raise StateError(f"“{location.name}”{period}已盘点，不能重复盘点") from None
    return closing


def vault_difference_explain(*, difference: VaultDifference, explanation: str, actor: Any) -> VaultDifference:
    """Explain one difference (查明原因、分清责任)."""
    explanation = explanation.strip()
    if not explanation:
        raise ValidationError("请填写差异原因", field="explanation")
    with transaction.atomic():
        closing = VaultClosing.objects.select_for_update().get(pk=difference.closing_id)
        if not locations_visible_to(actor).filter(pk=closing.location_id).exists():
            raise PermissionDenied("您无权处理该库位的盘点差异")
        if closing.state != VaultClosing.State.COUNTED:
            raise StateError("该月已结账，差异说明不能再修改")
        old = difference.explanation
        now = timezone.now()
        VaultDifference.objects.filter(pk=difference.pk).update(
            explanation=explanation[:300], explained_by=actor, explained_at=now
        )
        audit_record(
            actor=actor,
            action=actions.VAULT_EXPLAIN,
            obj=closing,
            old={"card_no": difference.card_no, "explanation": old},
            new={"card_no": difference.card_no, "explanation": explanation},
        )
    difference.refresh_from_db()
    return difference


def vault_close(*, closing: VaultClosing, actor: Any) -> VaultClosing:
    """Close the month: only when every difference has been explained (帐卡相符)."""
    with transaction.atomic():
        locked = VaultClosing.objects.select_for_update().get(pk=closing.pk)
        if not locations_visible_to(actor).filter(pk=locked.location_id).exists():
            raise PermissionDenied("您无权为该库位结账")
        if locked.state == VaultClosing.State.CLOSED:
            raise StateError("该月已结账")
        open_diffs = locked.differences.filter(explanation="").count()
        if open_diffs:
            raise StateError(f"还有{open_diffs}处盘点差异未说明原因，不能结账")
        now = timezone.now()
        changed = VaultClosing.objects.filter(pk=locked.pk, state=VaultClosing.State.COUNTED).update(
            state=VaultClosing.State.CLOSED, closed_at=now, closed_by=actor
        )
        if changed != 1:
            raise StateError("该月结账状态已被他人修改，请刷新后重试")
        audit_record(
            actor=actor,
            action=actions.VAULT_CLOSE,
            obj=locked,
            old={"state": VaultClosing.State.COUNTED},
            new={"state": VaultClosing.State.CLOSED, "differences": locked.differences.count()},
        )
    closing.refresh_from_db()
    return closing


# ---------------------------------------------------------------- village distribution (进村发放)


def village_session_plan(
    *,
    outlet: Outlet,
    township: Any,
    held_on: dt.date,
    place: str,
    villages: str,
    notified_by: str,
    station_officer: str,
    bank_officer: str,
    actor: Any,
) -> VillageSession:
    """The station and the bank fix a date and place; the village committees notify the holders."""
    _require_outlet_scope(actor, outlet)
    if getattr(actor, "role", None) == Role.TOWNSHIP_CLERK and actor.township_id != township.pk:
        raise PermissionDenied(f"您只能为本乡镇计划进村发放，不能为{township.name}计划")
    if held_on < timezone.localdate():
        raise ValidationError("发放日期不能早于今天", field="held_on")
    for value, field, label in (
        (place, "place", "发放地点"),
        (villages, "villages", "已通知的村屯"),
        (notified_by, "notified_by", "通知方式/通知人"),
        (station_officer, "station_officer", "人社站社保卡专员"),
        (bank_officer, "bank_officer", "合作银行管理员"),
    ):
        if not value.strip():
            raise ValidationError(f"请填写{label}", field=field)
    with transaction.atomic():
        session = VillageSession.objects.create(
            outlet=outlet,
            township=township,
            held_on=held_on,
            place=place.strip()[:100],
            villages=villages.strip()[:300],
            notified_by=notified_by.strip()[:100],
            station_officer=station_officer.strip()[:50],
            bank_officer=bank_officer.strip()[:50],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.VILLAGE_SESSION_PLAN,
            obj=session,
            new={"held_on": held_on, "place": session.place, "villages": session.villages},
        )
    return session


@dataclass(frozen=True)
class VillageChecks:
    """What both officers checked at the table before the holder signs 附件5."""

    id_checked: bool = False
    photo_checked: bool = False
    address_checked: bool = False
    form_signed: bool = False


def card_issue_village(
    *,
    session: VillageSession,
    card: Card,
    receiver: Receiver,
    checks: VillageChecks,
    actor: Any,
    activate_financial: bool = False,
    password_changed: bool = False,
    today: dt.date | None = None,
) -> CardIssue:
    """进村发放: the holder shows the ID, photo and address are compared, the form is signed; the bank's
    mobile terminal activates the card on the spot once the holder has changed the password."""
    _require_outlet_scope(actor, session.outlet)
    if session.state != VillageSession.State.PLANNED:
        raise StateError("该进村发放场次已结束，不能再发卡")
    if (today or timezone.localdate()) != session.held_on:
        raise ValidationError(f"该场次的发放日期是{session.held_on:%Y-%m-%d}，只能在当日登记发放")
    missing = [
        label
        for ok, label in (
            (checks.id_checked, "身份证件"),
            (checks.photo_checked, "照片"),
            (checks.address_checked, "住址信息"),
        )
        if not ok
    ]
    if missing:
        raise ValidationError(f"请先核对领卡人的{'、'.join(missing)}", field="id_checked")
    if not checks.form_signed:
        raise ValidationError("领卡人须在《个人领取登记表》上签字", field="form_signed")
    if activate_financial and not password_changed:
        raise ValidationError("移动终端激活金融功能须由持卡人现场修改密码", field="password_changed")
    name = normalize_name(receiver.name)
    receiver_ssn = parse_ssn(receiver.ssn).value
    with transaction.atomic():
        card = _lock_card(card)
        holder = card.person
        if holder.township_id != session.township_id:
            raise ValidationError(f"{holder.name}不是{session.township}的参保人，不能在本场次领取")
        if receiver_ssn != holder.ssn or not names_equal(name, holder.name):
            raise ValidationError("领卡人证件与持卡人不符，进村发放只能由本人领取", field="receiver_ssn")
        location = outlet_location(session.outlet)
        _check_in_outlet_stock(card, location, session.outlet)
        now = timezone.now()
        _post(
            card,
            location,
            CardMovement.Kind.ISSUED,
            custodian=session.station_officer,
            actor=actor,
            counterparty=f"{name}（进村发放：{session.place}）",
            batch_ref=f"进村#{session.pk}",
            at=now,
        )
        issue = CardIssue.objects.create(
            card=card,
            outlet=session.outlet,
            mode=CardIssue.Mode.VILLAGE,
            receiver_name=name,
            receiver_ssn=receiver_ssn,
            phone=receiver.phone.strip(),
            address=receiver.address.strip(),
            village_session=session,
            id_checked=True,
            photo_checked=True,
            address_checked=True,
            form_signed=True,
            password_changed=password_changed and activate_financial,
            issued_at=now,
            created_by=actor,
        )
        _transition(
            card, CardState.ISSUED, actor=actor, action=actions.CARD_ISSUE_VILLAGE, reason=session.place
        )
        _activate_social(
            card, channel=SocialChannel.TOWNSHIP_STATION, place=session.place, actor=actor, at=now
        )
        if activate_financial:
            _activate_financial(
                card,
                channel=FinancialChannel.MOBILE_TERMINAL,
                place=f"{session.place}（{session.bank_officer}移动终端）",
                actor=actor,
                at=now,
            )
    return issue


def village_session_close(*, session: VillageSession, actor: Any) -> VillageSession:
    """The officers leave the village; cards not handed out stay in the station's stock."""
    _require_outlet_scope(actor, session.outlet)
    with transaction.atomic():
        changed = VillageSession.objects.filter(pk=session.pk, state=VillageSession.State.PLANNED).update(
            state=VillageSession.State.CLOSED
        )
        if changed != 1:
            raise StateError("该进村发放场次已结束")
        audit_record(
            actor=actor,
            action=actions.VILLAGE_SESSION_CLOSE,
            obj=session,
            old={"state": VillageSession.State.PLANNED},
            new={"state": VillageSession.State.CLOSED, "issued": session.issues.count()},
        )
    session.refresh_from_db()
    return session


# ---------------------------------------------------------------- mail delivery (邮寄) with liveness proof

_MAIL_LABELS = dict(MailState.choices)
# Cards a holder may still ask to have mailed: not yet in anybody's hands.
MAILABLE_STATES = (
    CardState.APPLIED,
    CardState.IN_PRODUCTION,
    CardState.PRODUCED,
    CardState.SHIPPED,
    CardState.IN_STOCK,
)
_PROOF_TYPES: dict[str, dict[str, tuple[bytes, ...]]] = {
    # extension → accepted leading bytes (the file's own signature, not the name it came with)
    "video": {
        ".mp4": (b"ftyp",),
        ".mov": (b"ftyp", b"moov", b"wide", b"mdat"),
        ".webm": (b"\x1a\x45\xdf\xa3",),
    },
    "photo": {".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".png": (b"\x89PNG\r\n\x1a\n",)},
}


def _mail_transition(
    req: MailRequest, new: str, *, actor: Any, action: str, reason: str = "", **fields: Any
) -> None:
    old = req.state
    if new not in MAIL_TRANSITIONS.get(old, frozenset()):
        raise StateError(
            f"邮寄申请当前状态为“{_MAIL_LABELS.get(old, old)}”，不能办理为“{_MAIL_LABELS.get(new, new)}”"
        )
    changed = MailRequest.objects.filter(pk=req.pk, state=old).update(state=new, **fields)
    if changed != 1:
        raise StateError("该邮寄申请已被他人处理，请刷新后重试")
    req.state = new
    for k, v in fields.items():
        setattr(req, k, v)
    audit_record(
        actor=actor, action=action, obj=req, old={"state": old}, new={"state": new, **fields}, reason=reason
    )


def _on_behalf(actor: Any, card: Card) -> bool:
    """Whether `actor` acts for the holder: a centre clerk at the window (the holder present or calling).

    The holder acts for themself; nobody else may ask for a card to be mailed or upload the proofs.
    """
    if (
        getattr(actor, "role", None) == Role.CARDHOLDER
        and getattr(actor, "person_id", None) == card.person_id
    ):
        return False
    if getattr(actor, "role", None) == Role.CENTRE_CLERK:
        _require_card_scope(actor, card)
        return True
    raise PermissionDenied("邮寄领卡须由持卡人本人申请，或由中心窗口经办员代持卡人办理")


def _require_own_request(actor: Any, req: MailRequest) -> None:
    if getattr(actor, "role", None) == Role.CENTRE_CLERK:
        _require_card_scope(actor, req.card)
        return
    if getattr(actor, "person_id", None) != req.person_id:
        raise PermissionDenied("只能由持卡人本人（或中心窗口经办员代办）办理邮寄申请")


def mail_request_create(*, card: Card, address: str, phone: str, actor: Any) -> MailRequest:
    """Ask for the card by EMS (费用到付); the holder is told the phrase to read in the video.

    The holder asks from their own page; a centre clerk may ask on the holder's behalf (the holder at
    the window, or mail chosen at the application), uploading the proofs the holder provides.
    """
    from shebao.cards.conf import liveness_phrase

    _require_card_scope(actor, card)
    on_behalf = _on_behalf(actor, card)
    if card.state not in MAILABLE_STATES:
        raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，不能申请邮寄")
    address, phone = address.strip(), phone.strip()
    if len(address) < 6:
        raise ValidationError("请填写详细的邮寄地址（省、市、县、乡镇、街道门牌）", field="address")
    digits = phone.replace("-", "").replace(" ", "")
    if not (digits.isdigit() and 7 <= len(digits) <= 20):
        raise ValidationError("请填写正确的收件电话", field="phone")
    today = timezone.localdate()
    phrase = liveness_phrase().format(
        date=f"{today.year}年{today.month}月{today.day}日", name=card.person.name
    )
    try:
        with transaction.atomic():
            req = MailRequest.objects.create(
                card=card,
                person_id=card.person_id,
                address=address[:200],
                phone=phone[:30],
                phrase=phrase[:100],
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action=actions.MAIL_REQUEST,
                obj=req,
                new={"card": card.pk, "address": address, "on_behalf": on_behalf},
                reason="窗口代持卡人申请" if on_behalf else "",
            )
    except IntegrityError:
        raise StateError("该卡已有未完成的邮寄申请，请在原申请中继续办理") from None
    return req


def mail_request_from_application(*, card: Card, actor: Any) -> MailRequest:
    """The window prepares the mail request of a card whose application chose mail (邮寄), with the
    address and phone collected at the application."""
    application = card.application
    if application is None or application.delivery != DeliveryMode.MAIL:
        raise ValidationError("该卡申领时未选择邮寄领卡，请由持卡人申请邮寄或填写邮寄地址")
    return mail_request_create(
        card=card, address=application.mail_address, phone=application.mail_phone, actor=actor
    )


def mail_proof_upload(*, request: MailRequest, kind: str, upload: Any, actor: Any) -> LivenessProof:
    """Store one liveness proof under MEDIA_ROOT; the type is checked by the file's own bytes, not its name."""
    from shebao.cards.conf import liveness_max_bytes

    _require_own_request(actor, request)
    if kind not in LivenessProof.Kind.values:
        raise ValidationError("请选择材料类型", field="kind")
    if request.state not in (MailState.REQUESTED, MailState.REJECTED):
        raise StateError("该邮寄申请已审核通过或已办结，不能再更换材料")
    family = "video" if kind == LivenessProof.Kind.VIDEO else "photo"
    accepted = _PROOF_TYPES[family]
    name = Path(getattr(upload, "name", "") or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in accepted:
        allowed = "、".join(sorted(accepted))
        raise ValidationError(f"{LivenessProof.Kind(kind).label}只能是 {allowed} 文件", field="file")
    size = int(getattr(upload, "size", 0) or 0)
    limit = liveness_max_bytes(family)
    if size == 0:
        raise ValidationError("上传的文件是空的", field="file")
    if size > limit:
        raise ValidationError(
            f"文件过大（{size // 1024 // 1024 + 1}MB），不能超过{limit // 1024 // 1024}MB", field="file"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    signatures = accepted[suffix]
    # ISO media files (mp4, mov) carry their signature after a 4-byte box length
    ok = any(head.startswith(sig) or (family == "video" and head[4:8] == sig) for sig in signatures)
    if not ok:
        kind_word = "视频" if family == "video" else "照片"
        raise ValidationError(f"文件内容与扩展名{suffix}不符，请上传原始的{kind_word}", field="file")
    content_type = {
        ".mp4": "video/mp4",
        ".mov": "video/quicktime",
        ".webm": "video/webm",
        ".png": "image/png",
    }.get(suffix, "image/jpeg")
    with transaction.atomic():
        locked = MailRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state not in (MailState.REQUESTED, MailState.REJECTED):
            raise StateError("该邮寄申请已审核通过或已办结，不能再更换材料")
        old = LivenessProof.objects.filter(request=locked, kind=kind).first()
        old_name = old.original_name if old else ""
        if old is not None:
            stale = old.file.name or ""
            old.delete()
            transaction.on_commit(lambda: default_storage.delete(stale))
        proof = LivenessProof(
            request=locked, kind=kind, original_name=name[:200], content_type=content_type, size=size
        )
        proof.file.save(f"{locked.pk}_{kind}{suffix}", upload, save=False)
        saved = proof.file.name or ""
        # a rolled-back upload must not leave a stray file with personal data behind
        try:
            proof.save()
        except BaseException:
            default_storage.delete(saved)
            raise
        audit_record(
            actor=actor,
            action=actions.MAIL_PROOF_UPLOAD,
            obj=locked,
            old={"kind": kind, "file": old_name} if old_name else None,
            new={"kind": kind, "file": name, "size": size},
        )
    return proof


def mail_request_resubmit(*, request: MailRequest, actor: Any) -> MailRequest:
    """After a rejection, the holder uploads better proofs and asks for review again."""
    _require_own_request(actor, request)
    with transaction.atomic():
        req = MailRequest.objects.select_for_update().get(pk=request.pk)
        _mail_transition(req, MailState.REQUESTED, actor=actor, action=actions.MAIL_REQUEST, reject_reason="")
    return req


def mail_request_cancel(*, request: MailRequest, actor: Any, reason: str = "") -> MailRequest:
    with transaction.atomic():
        req = MailRequest.objects.select_for_update().get(pk=request.pk)
        if getattr(actor, "person_id", None) != req.person_id:
            _require_card_scope(actor, req.card)
            if getattr(actor, "role", None) != Role.CENTRE_CLERK:
                raise PermissionDenied("只能由持卡人本人或中心经办员撤销邮寄申请")
        _mail_transition(req, MailState.CANCELLED, actor=actor, action=actions.MAIL_CANCEL, reason=reason)
    return req


def _require_reviewer(actor: Any, req: MailRequest) -> None:
    if getattr(actor, "role", None) != Role.CENTRE_CLERK:
        raise PermissionDenied("邮寄申请只能由中心经办员审核")
    _require_card_scope(actor, req.card)


def mail_request_approve(*, request: MailRequest, actor: Any) -> MailRequest:
    """The clerk has watched the video and looked at both photos: the holder is alive and is who they say."""
    with transaction.atomic():
        req = MailRequest.objects.select_for_update().select_related("card").get(pk=request.pk)
        _require_reviewer(actor, req)
        have = set(req.proofs.values_list("kind", flat=True))
        lacking = [LivenessProof.Kind(k).label for k in LivenessProof.Kind.values if k not in have]
        if lacking:
            raise ValidationError(f"材料不全，缺少：{'、'.join(lacking)}")
        _mail_transition(
            req,
            MailState.APPROVED,
            actor=actor,
            action=actions.MAIL_REVIEW,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
            reject_reason="",
        )
    return req


def mail_request_reject(*, request: MailRequest, reason: str, actor: Any) -> MailRequest:
    if not reason.strip():
        raise ValidationError("请填写未通过的原因，告诉持卡人如何补正", field="reason")
    with transaction.atomic():
        req = MailRequest.objects.select_for_update().select_related("card").get(pk=request.pk)
        _require_reviewer(actor, req)
        _mail_transition(
            req,
            MailState.REJECTED,
            actor=actor,
            action=actions.MAIL_REVIEW,
            reason=reason.strip(),
            reviewed_by=actor,
            reviewed_at=timezone.now(),
            reject_reason=reason.strip()[:200],
        )
    return req


def _parse_tracking_no(raw: str) -> str:
    """EMS: 13 digits (domestic) or two letters, nine digits, two letters (S10)."""
    value = raw.strip().upper().replace(" ", "")
    if len(value) == 13 and (
        value.isdigit() or (value[:2].isalpha() and value[2:11].isdigit() and value[11:].isalpha())
    ):
        return value
    raise ValidationError("EMS运单号格式有误（13位数字，或如 EA123456789CN）", field="tracking_no")


def mail_dispatch(*, request: MailRequest, tracking_no: str, actor: Any) -> CardIssue:
    """Post the card by EMS cash-on-delivery from the outlet that keeps it.

    The social function is enabled centrally (省厅制卡中心通过卡管系统激活); the financial one waits for
    the holder at a branch of the co-brand bank.
    """
    tracking_no = _parse_tracking_no(tracking_no)
    with transaction.atomic():
        req = MailRequest.objects.select_for_update().get(pk=request.pk)
        _require_reviewer(actor, req)
        if req.state != MailState.APPROVED:
            raise StateError(f"邮寄申请当前状态为“{_MAIL_LABELS[req.state]}”，审核通过后才能邮寄")
        card = _lock_card(req.card_id)
        location = card_location_now(card.pk)
        if card.state != CardState.IN_STOCK or location is None or location.outlet is None:
            raise StateError(f"社保卡当前状态为“{state_label(card.state)}”，须先配送到发放网点入库后才能邮寄")
        outlet = location.outlet
        _require_outlet_scope(actor, outlet)
        _check_in_outlet_stock(card, location, outlet)
        if MailRequest.objects.filter(tracking_no=tracking_no).exists():
            raise ValidationError("该EMS运单号已用于其他邮件，请核对", field="tracking_no")
        now = timezone.now()
        _post(
            card,
            location,
            CardMovement.Kind.ISSUED,
            custodian=_custodian_of(actor),
            actor=actor,
            counterparty=f"EMS {tracking_no}（到付）",
            batch_ref=f"邮寄#{req.pk}",
            at=now,
        )
        issue = CardIssue.objects.create(
            card=card,
            outlet=outlet,
            mode=CardIssue.Mode.MAIL,
            receiver_name=card.person.name,
            receiver_ssn=card.person.ssn,
            phone=req.phone,
            address=req.address,
            tracking_no=tracking_no,
            issued_at=now,
            created_by=actor,
        )
        _transition(
            card, CardState.ISSUED, actor=actor, action=actions.MAIL_DISPATCH, reason=f"EMS {tracking_no}"
        )
        _activate_social(
            card, channel=SocialChannel.CENTRAL, place="制卡中心（邮寄卡集中启用）", actor=actor, at=now
        )
        _mail_transition(
            req,
            MailState.DISPATCHED,
            actor=actor,
            action=actions.MAIL_DISPATCH,
            tracking_no=tracking_no,
            dispatched_at=now,
            dispatched_from=outlet,
        )
    return issue


# ---------------------------------------------------------------- temporary cards (临时卡)


def temp_card_register(
    *, person: Person, temp_no: str, issued_on: dt.date, actor: Any, outlet: Outlet | None = None
) -> TempCard:
    """Record a temporary card the person holds (from the card system), so the formal issue checks it.

    `outlet` is the outlet answerable for it until it is settled (where the formal card will be issued);
    the settling outlet replaces it.
    """
    if not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    if outlet is not None:
        _require_outlet_scope(actor, outlet)
    temp_no = temp_no.strip().upper()
    if not temp_no:
        raise ValidationError("请填写临时卡号", field="temp_no")
    if issued_on > timezone.localdate():
        raise ValidationError("发临时卡日期不能晚于今天", field="issued_on")
    try:
        with transaction.atomic():
            temp = TempCard.objects.create(
                person=person, temp_no=temp_no, issued_on=issued_on, outlet=outlet, created_by=actor
            )
            audit_record(
                actor=actor,
                action=actions.TEMP_CARD_REGISTER,
                obj=temp,
                new={"temp_no": temp_no, "outlet": outlet.code if outlet else None},
            )
    except IntegrityError:
        raise ValidationError(f"临时卡号 {temp_no} 已登记过", field="temp_no") from None
    return temp


def temp_card_settle(
    *, temp_card: TempCard, outcome: str, outlet: Outlet, actor: Any, receipt_no: str = ""
) -> TempCard:
    """Before the formal card: recover the temporary card, or, lost or damaged, charge the fee on a receipt."""
    from shebao.cards.conf import temp_card_fee

    _require_outlet_scope(actor, outlet)
    if not persons_visible_to(actor).filter(pk=temp_card.person_id).exists():
        raise PermissionDenied("该临时卡持有人不在您的管辖范围内")
    if outcome not in (TempCard.State.RECOVERED, TempCard.State.LOST, TempCard.State.DAMAGED):
        raise ValidationError("请选择回收临时卡，或临时卡丢失/损坏", field="outcome")
    fee = None
    receipt: str | None = None
    if outcome != TempCard.State.RECOVERED:
        receipt = receipt_no.strip().upper()
        if not receipt:
            raise ValidationError("临时卡丢失或损坏的，须收取工本费并填写收据编号", field="receipt_no")
        fee = temp_card_fee()
    now = timezone.now()
    try:
        with transaction.atomic():
            changed = TempCard.objects.filter(pk=temp_card.pk, state=TempCard.State.OUTSTANDING).update(
                state=outcome, fee=fee, receipt_no=receipt, outlet=outlet, settled_at=now, settled_by=actor
            )
            if changed != 1:
                raise StateError(f"临时卡 {temp_card.temp_no} 已处理过，无需重复办理")
            audit_record(
                actor=actor,
                action=actions.TEMP_CARD_SETTLE,
                obj=temp_card,
                old={"state": TempCard.State.OUTSTANDING},
                new={"state": outcome, "fee": fee, "receipt_no": receipt, "outlet": outlet.code},
            )
    except IntegrityError:
        raise ValidationError(f"收据编号 {receipt} 已使用过，请核对收据", field="receipt_no") from None
    temp_card.refresh_from_db()
    return temp_card


def temp_card_reconcile(
    *, outlet: Outlet, period: int, checked_by: str, actor: Any, today: dt.date | None = None
) -> TempCardReconciliation:
    """每月15日（遇节假日顺延）: the month's recovered temporary cards and fees at one outlet are checked.

    Everything settled at the outlet up to the reconciliation day and not yet in an earlier
    reconciliation is taken in; the report sums the fees from those rows.
    """
    from shebao.cards.selectors import temp_reconcile_date

    _require_outlet_scope(actor, outlet)
    period = parse_period(period)
    if not checked_by.strip():
        raise ValidationError("请填写核对人", field="checked_by")
    day = temp_reconcile_date(period)
    if (today or timezone.localdate()) < day:
        raise ValidationError(f"{period}的临时卡核对日是{day:%Y-%m-%d}，尚未到核对日", field="period")
    cutoff = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    try:
        with transaction.atomic():
            rec = TempCardReconciliation.objects.create(
                outlet=outlet,
                period=period,
                reconcile_date=day,
                checked_by=checked_by.strip()[:50],
                created_by=actor,
            )
            taken = (
                TempCard.objects.filter(outlet=outlet, reconciliation__isnull=True, settled_at__lt=cutoff)
                .exclude(state=TempCard.State.OUTSTANDING)
                .update(reconciliation=rec)
            )
            audit_record(
                actor=actor,
                action=actions.TEMP_CARD_RECONCILE,
                obj=rec,
                new={"outlet": outlet.code, "period": period, "cards": taken},
            )
    except IntegrityError:
        raise StateError(f"“{outlet.name}”{period}的临时卡已核对过") from None
    return rec


# ---------------------------------------------------------------- waste-card destruction (废卡销毁)


def provincial_location(region: Region) -> CardLocation:
    """The provincial information centre's vault: the centre vault of the top of the region's tree."""
    top = region
    seen = {top.pk}
    while top.parent_id is not None and top.parent_id not in seen:
        top = Region.objects.get(pk=top.parent_id)
        seen.add(top.pk)
    return centre_location(top)


DESTROYABLE_STATES = (CardState.RECALLED, CardState.CANCELLED)


def waste_handover(
    *, card_ids: Sequence[int], handed_over_by: str, received_by: str, actor: Any
) -> CardDestruction:
    """由各地区信息管理部门集中交付省厅: waste cards in the region's custody go to the provincial centre."""
    from shebao.cards.models import CardRecall, WasteCause

    if not card_ids:
        raise ValidationError("请选择要交付销毁的废卡")
    if not handed_over_by.strip() or not received_by.strip():
        raise ValidationError("交接双方的姓名都要填写", field="received_by")
    region = actor_region(actor)
    province = provincial_location(region)
    visible_locations = set(locations_visible_to(actor).values_list("pk", flat=True))
    with transaction.atomic():
        cards = _lock_cards(card_ids)
        _require_cards_scope(actor, cards)
        causes = dict(CardRecall.objects.filter(card__in=cards).values_list("card_id", "cause"))
        if CardDestructionItem.objects.filter(card__in=cards).exists():
            raise StateError("有废卡已交付过省厅，不能重复交付")
        now = timezone.now()
        destruction = CardDestruction.objects.create(
            region=region,
            card_count=len(cards),
            handed_over_by=handed_over_by.strip()[:50],
            received_by=received_by.strip()[:50],
            handed_over_at=now,
            created_by=actor,
        )
        for card in cards:
            if card.state not in DESTROYABLE_STATES:
                raise StateError(
                    f"卡号 {card.card_no} 当前状态为“{state_label(card.state)}”，只有已回收或已注销的卡可以交付销毁"
                )
            where = card_location_now(card.pk)
            if where is None or where.pk not in visible_locations:
                raise StateError(f"卡号 {card.card_no} 不在本地区的库房中，请先回收入库")
            _post(
                card,
                where,
                CardMovement.Kind.HANDED_OVER,
                custodian=handed_over_by.strip(),
                actor=actor,
                counterparty=f"{province.name} {received_by.strip()}",
                batch_ref=f"销毁#{destruction.pk}",
                at=now,
            )
            _post(
                card,
                province,
                CardMovement.Kind.RECEIVED,
                custodian=received_by.strip(),
                actor=actor,
                counterparty=f"{where.name} {handed_over_by.strip()}",
                batch_ref=f"销毁#{destruction.pk}",
                at=now,
            )
        CardDestructionItem.objects.bulk_create(
            CardDestructionItem(
                destruction=destruction, card=c, cause=causes.get(c.pk) or WasteCause.OTHER_FAULT
            )
            for c in cards
        )
        audit_record(
            actor=actor,
            action=actions.CARD_WASTE_HANDOVER,
            obj=destruction,
            new={"cards": [c.pk for c in cards], "received_by": received_by.strip()},
        )
    return destruction


def waste_destroy(
    *,
    destruction: CardDestruction,
    place: str,
    method: str,
    witness_centre: str,
    witness_bank: str,
    witness_factory: str,
    actor: Any,
) -> CardDestruction:
    """省厅统一组织合作银行及卡厂进行销毁: every card's final state is destroyed, in front of three witnesses."""
    for value, field, label in (
        (place, "place", "销毁地点"),
        (method, "method", "销毁方式"),
        (witness_centre, "witness_centre", "省厅信息管理中心监销人"),
        (witness_bank, "witness_bank", "合作银行监销人"),
        (witness_factory, "witness_factory", "卡厂监销人"),
    ):
        if not value.strip():
            raise ValidationError(f"请填写{label}", field=field)
    if getattr(actor, "role", None) != Role.CENTRE_CLERK and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("废卡销毁只能由中心经办员登记")
    with transaction.atomic():
        locked = CardDestruction.objects.select_for_update().get(pk=destruction.pk)
        if (
            locked.region_id not in region_ids_under(getattr(actor, "region_id", None))
            and not actor.is_superuser
        ):
            raise PermissionDenied("该废卡销毁记录不在您的管辖范围内")
        if locked.state != CardDestruction.State.HANDED_OVER:
            raise StateError("该批废卡已销毁，不能重复销毁")
        province = provincial_location(locked.region)
        cards = _lock_cards(list(locked.items.values_list("card_id", flat=True)))
        now = timezone.now()
        by_state: dict[str, list[Card]] = {}
        for card in cards:
            by_state.setdefault(card.state, []).append(card)
        for group in by_state.values():
            _post_many(
                group,
                province,
                CardMovement.Kind.DESTROYED,
                CardState.DESTROYED,
                custodian=witness_centre.strip(),
                actor=actor,
                action=actions.CARD_DESTROY,
                reason=f"销毁#{locked.pk}",
                at=now,
                counterparty=f"监销：{witness_bank.strip()}、{witness_factory.strip()}",
                batch_ref=f"销毁#{locked.pk}",
            )
        fields = {
            "state": CardDestruction.State.DESTROYED,
            "destroyed_at": now,
            "destroyed_by": actor,
            "place": place.strip()[:100],
            "method": method.strip()[:50],
            "witness_centre": witness_centre.strip()[:50],
            "witness_bank": witness_bank.strip()[:50],
            "witness_factory": witness_factory.strip()[:50],
        }
        changed = CardDestruction.objects.filter(
            pk=locked.pk, state=CardDestruction.State.HANDED_OVER
        ).update(**fields)
        if changed != 1:
            raise StateError("该批废卡已被他人处理，请刷新后重试")
        audit_record(
            actor=actor,
            action=actions.CARD_DESTROY,
            obj=locked,
            old={"state": CardDestruction.State.HANDED_OVER},
            new={k: v for k, v in fields.items() if k != "destroyed_by"},
        )
    destruction.refresh_from_db()
    return destruction


def document_disposal_record(
    *,
    document: str,
    medium: str,
    quantity: str,
    method: str,
    disposed_on: dt.date,
    disposed_by: str,
    witness: str,
    actor: Any,
    covers: str = "",
    outlet: Outlet | None = None,
) -> DocumentDisposal:
    """文件销毁/处置记录表 (附表6): after distribution the forms with personal data are destroyed and recorded."""
    if outlet is not None:
        _require_outlet_scope(actor, outlet)
    elif getattr(actor, "role", None) not in (Role.CENTRE_CLERK,) and not getattr(
        actor, "is_superuser", False
    ):
        raise ValidationError("请选择网点", field="outlet")
    if medium not in DocumentDisposal.Medium.values:
        raise ValidationError("请选择纸质或电子", field="medium")
    if method not in DocumentDisposal.Method.values:
        raise ValidationError("请选择销毁/处置方式", field="method")
    paper_methods = {DocumentDisposal.Method.SHRED, DocumentDisposal.Method.BURN}
    if (medium == DocumentDisposal.Medium.PAPER) != (method in paper_methods):
        raise ValidationError("纸质单据须粉碎或焚毁，电子文件须彻底删除或销毁介质", field="method")
    if disposed_on > timezone.localdate():
        raise ValidationError("销毁日期不能晚于今天", field="disposed_on")
    for value, field, label in (
        (document, "document", "文件名称"),
        (quantity, "quantity", "数量"),
        (disposed_by, "disposed_by", "执行人"),
        (witness, "witness", "监督人"),
    ):
        if not value.strip():
            raise ValidationError(f"请填写{label}", field=field)
    if disposed_by.strip() == witness.strip():
        raise ValidationError("执行人和监督人不能是同一人", field="witness")
    region = Region.objects.get(pk=outlet.region_id) if outlet is not None else actor_region(actor)
    with transaction.atomic():
        record = DocumentDisposal.objects.create(
            region=region,
            outlet=outlet,
            disposed_on=disposed_on,
            document=document.strip()[:200],
            medium=medium,
            quantity=quantity.strip()[:50],
            covers=covers.strip()[:100],
            method=method,
            disposed_by=disposed_by.strip()[:50],
            witness=witness.strip()[:50],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.DOCUMENT_DISPOSAL,
            obj=record,
            new={
                "document": record.document,
                "medium": medium,
                "method": method,
                "quantity": record.quantity,
            },
        )
    return record


# ---------------------------------------------------------------- the unit's side of a collective pickup (文登)


def unit_member_handout_record(
    *, handover: UnitHandover, card_ids: Sequence[int], handed_on: dt.date, actor: Any
) -> int:
    """The unit clerk records which members received their cards, before the list goes back to the outlet."""
    if getattr(actor, "role", None) != Role.UNIT_CLERK or actor.employer_id != handover.employer_id:
        raise PermissionDenied("只有本单位经办员可以登记发卡到人")
    if not card_ids:
        raise ValidationError("请勾选已发给本人的社保卡")
    if handed_on > timezone.localdate():
        raise ValidationError("发卡日期不能晚于今天", field="handed_on")
    if handed_on < timezone.localtime(handover.created_at).date():
        raise ValidationError("发卡日期不能早于从网点领卡的日期", field="handed_on")
    with transaction.atomic():
        locked = UnitHandover.objects.select_for_update().get(pk=handover.pk)
        if locked.settled_at is not None:
            raise StateError("该移交单已交回网点，不能再登记")
        own = CardIssue.objects.filter(handover=locked)
        stray = set(card_ids) - set(own.values_list("card_id", flat=True))
        if stray:
            raise ValidationError("勾选的卡中有不属于本移交单的卡，请核对")
        changed = own.filter(card_id__in=list(card_ids), member_received_on__isnull=True).update(
            member_received_on=handed_on, member_recorded_by=actor
        )
        audit_record(
            actor=actor,
            action=actions.CARD_MEMBER_HANDOUT,
            obj=locked,
            new={"cards": sorted(card_ids), "handed_on": handed_on, "newly_recorded": changed},
        )
    return changed


class HandoverActivation(NamedTuple):
    """How many of a handover's cards had each function enabled now (the others were already)."""

    social: int
    financial: int


def handover_activate(*, handover: UnitHandover, place: str, actor: Any) -> HandoverActivation:
    """文登: 工商银行根据发卡名单对已发卡人员进行社保卡启用.

    After the unit brought back its list, the co-brand bank enables every card handed out to a member
    (those not returned): the social function on behalf of the centre (channel 银行网点代办, through the
    one place that enables it, so campaigns move the medical balance) and the financial function by
    its mobile terminal at the unit.
    """
    if getattr(actor, "role", None) != Role.BANK_CLERK:
        raise PermissionDenied("集中领卡的统一启用只能由联名银行办理")
    if not place.strip():
        raise ValidationError("请填写激活地点（如单位名称及地址）", field="place")
    _require_outlet_scope(actor, handover.outlet)
    if handover.settled_at is None:
        raise StateError("单位尚未交回发卡名单，请先办理交回，再统一激活已发出的卡")
    ids = list(
        CardIssue.objects.filter(handover=handover, card__state=CardState.ISSUED, card__bank_id=actor.bank_id)
        .filter(Q(card__fin_activated_at__isnull=True) | Q(card__ss_activated_at__isnull=True))
        .values_list("card_id", flat=True)
    )
    if not ids:
        raise StateError("该移交单没有待启用的本行社保卡")
    social = financial = 0
    where = place.strip()
    with transaction.atomic():
        now = timezone.now()
        for card in _lock_cards(ids):
            if card.state != CardState.ISSUED:
                continue
            if _activate_social(
                card,
                channel=SocialChannel.BANK_OUTLET,
                place=f"{where}（按单位发卡名单）",
                actor=actor,
                at=now,
            ):
                social += 1
            if card.bank_account and _activate_financial(
                card, channel=FinancialChannel.MOBILE_TERMINAL, place=where, actor=actor, at=now
            ):
                financial += 1
        audit_record(
            actor=actor,
            action=actions.CARD_HANDOVER_ACTIVATE,
            obj=handover,
            new={"cards": ids, "place": where, "social": social, "financial": financial},
        )
    return HandoverActivation(social=social, financial=financial)


def handover_activate_financial(*, handover: UnitHandover, place: str, actor: Any) -> int:
    """`handover_activate`, answering how many cards had the financial function activated."""
    return handover_activate(handover=handover, place=place, actor=actor).financial
