from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http.response import HttpResponseBase
from django.utils import timezone

from shebao.core.exporters import ListExporter
from shebao.core.values.masking import mask_phone, mask_ssn
from shebao.jobs.exports import ExportSpec, export_send, register_export
from shebao.people.models import Sex
from shebao.people.selectors import person_search


class PersonExporter(ListExporter):
    title = "人员名单"
    sheet_name = "人员名单"

    def __init__(self, user: Any, query: str = ""):
        self.user = user
        self.query = query

    def headers(self) -> Sequence[str]:
        return ["社会保障号码", "姓名", "性别", "出生日期", "民族", "联系电话", "参保单位", "乡镇（街道）", "状态"]

    def column_widths(self) -> Sequence[int]:
        return [22, 12, 6, 12, 8, 14, 30, 14, 8]

    def rows(self) -> Iterable[Sequence[Any]]:
        full = self.user.sees_full_ids
        sexes = dict(Sex.choices)
        qs = (
            person_search(self.user, self.query)
            .order_by("ssn")
            .values_list("ssn", "name", "sex", "birth_date", "ethnicity", "phone", "employer__name", "township__name", "death_date")
        )
        for ssn, name, sex, birth, eth, phone, emp, town, death in qs.iterator(chunk_size=5000):
            yield [
                ssn if full else mask_ssn(ssn),
                name,
                sexes.get(sex, sex),
                birth.isoformat(),
                eth,
                phone if full else mask_phone(phone),
                emp or "",
                town or "",
                "已死亡" if death else "正常",
            ]


def _build(user: Any, params: dict[str, Any]) -> tuple[ListExporter, str]:
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    return PersonExporter(user, params.get("query", "")), f"人员名单_{stamp}.xlsx"


PERSON_EXPORT = register_export(
    ExportSpec(
        name="people.persons",
        object_type="people.person",
        build=_build,
        count=lambda user, params: person_search(user, params.get("query", "")).count(),
    )
)


def person_export_response(request: Any, query: str) -> HttpResponseBase:
    """The person list as xlsx (at once, or by a background job when large); audited."""
    return export_send(request, PERSON_EXPORT.name, {"query": query})
