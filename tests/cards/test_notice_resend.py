"""A notice the gateway failed to send is sent again from the notices page, once, and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.cards import actions
from shebao.cards.models import CardNotice, CardState
from shebao.cards.notify import NoticeSendError
from shebao.cards.services import card_notice_record, notice_resend
from shebao.core.errors import PermissionDenied, StateError
from tests.cards.factories import make_card
from tests.factories import OutletFactory, UserFactory

GATEWAY = {"up": False, "sent": 0}


class FlakySender:
    name = "时好时坏的短信网关"

    def send(self, notice: CardNotice) -> str:
        if not GATEWAY["up"]:
            raise NoticeSendError("网关无应答")
        GATEWAY["sent"] += 1
        return "GW-OK"


@pytest.fixture
def failed(world, settings, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    settings.SHEBAO_CARD_NOTICE_SENDER = "tests.cards.test_notice_resend.FlakySender"
    GATEWAY.update(up=False, sent=0)
    make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    with django_capture_on_commit_callbacks(execute=True):
        notice = card_notice_record(
            outlet=world.outlet_a, person=world.person_a, channel="sms", actor=world.bank_clerk
        )
    notice.refresh_from_db()
    assert notice.delivery == "failed" and notice.delivery_error == "网关无应答"
    return notice


def test_it_sends_a_failed_notice_again_after_commit(
    world, failed, django_capture_on_commit_callbacks
) -> None:
    GATEWAY["up"] = True
    with django_capture_on_commit_callbacks(execute=True):
        notice_resend(notice=failed, actor=world.bank_clerk)
    failed.refresh_from_db()
    assert failed.delivery == "sent" and failed.delivery_error == "" and GATEWAY["sent"] == 1
    resend = AuditLog.objects.get(action=actions.CARD_NOTICE_RESEND, object_id=str(failed.pk))
    assert resend.old["delivery"] == "failed" and resend.actor == world.bank_clerk
    assert AuditLog.objects.filter(action=actions.CARD_NOTICE_SEND, object_id=str(failed.pk)).count() == 2


def test_a_sent_notice_is_not_sent_twice(world, failed, django_capture_on_commit_callbacks) -> None:
    GATEWAY["up"] = True
    with django_capture_on_commit_callbacks(execute=True):
        notice_resend(notice=failed, actor=world.bank_clerk)
    with pytest.raises(StateError, match="只有发送失败的通知"):
        notice_resend(notice=failed, actor=world.bank_clerk)
    assert GATEWAY["sent"] == 1


def test_another_outlets_clerk_cannot_resend(world, failed) -> None:
    other = OutletFactory(region=world.region, bank=world.bank_b)
    clerk_b = UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=other)
    with pytest.raises(PermissionDenied):
        notice_resend(notice=failed, actor=clerk_b)
    failed.refresh_from_db()
    assert failed.delivery == "failed"


def test_the_outlet_resends_from_the_notices_page(
    client, world, failed, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.bank_clerk)
    page = client.get(reverse("cards:notices")).content.decode()
    assert "发送失败" in page and "重新发送" in page and "网关无应答" in page

    GATEWAY["up"] = True
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cards:notices"), {"step": "resend", "notice": failed.pk, "outlet": world.outlet_a.pk}
        )
    assert response.status_code == 302
    page = client.get(reverse("cards:notices")).content.decode()
    assert "已重新发送" in page
    failed.refresh_from_db()
    assert failed.delivery == "sent"
    assert 'class="inline-form resend-form"' not in page


def test_a_centre_clerk_resends_for_a_picked_outlet(
    client, world, failed, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.centre_clerk)
    GATEWAY["up"] = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("cards:notices") + f"?outlet={world.outlet_a.pk}",
            {"step": "resend", "notice": failed.pk, "outlet": world.outlet_a.pk},
        )
    failed.refresh_from_db()
    assert failed.delivery == "sent"
