"""What the switching app does on its own when something happens elsewhere.

* A bank return file reports a failed payment into a switched card account: the case goes back to the unit
  or township (item 9), recorded by `switch_failures_from_returns`.
* A benefit starts for a person without any payment account (河南), or such a person's card is financially
  activated later: they take the activated card account (`new_beneficiary_take_card`); the rest stay on
  the follow-up list (`selectors.new_beneficiary_follow_up`).

Both are writes with their audit rows in one transaction. They run after the triggering transaction has
committed (signals.py) and again from `shebao switching_sweep`, so a missed trigger is caught up; running
them twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from shebao.audit import actions as core_actions
from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied
from shebao.people.models import PaymentAccount, Person, PersonCategory
from shebao.switching import actions
from shebao.switching.models import (
    AccountChange,
    ComparisonClass,
    ComparisonResult,
    ComparisonRun,
    SwitchFailure,
)

# payments.FailureReason (one taxonomy for every bank) -> why the switch failed, as the unit reads it.
REASON_FROM_BANK: dict[str, str] = {
    "name_mismatch": SwitchFailure.Reason.NAME_MISMATCH,
    "no_account": SwitchFailure.Reason.ACCOUNT_CLOSED,
    "closed": SwitchFailure.Reason.ACCOUNT_CLOSED,
    "lost": SwitchFailure.Reason.LOST,
    "card_replacing": SwitchFailure.Reason.REPLACING,
    "frozen": SwitchFailure.Reason.FROZEN,
    "abnormal": SwitchFailure.Reason.FROZEN,
    "no_credit": SwitchFailure.Reason.OTHER,
    "other": SwitchFailure.Reason.OTHER,
}


def _may(actor: Any, *action_names: str) -> bool:
    """A user needs one of the actions; a label such as "系统" (a command, a trigger) acts for the centre."""
    can = getattr(actor, "can", None)
    return can is None or any(can(name) for name in action_names)


# --- failure feedback from the bank's return file -------------------------------------------------


# payments pre-flight holds that mean the switched card account cannot be paid (item 9: the name differs,
# the card is lost or being replaced): once the payroll is filed without the line, the case goes back too.
REASON_FROM_HOLD: dict[str, str] = {
    "preflight:name_mismatch": SwitchFailure.Reason.NAME_MISMATCH,
    "preflight:card_lost": SwitchFailure.Reason.LOST,
    "preflight:card_replacing": SwitchFailure.Reason.REPLACING,
}


def switch_failures_from_returns(
    *, actor: Any, bank_file_ids: list[int] | None = None, payroll_ids: list[int] | None = None
) -> int:
    """Record a SwitchFailure for every failed payment into an account a switch made, once per payment line.

    A failed payment is one the bank's return file rejected, or one the pre-flight held back from a filed
    payroll because the account name differs or the card is lost or being replaced (REASON_FROM_HOLD):
    the bank never saw it, but the person was not paid through the switched account either.

    Only the person's latest switch counts (a failure of an account already replaced by a newer change is
    history), and a switch whose case is still open with the unit is not sent back twice. The failed lines
    are locked while they are checked and recorded, so the trigger after a return import and a sweep running
    at the same moment record each failure once. Returns how many cases went back to units and townships.
    """
    from shebao.payments.models import PAYROLL_SENT_STATES, PaymentLine

    if not _may(actor, "switching.failure_report", "payroll.return_import"):
        raise PermissionDenied("您的角色不能登记发放失败")
    newer = AccountChange.objects.filter(
        person_id=OuterRef("person_id"),
        pk__gt=OuterRef("account__switch_change__pk"),
        state__in=[*AccountChange.OPEN_STATES, AccountChange.State.APPROVED],
    )
    still_open = SwitchFailure.objects.filter(
        change_id=OuterRef("account__switch_change__pk"), state=SwitchFailure.State.OPEN
    )
    candidates = (
        PaymentLine.objects.filter(
            Q(state=PaymentLine.State.FAILED)
            | Q(
                payroll__state__in=PAYROLL_SENT_STATES,
                state=PaymentLine.State.HELD,
                hold_code__in=list(REASON_FROM_HOLD),
            ),
            account__switch_change__state=AccountChange.State.APPROVED,
            switch_failure__isnull=True,
        )
        .filter(
            Q(account__switch_change__form__isnull=False)
            | Q(person__employer__isnull=False)
            | Q(person__township__isnull=False)
        )
        .exclude(Exists(newer))
        .exclude(Exists(still_open))
    )
    if bank_file_ids is not None:
        candidates = candidates.filter(bank_file_id__in=bank_file_ids)
    if payroll_ids is not None:
        candidates = candidates.filter(payroll_id__in=payroll_ids)
    with transaction.atomic():
        ids = list(candidates.order_by("pk").values_list("pk", flat=True))
        if not ids:
            return 0
        list(PaymentLine.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        # Checked again under the lock: a concurrent sweep may have recorded some meanwhile.
        rows = list(
            candidates.filter(pk__in=ids)
            .order_by("pk")
            .values_list(
                "pk",
                "person_id",
                "period",
                "failure_code",
                "failure_text",
                "hold_code",
                "hold_reason",
                "account__switch_change__pk",
                "account__switch_change__form__employer_id",
                "account__switch_change__form__township_id",
                "account__switch_change__township_intake__township_id",
                "person__employer_id",
                "person__township_id",
            )
        )
        made: list[SwitchFailure] = []
        taken: set[int] = set()
        for (
            line_id,
            person_id,
            period,
            code,
            text,
            hold,
            hold_text,
            change_id,
            f_emp,
            f_town,
            i_town,
            p_emp,
            p_town,
        ) in rows:
            if change_id in taken:  # two failed months of one switch: one case
                continue
            taken.add(change_id)
            employer_id: int | None
            township_id: int | None
            if f_emp or f_town:
                employer_id, township_id = f_emp, f_town
            elif i_town:  # from township intake: back to the township that took it, not the person's unit
                employer_id, township_id = None, i_town
            else:
                employer_id, township_id = p_emp, (None if p_emp else p_town)
            made.append(
                SwitchFailure(
                    change_id=change_id,
                    person_id=person_id,
                    employer_id=employer_id,
                    township_id=township_id,
                    period=period,
                    reason=(
                        REASON_FROM_HOLD[hold]
                        if hold in REASON_FROM_HOLD and not code
                        else REASON_FROM_BANK.get(code, SwitchFailure.Reason.OTHER)
                    ),
                    detail=(
                        f"报盘前检查暂缓发放：{hold_text}"[:200]
                        if hold in REASON_FROM_HOLD and not code
                        else (f"银行回盘：{text}"[:200] if text else "银行回盘发放失败")
                    ),
                    reported_by=_reporter(actor, line_id),
                    payment_line_id=line_id,
                )
            )
        created = SwitchFailure.objects.bulk_create(made)
        audit_record_many(
            actor=actor,
            action=actions.FAILURE_REPORT,
            object_type="people.person",
            rows=(
                {
                    "object_id": f.person_id,
                    "object_repr": f"发放失败（{f.period}）",
                    "new": {
                        "failure": f.pk,
                        "change": f.change_id,
                        "period": f.period,
                        "reason": f.reason,
                        "detail": f.detail,
                        "payment_line": f.payment_line_id,
                    },
                }
                for f in created
            ),
        )
    return len(created)


def _reporter(actor: Any, line_id: int) -> Any:
    """reported_by is a user: the acting one, else whoever imported the return file of that line."""
    if getattr(actor, "pk", None):
        return actor
    from shebao.payments.models import PaymentLine

    line = PaymentLine.objects.select_related("bank_file__return_file").get(pk=line_id)
    return line.bank_file.return_file.imported_by  # type: ignore[union-attr]


# --- new beneficiaries (河南) ---------------------------------------------------------------------


def _activated_card_account(person: Person) -> dict[str, Any] | None:
    """The person's activated card account: shebao's own card first (its offer of the account, while the
    card is issued and current), else what the latest comparison of the region found."""
    from shebao.cards.models import CardAccountOffer

    offer = (
        CardAccountOffer.objects.filter(
            person=person, state=CardAccountOffer.State.OFFERED, card__state="issued"
        )
        .select_related("bank")
        .order_by("-offered_at", "-id")
        .first()
    )
    if offer is not None:
        return {
            "bank": offer.bank,
            "account_no": offer.account_no,
            "note": "社保卡金融功能已激活",
            "offer_id": offer.pk,
        }
    run_id = (
        ComparisonRun.objects.filter(region_id=person.region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    result = (
        ComparisonResult.objects.filter(run_id=run_id, person=person, klass=ComparisonClass.MATCHED_ACTIVATED)
        .select_related("card_record")
        .first()
    )
    if result is None or result.card_record is None or not result.card_record.bank_account:
        return None
    from shebao.switching.services import BankLookup

    return {
        "bank": BankLookup().find(code=result.card_record.bank_code),
        "account_no": result.card_record.bank_account,
        "note": f"比对#{run_id}：社保卡已激活",
        "offer_id": None,
    }


def _is_beneficiary(person_id: int) -> bool:
    """A beneficiary category on record, or a benefit granted and not terminated."""
    from shebao.payments.models import Entitlement

    return (
        PersonCategory.objects.filter(person_id=person_id).exists()
        or Entitlement.objects.filter(person_id=person_id)
        .exclude(state=Entitlement.State.TERMINATED)
        .exists()
    )


def new_beneficiary_take_card(*, actor: Any, person_id: int, period: int) -> PaymentAccount | None:
    """河南: a beneficiary whose benefit starts without any payment account is paid through their activated
    card from `period` on. Without one nothing is written: they stay on the follow-up list.

    The person row is locked so that the trigger of the entitlement and the one of a card activation at the
    same moment add one account.
    """
    from shebao.cards.models import CardAccountOffer

    if not _may(actor, "switching.change_prepare", "entitlement.edit"):
        raise PermissionDenied("您的角色不能登记新增待遇人员的发放账户")
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id, death_date__isnull=True).first()
        if person is None or not _is_beneficiary(person.pk):
            return None
        if PaymentAccount.objects.filter(person=person).exists():
            return None
        found = _activated_card_account(person)
        if found is None:
            return None
        bank = found["bank"]
        account = PaymentAccount.objects.create(
            person=person,
            bank=bank,
            bank_name=bank.name if bank else "",
            account_no=found["account_no"],
            account_name=person.name[:50],
            kind=PaymentAccount.Kind.CARD,
            valid_from=period,
            source=PaymentAccount.Source.NEW_BENEFICIARY,
            note=found["note"][:200],
        )
        if found["offer_id"]:
            CardAccountOffer.objects.filter(
                pk=found["offer_id"], state=CardAccountOffer.State.OFFERED
            ).update(state=CardAccountOffer.State.APPLIED)
        audit_record(
            actor=actor,
            action=core_actions.ACCOUNT_ADD,
            obj=account,
            new={
                "person": person.pk,
                "account_no": account.account_no,
                "account_name": account.account_name,
                "kind": account.kind,
                "valid_from": period,
                "source": account.source,
                "card_offer": found["offer_id"],
            },
        )
    return account


def new_beneficiaries_sweep(*, actor: Any, region_id: int, period: int) -> dict[str, int]:
    """Every living beneficiary of the region still without an account: take the activated card where there
    is one (own card or latest comparison). For a scheduled run after imports; one locked write per person
    who gets an account, the rest are only counted."""
    from shebao.switching.services import new_beneficiaries_pending

    created = 0
    pending = list(new_beneficiaries_pending(region_id=region_id).values_list("pk", flat=True))
    for person_id in pending:
        if new_beneficiary_take_card(actor=actor, person_id=person_id, period=period) is not None:
            created += 1
    return {"created": created, "follow_up": len(pending) - created}


# --- the rollout policy applied: who switches automatically ---------------------------------------


def rollout_switches_prepare(*, actor: Any, period: int, today: Any = None) -> dict[str, int]:
    """Apply the rollout rules (佛山): everyone the policy switches automatically at `period` (a usable,
    activated card found by the latest comparison, the automatic conditions of a rule in force met, or their
    own request to switch) gets a prepared change to that card account; a supervisor approves them in the
    queue like any other. Exempt people, those who stay unless they ask, and those still waiting for a card
    are only counted; people on a form still open with their unit or township are left to it. People already on the card or with a change pending are left out; running it twice
    prepares nothing new.
    """
    import datetime as dt

    from django.db import IntegrityError
    from django.utils import timezone

    from shebao.core.errors import StateError
    from shebao.switching.models import RolloutRule, VerificationForm, VerificationLine
    from shebao.switching.rollout import Decision
    from shebao.switching.services import CHUNK, BankLookup, switch_candidates

    if not getattr(actor, "pk", None) or not actor.can("switching.change_prepare"):
        raise PermissionDenied("您的角色不能提交发放账户变更")
    today = today or timezone.localdate()
    assert isinstance(today, dt.date)
    run_id = (
        ComparisonRun.objects.filter(region_id=actor.region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if run_id is None:
        raise StateError("请先完成一次与卡系统的比对")
    rules = list(RolloutRule.objects.all())
    results = (
        ComparisonResult.objects.filter(
            run_id=run_id,
            klass__in=[ComparisonClass.MATCHED_ACTIVATED, ComparisonClass.MATCHED_NOT_ACTIVATED],
            person__in=switch_candidates(region_id=actor.region_id, period=period).values("pk"),
        )
        # Someone on a form the unit has not finished with is theirs to answer: a change prepared here
        # would make the unit's whole return refused ("已有待复核的账户变更").
        .exclude(
            person__in=VerificationLine.objects.exclude(form__state=VerificationForm.State.APPROVED).values(
                "person_id"
            )
        )
        .select_related("person", "card_record")
        .order_by("person_id")
    )
    counts = {d.value: 0 for d in Decision}
    banks = BankLookup()
    prepared = 0
    try:
        with transaction.atomic():
            chunk: list[ComparisonResult] = []
            for result in results.iterator(chunk_size=CHUNK):
                chunk.append(result)
                if len(chunk) >= CHUNK:
                    prepared += _prepare_chunk(chunk, rules, period, today, actor, banks, counts)
                    chunk = []
            prepared += _prepare_chunk(chunk, rules, period, today, actor, banks, counts)
    except IntegrityError:
        raise StateError("部分人员刚刚已有待复核的账户变更，请稍后重新生成") from None
    return {"prepared": prepared, **counts}


def _prepare_chunk(
    chunk: list[ComparisonResult],
    rules: list[Any],
    period: int,
    today: Any,
    actor: Any,
    banks: Any,
    counts: dict[str, int],
) -> int:
    from collections import defaultdict

    from shebao.switching.models import SwitchPreference
    from shebao.switching.rollout import Decision, card_facts, person_facts, switch_decision

    if not chunk:
        return 0
    ids = [r.person_id for r in chunk]
    categories: dict[int, list[str]] = defaultdict(list)
    for pid, category in PersonCategory.objects.filter(person_id__in=ids).values_list(
        "person_id", "category"
    ):
        categories[pid].append(category)
    wishes: dict[int, str] = {}
    for pid, choice in (
        SwitchPreference.objects.filter(person_id__in=ids)
        .order_by("person_id", "-asked_on", "-id")
        .values_list("person_id", "choice")
    ):
        wishes.setdefault(pid, choice)
    changes: list[AccountChange] = []
    for result in chunk:
        record = result.card_record
        decision, _reason = switch_decision(
            person_facts(result.person, categories[result.person_id]),
            card_facts(record),
            rules,
            wishes.get(result.person_id),
            period=period,
        )
        counts[decision.value] += 1
        if decision != Decision.SWITCH or record is None or not record.bank_account:
            continue
        bank = banks.find(code=record.bank_code)
        changes.append(
            AccountChange(
                person_id=result.person_id,
                bank=bank,
                bank_name=bank.name if bank else "",
                account_no=record.bank_account,
                account_name=result.person.name[:50],
                submitted_on=today,
                prepared_by=actor,
            )
        )
    AccountChange.objects.bulk_create(changes)
    audit_record_many(
        actor=actor,
        action=actions.CHANGE_PREPARE,
        object_type="people.person",
        rows=(
            {
                "object_id": c.person_id,
                "object_repr": c.account_name,
                "new": {"account_no": c.account_no, "account_name": c.account_name, "rollout": period},
            }
            for c in changes
        ),
    )
    return len(changes)
