from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from shebao.audit.models import AuditLog
from shebao.audit.services import audit_record
from tests.factories import PASSWORD


def test_it_refuses_an_audit_row_outside_a_transaction(transactional_db):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="x", object_type="t")


def test_it_records_actor_old_and_new_values(world):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        row = audit_record(
            actor=world.centre_clerk, action="person.update", obj=world.person_a, old={"phone": "1"}, new={"phone": "2"}, reason="更正"
        )
    row.refresh_from_db()
    assert row.actor_label == "clerk" and row.object_type == "people.person"
    assert row.old == {"phone": "1"} and row.new == {"phone": "2"} and row.reason == "更正"


def test_it_keeps_audit_rows_append_only_in_the_model(world):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        row = audit_record(actor=None, action="x", object_type="t")
    row.reason = "篡改"
    with pytest.raises(RuntimeError):
        row.save()
    with pytest.raises(RuntimeError):
        row.delete()


def test_it_keeps_audit_rows_append_only_in_the_database(world):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        audit_record(actor=None, action="x", object_type="t")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.update(reason="篡改")


def test_it_rolls_the_audit_row_back_with_the_change(world):  # type: ignore[no-untyped-def]
    before = AuditLog.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=None, action="x", object_type="t")
        _ = 1 / 0
    assert AuditLog.objects.count() == before


def test_it_shows_the_audit_page_to_supervisors_and_auditors_only(client, world):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        audit_record(actor=world.centre_clerk, action="person.update", obj=world.person_a, reason="电话更正")
    for persona, status in (("supervisor", 200), ("auditor", 200), ("centre_clerk", 403), ("unit_clerk", 403)):
        client.logout()
        user = getattr(world, persona)
        assert client.login(username=user.username, password=PASSWORD)
        resp = client.get("/audit/", {"action": "person.update"})
        assert resp.status_code == status, persona
        if status == 200:
            assert "电话更正" in resp.content.decode()


def test_it_filters_the_audit_page(client, world):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        audit_record(actor=world.centre_clerk, action="person.update", obj=world.person_a, reason="甲原因")
        audit_record(actor=world.centre_clerk, action="export", object_type="people.person", reason="乙原因")
    assert client.login(username="auditor", password=PASSWORD)
    body = client.get("/audit/", {"action": "export"}).content.decode()
    assert "乙原因" in body and "甲原因" not in body
