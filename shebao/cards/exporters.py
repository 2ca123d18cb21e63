"""Lists written for others: the production file for the card factory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings

from shebao.cards.models import Card
from shebao.core.exporters import ListExporter
from shebao.people.models import Sex


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
        ]

    def column_widths(self) -> Sequence[int]:
        return [6, 10, 22, 12, 6, 12, 8, 10, 10, 20, 8, 14, 30]

    def rows(self) -> Iterable[Sequence[Any]]:
        sexes = dict(Sex.choices)
        region = settings.SHEBAO_REGION_CODE
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
                )
            )
            for n, (app, ssn, name, sex, birth, eth, reg, bcode, bname, gen, phone, addr) in enumerate(
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
                ]
