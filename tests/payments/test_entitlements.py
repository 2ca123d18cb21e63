from __future__ import annotations

from decimal import Decimal

import pytest

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.payments.models import BenefitType, Entitlement, EntitlementAmount
from shebao.payments.services import entitlement_amount_change, entitlement_create, entitlement_transition


def test_the_benefit_types_of_the_issue_are_seeded(db):
    types = {t.code: t for t in BenefitType.objects.all()}

    assert {t.name for t in types.values()} >= {
        "职工基本养老金",
        "城乡居民基本养老金",
        "职业年金",
        "医疗费用报销",
        "工伤定期待遇",
        "一次性工伤待遇",
        "失业保险金",
        "生育医疗费",
        "生育津贴",
        "丧葬补助金",
        "一次性抚恤金",
    }
    assert types["PEN-EMP"].kind == "monthly" and types["FUNERAL"].kind == "one_off"
    assert all(t.payer_code and t.card_from_period for t in types.values())


def test_an_amount_change_is_a_new_row(pay, world):
    entitlement_amount_change(
        entitlement=pay.ent_a, amount="2400.00", valid_from=202407, actor=world.centre_clerk
    )

    rows = list(EntitlementAmount.objects.filter(entitlement=pay.ent_a).values_list("valid_from", "amount"))
    assert rows == [(202301, Decimal("2345.60")), (202407, Decimal("2400.00"))]
    assert AuditLog.objects.filter(action="entitlement.amount").count() == 1


@pytest.mark.parametrize("amount", ["0", "-1.00", "12.345", "abc"])
def test_a_bad_amount_is_refused(pay, world, amount):
    with pytest.raises(ValidationError):
        entitlement_amount_change(
            entitlement=pay.ent_a, amount=amount, valid_from=202407, actor=world.centre_clerk
        )


def test_a_second_live_entitlement_of_the_same_type_is_refused(pay, world):
    with pytest.raises(StateError, match="已有未终止"):
        entitlement_create(
            person=world.person_a,
            benefit_type=pay.pension,
            from_period=202401,
            amount="1.00",
            actor=world.centre_clerk,
        )


def test_a_one_off_benefit_is_paid_in_one_period(world):
    funeral = BenefitType.objects.get(code="FUNERAL")

    ent = entitlement_create(
        person=world.person_a,
        benefit_type=funeral,
        from_period=202405,
        amount="9000.00",
        actor=world.centre_clerk,
    )

    assert (ent.from_period, ent.to_period) == (202405, 202405)


def test_suspend_resume_and_terminate_with_coded_reasons(pay, world):
    clerk = world.centre_clerk
    with pytest.raises(ValidationError, match="暂停原因"):
        entitlement_transition(entitlement=pay.ent_a, to_state="suspended", reason="1401", actor=clerk)

    ent = entitlement_transition(entitlement=pay.ent_a, to_state="suspended", reason="1201", actor=clerk)
    assert (ent.state, ent.reason) == ("suspended", "1201")
    ent = entitlement_transition(entitlement=ent, to_state="active", reason="", actor=clerk)
    assert (ent.state, ent.reason) == ("active", "")
    ent = entitlement_transition(
        entitlement=ent, to_state="terminated", reason="1401", actor=clerk, to_period=202406
    )
    assert (ent.state, ent.reason, ent.to_period) == ("terminated", "1401", 202406)

    with pytest.raises(StateError):
        entitlement_transition(entitlement=ent, to_state="active", reason="", actor=clerk)
    assert Entitlement.objects.get(pk=ent.pk).state == "terminated"


def test_auditors_and_unit_clerks_cannot_edit_entitlements(pay, world):
    for user in (world.auditor, world.unit_clerk):
        with pytest.raises(PermissionDenied):
            entitlement_amount_change(entitlement=pay.ent_a, amount="1.00", valid_from=202407, actor=user)
