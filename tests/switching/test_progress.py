"""Progress and deadlines: coverage per unit and township, overdue forms to chase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.core.values.period import period_of
from shebao.switching.models import VerificationForm
from shebao.switching.selectors import overdue_forms, progress_by_org
from tests.switching.factories import setup_forms_world

pytestmark = pytest.mark.django_db


def test_it_counts_coverage_forms_and_overdue_per_unit_and_township(world: Any) -> None:
    setup_forms_world(world, period=period_of(timezone.localdate()))
    today = timezone.localdate()
    late = VerificationForm.objects.get(employer=world.unit_b)
    VerificationForm.objects.filter(pk=late.pk).update(
        state="downloaded", downloaded_on=today - dt.timedelta(days=60), deadline=today - dt.timedelta(days=3)
    )
    rows = {r["name"]: r for r in progress_by_org(world.centre_clerk, period=period_of(today), today=today)}
    # 甲单位: 王小明, 甲二, 已用卡 (card), 离休 (exempt, still a beneficiary)
    assert (rows["甲单位"]["total"], rows["甲单位"]["on_card"], rows["甲单位"]["coverage"]) == (4, 1, 25.0)
    assert (rows["乙单位"]["issued"], rows["乙单位"]["overdue"]) == (1, 1)
    assert (rows["甲镇"]["kind"], rows["甲镇"]["total"]) == ("township", 1)
    assert list(overdue_forms(world.centre_clerk, today)) == [late]


def test_it_shows_the_progress_page_to_the_centre_only(world: Any, client: Any) -> None:
    setup_forms_world(world, period=period_of(timezone.localdate()))
    client.force_login(world.supervisor)
    page = client.get(reverse("switching:progress")).content.decode()
    assert "覆盖率" in page and "甲单位" in page and "chart-coverage" in page
    client.force_login(world.unit_clerk)
    assert client.get(reverse("switching:progress")).status_code == 403
