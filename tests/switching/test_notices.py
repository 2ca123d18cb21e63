"""Notices (公告) the centre publishes to units and townships."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shebao.switching.models import Notice

pytestmark = pytest.mark.django_db


def test_it_publishes_notices_to_the_units_and_townships_addressed(world: Any, client: Any) -> None:
    client.force_login(world.centre_clerk)
    client.post(
        reverse("switching:notices"),
        {"title": "关于报送核实反馈表的通知", "body": "请于次月15日前报送。", "audience": "units"},
    )
    client.post(
        reverse("switching:notices"),
        {"title": "乡镇月度报送提醒", "body": "每月15日前上传。", "audience": "townships"},
    )
    assert Notice.objects.count() == 2

    client.force_login(world.unit_clerk)
    page = client.get(reverse("switching:my_forms")).content.decode()
    assert "关于报送核实反馈表的通知" in page and "乡镇月度报送提醒" not in page
    start = client.get(reverse("home")).content.decode()  # the start page after login
    assert "通知公告" in start and "关于报送核实反馈表的通知" in start and "乡镇月度报送提醒" not in start
    assert client.post(reverse("switching:notices"), {"title": "x", "body": "y"}).status_code == 403

    client.force_login(world.township_clerk)
    page = client.get(reverse("switching:my_forms")).content.decode()
    assert "乡镇月度报送提醒" in page and "关于报送核实反馈表的通知" not in page
    start = client.get(reverse("home")).content.decode()
    assert "乡镇月度报送提醒" in start and "关于报送核实反馈表的通知" not in start
    client.force_login(world.centre_clerk)
    assert (
        "乡镇月度报送提醒" not in client.get(reverse("home")).content.decode()
    )  # managed on the notices page

    client.force_login(world.supervisor)
    unit_notice = Notice.objects.get(audience="units")
    client.post(reverse("switching:notices"), {"withdraw": unit_notice.pk})
    client.force_login(world.unit_clerk)
    assert "关于报送核实反馈表的通知" not in client.get(reverse("switching:notices")).content.decode()
    assert "关于报送核实反馈表的通知" not in client.get(reverse("home")).content.decode()
