"""`shebao campaign`: the phase's applications and the balance re-fetch from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shebao.audit.models import AuditLog
from shebao.campaigns.models import MedicalTransfer
from tests.campaigns.test_automatic_transfer import SOURCE, member  # noqa: F401
from tests.campaigns.test_phase_flow import _new_cards, phase  # noqa: F401
from tests.campaigns.test_transfer_refetch import waiting  # noqa: F401


def test_apply_makes_the_phase_applications_once(world, phase) -> None:  # noqa: F811
    out = StringIO()
    call_command("campaign", "apply", str(phase.pk), "--as", world.centre_clerk.username, stdout=out)
    assert "已申领 2 张新卡" in out.getvalue() and _new_cards(phase).count() == 2
    again = StringIO()
    call_command("campaign", "apply", str(phase.pk), "--as", world.centre_clerk.username, stdout=again)
    assert "已申领 0 张新卡" in again.getvalue() and _new_cards(phase).count() == 2


def test_refetch_asks_every_waiting_transfer(world, settings, member, waiting) -> None:  # noqa: F811
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"
    out = StringIO()
    call_command("campaign", "refetch", str(member.phase_id), "--as", world.centre_clerk.username, stdout=out)
    assert "已再次获取 1 条，1 条已转移" in out.getvalue()
    waiting.refresh_from_db()
    assert waiting.state == MedicalTransfer.State.DONE
    assert AuditLog.objects.get(action="campaign.medical_transfer_refetch").actor == world.centre_clerk


def test_the_command_keeps_the_roles(world, phase) -> None:  # noqa: F811
    with pytest.raises(CommandError, match="不能组织换卡"):
        call_command("campaign", "apply", str(phase.pk), "--as", world.bank_clerk.username, stdout=StringIO())
    with pytest.raises(CommandError, match="不存在"):
        call_command("campaign", "apply", "999999", "--as", world.centre_clerk.username, stdout=StringIO())
    assert _new_cards(phase).count() == 0
