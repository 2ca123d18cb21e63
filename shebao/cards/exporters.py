"""Lists written for others: the production file for the card factory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings

from shebao.cards.models import Card
from shebao.core.exporters import ListExporter
from shebao.people.models import Sex


def photo_entry_name(ssn: str, photo: str, taken: set[str]) -> str:
    """The photo's path inside the production zip: `photos/<社会保障号码>.<ext>`, empty without a photo.

    The factory matches photo and line by the name, so both the data file's column and the zip entry
    come from here; `taken` keeps a second application of the same person in one batch apart.
    """
    if not photo:
        return ""
    suffix = PurePosixPath(photo).suffix.lower() or ".jpg"
    name = f"photos/{ssn}{suffix}"
    n = 2
    while name in taken:
        name, n = f"photos/{ssn}_{n}{suffix}", n + 1
    taken.add(name)
    return name


class ProductionFileExporter(ListExporter):
    """制卡数据: one line per applied card, in the order the factory will pack the boxes."""

    title = "制卡数据"
    sheet_name = "制卡数据"

    def __init__(self, card_ids: Sequence[int]):
        self.card_ids = list(card_ids)

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "申领编号",
            "社会保障号码",
            "姓名",
            "性别",
            "出生日期",
            "民族",
            "发卡地区",
            "银行代码",
            "银行名称",
            "卡代别",
            "联系电话",
            "住址",
            "相片文件",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 10, 22, 12, 6, 12, 8, 10, 10, 20, 8, 14, 30, 28]

    def rows(self) -> Iterable[Sequence[Any]]:
        sexes = dict(Sex.choices)
        region = settings.SHEBAO_REGION_CODE
        taken: set[str] = set()
        for start in range(0, len(self.card_ids), 2000):
            chunk = self.card_ids[start : start + 2000]
            qs = (
                Card.objects.filter(pk__in=chunk)
                .order_by("pk")
                .values_list(
                    "application_id",
                    "person__ssn",
                    "person__name",
                    "person__sex",
                    "person__birth_date",
                    "person__ethnicity",
                    "person__region__code",
                    "bank__code",
                    "bank__name",
                    "generation",
                    "person__phone",
                    "person__address",
                    "application__photo",
                )
            )
            for n, (app, ssn, name, sex, birth, eth, reg, bcode, bname, gen, phone, addr, photo) in enumerate(
                qs, start=start + 1
            ):
                yield [
                    n,
                    app or "",
                    ssn,
                    name,
                    sexes.get(sex, sex),
                    birth.isoformat(),
                    eth,
                    reg or region,
                    bcode,
                    bname,
                    gen,
                    phone,
                    addr,
                    photo_entry_name(ssn, photo or "", taken),
                ]


def _ssn(value: str, full: bool) -> str:
    from shebao.core.values.masking import mask_ssn

    return value if full else mask_ssn(value)


class TempReconciliationExporter(ListExporter):
    """临时卡及工本费核对表 as xlsx: one row per temporary card settled in the reconciliation."""

    title = sheet_name = "临时卡核对"

    def __init__(self, reconciliation: Any, *, full_ids: bool):
        self.rec, self.full = reconciliation, full_ids

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "网点",
            "核对月份",
            "临时卡号",
            "姓名",
            "社会保障号码",
            "处理结果",
            "工本费（元）",
            "收据编号",
            "处理日期",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 20, 10, 14, 10, 22, 18, 12, 14, 12]

    def rows(self) -> Iterable[Sequence[Any]]:
        qs = self.rec.temp_cards.select_related("person").order_by("settled_at", "id")
        for n, t in enumerate(qs.iterator(chunk_size=2000), start=1):
            yield [
                n,
                self.rec.outlet.name,
                self.rec.period,
                t.temp_no,
                t.person.name,
                _ssn(t.person.ssn, self.full),
                t.get_state_display(),
                t.fee,
                t.receipt_no or "",
                t.settled_at.date().isoformat() if t.settled_at else "",
            ]


class DestructionExporter(ListExporter):
    """废卡交接及销毁明细 as xlsx."""

    title = sheet_name = "废卡销毁明细"

    def __init__(self, destruction: Any, *, full_ids: bool):
        self.destruction, self.full = destruction, full_ids

    def headers(self) -> Sequence[str]:
        return ["序号", "社会保障卡卡号", "姓名", "社会保障号码", "合作银行", "作废原因", "状态"]

    def column_widths(self) -> Sequence[int]:
        return [6, 14, 10, 22, 16, 24, 10]

    def rows(self) -> Iterable[Sequence[Any]]:
        items = self.destruction.items.select_related("card", "card__person", "card__bank").order_by(
            "cause", "card__card_no"
        )
        for n, i in enumerate(items.iterator(chunk_size=2000), start=1):
            yield [
                n,
                i.card.card_no,
                i.card.person.name,
                _ssn(i.card.person.ssn, self.full),
                i.card.bank.name,
                i.get_cause_display(),
                i.card.get_state_display(),
            ]


class DisposalExporter(ListExporter):
    """文件销毁/处置记录表 (附表6) as xlsx."""

    title = sheet_name = "文件销毁处置记录"

    def __init__(self, records: Any):
        self.records = records

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "销毁/处置日期",
            "部门/网点",
            "文件名称",
            "载体",
            "数量",
            "涉及批次/期间",
            "销毁/处置方式",
            "执行人",
            "监督人",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 12, 20, 30, 8, 12, 18, 16, 10, 10]

    def rows(self) -> Iterable[Sequence[Any]]:
        for n, r in enumerate(self.records.iterator(chunk_size=2000), start=1):
            yield [
                n,
                r.disposed_on.isoformat(),
                r.outlet.name if r.outlet else r.region.name,
                r.document,
                r.get_medium_display(),
                r.quantity,
                r.covers,
                r.get_method_display(),
                r.disposed_by,
                r.witness,
            ]


class ShipmentExporter(ListExporter):
    """合作银行社保卡领卡登记表 (附件2) as xlsx: one row per card handed over in the shipment."""

    title = sheet_name = "领卡登记表"

    def __init__(self, shipment: Any, *, full_ids: bool):
        self.shipment, self.full = shipment, full_ids

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "登记编号",
            "领卡网点",
            "箱号",
            "社会保障卡卡号",
            "姓名",
            "社会保障号码",
            "合作银行",
            "装箱位置",
            "交接时间",
            "交付人（人社部门）",
            "接收人（合作银行）",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 10, 20, 14, 14, 10, 22, 16, 14, 18, 14, 14]

    def rows(self) -> Iterable[Sequence[Any]]:
        from django.utils import timezone

        s = self.shipment
        at = timezone.localtime(s.created_at).strftime("%Y-%m-%d %H:%M")
        lines = (
            s.movements.filter(kind="handed_over")
            .order_by("card__box_position", "card__card_no")
            .values_list(
                "card__card_no",
                "card__person__name",
                "card__person__ssn",
                "card__bank__name",
                "card__box_position",
            )
        )
        for n, (card_no, name, ssn, bank, box) in enumerate(lines.iterator(chunk_size=2000), start=1):
            yield [
                n,
                s.pk,
                s.destination.name,
                s.boxes,
                card_no,
                name,
                _ssn(ssn, self.full),
                bank,
                box,
                at,
                s.handed_over_by,
                s.received_by,
            ]


class HandoverExporter(ListExporter):
    """集中领卡移交单 (附件3) as xlsx: the unit's cards, with the day the unit handed each to its member."""

    title = sheet_name = "集中领卡移交单"

    def __init__(self, handover: Any, *, full_ids: bool):
        self.handover, self.full = handover, full_ids

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "移交单编号",
            "领卡单位",
            "发放网点",
            "介绍信编号",
            "姓名",
            "社会保障号码",
            "社会保障卡卡号",
            "合作银行",
            "单位发给本人日期",
            "备注",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 10, 24, 20, 14, 10, 22, 14, 16, 14, 16]

    def rows(self) -> Iterable[Sequence[Any]]:
        h = self.handover
        issues = h.issues.select_related("card", "card__person", "card__bank").order_by(
            "card__person__name", "pk"
        )
        for n, i in enumerate(issues.iterator(chunk_size=2000), start=1):
            if i.member_received_on:
                note = "已发给本人"
            elif h.settled_at is not None:
                note = "未发出，已交回网点"
            else:
                note = ""
            yield [
                n,
                h.pk,
                h.employer.name,
                h.outlet.name,
                h.letter_no,
                i.card.person.name,
                _ssn(i.card.person.ssn, self.full),
                i.card.card_no,
                i.card.bank.name,
                i.member_received_on.isoformat() if i.member_received_on else "",
                note,
            ]


class ErrorListExporter(ListExporter):
    """信息有误人员清单 (附件4) as xlsx: the error cards recalled at the user's locations."""

    title = sheet_name = "信息有误人员清单"

    def __init__(self, recalls: Any, *, full_ids: bool):
        self.recalls, self.full = recalls, full_ids

    def headers(self) -> Sequence[str]:
        return [
            "序号",
            "姓名",
            "社会保障号码",
            "社会保障卡卡号",
            "合作银行",
            "错误信息",
            "回收网点",
            "回收日期",
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 10, 22, 14, 16, 30, 20, 12]

    def rows(self) -> Iterable[Sequence[Any]]:
        from django.utils import timezone

        for n, r in enumerate(self.recalls.iterator(chunk_size=2000), start=1):
            yield [
                n,
                r.card.person.name,
                _ssn(r.card.person.ssn, self.full),
                r.card.card_no,
                r.card.bank.name,
                r.reason,
                r.location.name,
                timezone.localtime(r.recalled_at).date().isoformat(),
            ]
