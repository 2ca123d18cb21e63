from __future__ import annotations

import logging

import pytest

from shebao.audit.models import AuditLog
from shebao.cards.models import CardNotice, CardState
from shebao.cards.notify import NoticeSendError
from shebao.cards.services import card_notice_record
from shebao.core.errors import PermissionDenied, ValidationError
from tests.cards.factories import make_application, make_card
from tests.factories import OutletFactory

SENT: list[str] = []


class RecordingSender:
    name = "测试短信网关"

    def send(self, notice: CardNotice) -> str:
        SENT.append(notice.message)
        return "GW-1"


class BrokenSender:
    name = "坏网关"

    def send(self, notice: CardNotice) -> str:
        raise NoticeSendError("网关无应答")


@pytest.fixture
def waiting(world):
    app = make_application(
        world.person_a, world.bank_a, world.centre_clerk, delivery="outlet_pickup", outlet=world.outlet_a
    )
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, application=app)


def test_it_sends_a_person_notice_through_the_demo_sender_after_commit(
    world, waiting, caplog, django_capture_on_commit_callbacks
) -> None:
    caplog.set_level(logging.INFO, logger="shebao.cards.notices")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notice = card_notice_record(
            outlet=world.outlet_a,
            person=world.person_a,
            channel="sms",
            recipient="13800000000",
            actor=world.bank_clerk,
        )
        assert notice.delivery == "pending"  # nothing leaves before the commit
    assert len(callbacks) == 1
    notice.refresh_from_db()
    assert notice.delivery == "sent" and notice.delivered_at is not None
    assert "王小明您好" in notice.message and world.outlet_a.name in notice.message
    assert notice.message in caplog.text
    assert AuditLog.objects.filter(action="card.notice_send", object_id=str(notice.pk)).exists()


def test_it_tells_a_unit_the_deadline_of_five_working_days(
    world, waiting, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notice = card_notice_record(
            outlet=world.outlet_a, employer=world.unit_a, channel="fax", actor=world.bank_clerk
        )
    assert "甲单位" in notice.message and "1名参保人员" in notice.message and "5个工作日" in notice.message


def test_it_uses_the_sender_named_in_the_settings(
    world, waiting, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SHEBAO_CARD_NOTICE_SENDER = "tests.cards.test_notices.RecordingSender"
    SENT.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notice = card_notice_record(
            outlet=world.outlet_a, person=world.person_a, channel="sms", actor=world.bank_clerk
        )
    notice.refresh_from_db()
    assert [notice.message] == SENT and notice.sender == "测试短信网关"


def test_it_records_a_failed_send_with_the_reason(
    world, waiting, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SHEBAO_CARD_NOTICE_SENDER = "tests.cards.test_notices.BrokenSender"
    with django_capture_on_commit_callbacks(execute=True):
        notice = card_notice_record(
            outlet=world.outlet_a, person=world.person_a, channel="sms", actor=world.bank_clerk
        )
    notice.refresh_from_db()
    assert notice.delivery == "failed" and notice.delivery_error == "网关无应答"


def test_it_refuses_a_notice_without_cards_waiting_or_outside_the_outlet(world, waiting) -> None:
    with pytest.raises(ValidationError, match="没有李小红待领的社保卡"):
        card_notice_record(
            outlet=world.outlet_a, person=world.person_b, channel="sms", actor=world.bank_clerk
        )
    other = OutletFactory(region=world.region, bank=world.bank_a)
    with pytest.raises(PermissionDenied):
        card_notice_record(outlet=other, person=world.person_a, channel="sms", actor=world.bank_clerk)


def test_it_shows_the_sent_message_on_the_outlet_page(
    client, world, waiting, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.bank_clerk)
    page = client.get("/cards/notices/")
    assert page.status_code == 200 and "通知本人" in page.content.decode()
    assert world.person_a.ssn not in page.content.decode()  # masked for the bank
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/cards/notices/",
            {"target": f"person:{world.person_a.pk}", "channel": "sms", "note": "周六照常营业"},
        )
    assert r.status_code == 302
    body = client.get(r["Location"]).content.decode()
    assert "周六照常营业" in body and "已发送" in body and "演示通道" in body


def test_it_hides_the_notice_page_from_a_unit_clerk(client, world) -> None:
    client.force_login(world.unit_clerk)
    assert client.get("/cards/notices/").status_code == 403
