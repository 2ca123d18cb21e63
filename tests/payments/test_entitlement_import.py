from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError
from shebao.payments import actions
from shebao.payments.importers import entitlement_import, entitlement_import_decide
from shebao.payments.models import Entitlement, EntitlementAmount, EntitlementImport
from shebao.people.importers import ImportRejected
from tests.factories import PASSWORD, PersonFactory, RegionFactory

HEAD = "社会保障号码,待遇代码,起始期,月待遇金额,终止期\n"


def _file(tmp_path, text, name="ent.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_it_creates_changes_and_leaves_alone_row_by_row(pay, world, tmp_path):
    newcomer = PersonFactory(region=world.region, name="周新")
    text = (
        HEAD
        + f"{newcomer.ssn},PEN-EMP,2024-07,1500.5,\n"
        + f"{world.person_a.ssn},PEN-EMP,202407,2400.00,\n"
        + f"{world.person_b.ssn},pen-emp,202301,1800,\n"
        + f"{newcomer.ssn},FUNERAL,202407,9000,\n"
    )

    result = entitlement_import(path=_file(tmp_path, text), file_name="ent.csv", actor=world.centre_clerk)

    assert (result.created, result.changed, result.unchanged) == (2, 1, 1)
    # Nothing takes effect before a supervisor approves the checked file.
    assert EntitlementAmount.objects.count() == 2 and Entitlement.objects.count() == 2
    applied = entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)
    assert (applied.created, applied.changed, applied.unchanged) == (2, 1, 1)
    assert list(
        EntitlementAmount.objects.filter(entitlement=pay.ent_a).values_list("valid_from", "amount")
    ) == [(202301, Decimal("2345.60")), (202407, Decimal("2400.00"))]
    funeral = Entitlement.objects.get(person=newcomer, benefit_type__code="FUNERAL")
    assert (funeral.from_period, funeral.to_period) == (202407, 202407)

    again = entitlement_import(path=_file(tmp_path, text), file_name="copy.csv", actor=world.centre_clerk)
    assert again.duplicate and EntitlementAmount.objects.count() == 5


def test_a_file_with_problems_names_each_and_writes_nothing(pay, world, tmp_path):
    elsewhere = PersonFactory(region=RegionFactory(code="110101", name="东城区"))
    text = (
        HEAD
        + "123,PEN-EMP,202407,1.00,\n"
        + f"{world.person_a.ssn},NOPE,202407,1.00,\n"
        + f"{world.person_a.ssn},PEN-EMP,2024-13,0,\n"
        + f"{elsewhere.ssn},PEN-EMP,202407,1.00,\n"
    )

    with pytest.raises(ImportRejected) as caught:
        entitlement_import(path=_file(tmp_path, text), file_name="bad.csv", actor=world.centre_clerk)

    found = {(p.row, p.column) for p in caught.value.problems}
    assert found >= {
        (2, "社会保障号码"),
        (3, "待遇代码"),
        (4, "起始期"),
        (4, "月待遇金额"),
        (5, "社会保障号码"),
    }
    assert EntitlementAmount.objects.count() == 2 and Entitlement.objects.count() == 2


def test_the_import_page_shows_the_problems(client, pay, world):
    assert client.login(username=world.centre_clerk.username, password=PASSWORD)
    upload = SimpleUploadedFile("ent.csv", (HEAD + "123,PEN-EMP,202407,1.00,\n").encode())

    page = client.post(reverse("payments:entitlement_import"), {"file": upload}).content.decode()

    assert "未导入任何数据" in page and "第2行【社会保障号码】" in page
    client.logout()
    assert client.login(username=world.auditor.username, password=PASSWORD)
    assert "王小明" in client.get(reverse("payments:entitlements")).content.decode()
    assert client.post(reverse("payments:entitlement_import"), {}).status_code == 403


def test_the_importer_cannot_approve_and_a_rejected_file_changes_nothing(pay, world, tmp_path):
    text = HEAD + f"{world.person_a.ssn},PEN-EMP,202407,2400.00,\n"
    result = entitlement_import(path=_file(tmp_path, text), file_name="ent.csv", actor=world.centre_clerk)

    with pytest.raises(PermissionDenied):
        entitlement_import_decide(batch=result.batch, approve=True, actor=world.centre_clerk)
    entitlement_import_decide(batch=result.batch, approve=False, note="金额待核", actor=world.supervisor)
    with pytest.raises(StateError, match="已退回"):
        entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)

    assert EntitlementAmount.objects.filter(entitlement=pay.ent_a).count() == 1
    assert EntitlementImport.objects.get().state == "rejected"
    assert entitlement_import(
        path=_file(tmp_path, text), file_name="again.csv", actor=world.centre_clerk
    ).duplicate
    assert AuditLog.objects.filter(action=actions.ENTITLEMENT_IMPORT_DECIDE).get().actor == world.supervisor


def test_a_supervisor_who_imported_needs_another_supervisor(pay, world, tmp_path):
    from shebao.accounts.roles import Role
    from tests.factories import UserFactory

    importer = UserFactory(username="importer", role=Role.CENTRE_CLERK, region=world.region)
    text = HEAD + f"{world.person_a.ssn},PEN-EMP,202407,2400.00,\n"
    result = entitlement_import(path=_file(tmp_path, text), file_name="ent.csv", actor=importer)
    EntitlementImport.objects.filter(pk=result.batch.pk).update(imported_by=world.supervisor)
    result.batch.refresh_from_db()

    with pytest.raises(PermissionDenied, match="自己导入"):
        entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)


def test_an_approval_is_refused_when_the_entitlements_changed_since_the_import(pay, world, tmp_path):
    from shebao.payments.services import entitlement_create

    newcomer = PersonFactory(region=world.region, name="周新")
    text = HEAD + f"{newcomer.ssn},PEN-EMP,202407,1500.00,\n"
    result = entitlement_import(path=_file(tmp_path, text), file_name="ent.csv", actor=world.centre_clerk)
    entitlement_create(
        person=newcomer,
        benefit_type=pay.pension,
        from_period=202408,
        amount="1600.00",
        actor=world.centre_clerk,
    )

    with pytest.raises(StateError, match="第2行"):
        entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)
    assert Entitlement.objects.filter(person=newcomer).count() == 1
    assert EntitlementImport.objects.get().state == "pending"


def test_a_supervisor_approves_an_import_on_the_entitlements_page(client, pay, world, tmp_path):
    text = HEAD + f"{world.person_a.ssn},PEN-EMP,202407,2400.00,\n"
    client.force_login(world.centre_clerk)
    client.post(
        reverse("payments:entitlement_import"), {"file": SimpleUploadedFile("ent.csv", text.encode())}
    )
    batch = EntitlementImport.objects.get()
    assert 'id="import-table"' in client.get(reverse("payments:entitlements")).content.decode()
    assert EntitlementAmount.objects.filter(entitlement=pay.ent_a).count() == 1

    client.force_login(world.supervisor)
    page = client.post(
        reverse("payments:entitlement_import_decide", args=[batch.pk]), {"decision": "approve"}, follow=True
    ).content.decode()

    assert "已复核生效" in page
    assert EntitlementAmount.objects.filter(entitlement=pay.ent_a).count() == 2
