"""Pre-flight check: catch before the bank does every failure the system can already see.

Built in: a line without a payment account, a line whose account name is not the person's name
(after `normalize_name`, or one of the person's whitelisted bank spellings), a name GBK cannot encode,
and a line into an account the bank has already refused for a lasting reason that nobody has dealt with. Other apps add rules by
appending to PREFLIGHT_HOOKS, e.g. the cards app holds lines whose card is lost or being replaced:

    def card_state_hook(lines: QuerySet[PaymentLine]) -> Iterable[tuple]:
        # yield (line_id, hold_code, reason shown to the clerk) for every line to hold, or
        # (line_id, hold_code, reason, FALLBACK) for a line that may go to the previous account
        ...

    PREFLIGHT_HOOKS.append(card_state_hook)

A hook receives the candidate lines (the pending lines of a payroll not yet filed, and lines held by
an earlier pre-flight) and must not change them. Lines a rule no longer catches are released.

A row marked FALLBACK (a lost card, a card being replaced or not yet financially activated) is routed
by rule: while the payroll is a draft and the switch to the current account is less than
FALLBACK_MONTHS old, the line is paid into the previous account instead (route_note says why);
otherwise it is held for a clerk. A line already routed is not caught again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from shebao.core.values.names import normalize_name
from shebao.payments.models import NameWhitelist, PaymentLine

HoldRow = tuple  # (line_id, code, reason) or (line_id, code, reason, FALLBACK)
PREFLIGHT_HOOKS: list[Callable[[QuerySet[PaymentLine]], Iterable[HoldRow]]] = []
FALLBACK = "fallback"
FALLBACK_MONTHS = 6

PREFLIGHT_PREFIX = "preflight:"
NO_ACCOUNT = "no_account"
NAME_MISMATCH = "name_mismatch"
NAME_CHARSET = "name_charset"
KNOWN_FAILURE = "known_failure"


def candidate_lines(payroll_id: int) -> QuerySet[PaymentLine]:
    # Unordered: a rule answers per line. (The model's default ordering, by payroll, would join the
    # payroll and its benefit type to every line and sort them all, for every rule.)
    return (
        PaymentLine.objects.filter(payroll_id=payroll_id)
        .filter(
            Q(state=PaymentLine.State.PENDING)
            | Q(state=PaymentLine.State.HELD, hold_code__startswith=PREFLIGHT_PREFIX)
        )
        .order_by()
    )


def _name_mismatch(lines: QuerySet[PaymentLine]) -> Iterable[HoldRow]:
    # Only the rows whose names differ at all reach Python; normally a handful of a payroll.
    differing = (
        lines.exclude(account_no="")
        .exclude(account_name=F("person__name"))
        .values_list("pk", "person_id", "account_name", "person__name")
        .iterator(chunk_size=2000)
    )
    batch: list[tuple[int, int, str, str]] = []
    for row in differing:
        batch.append(row)
        if len(batch) >= 2000:
            yield from _mismatches(batch)
            batch = []
    if batch:
        yield from _mismatches(batch)


def _mismatches(batch: list[tuple[int, int, str, str]]) -> Iterable[HoldRow]:
    allowed: dict[int, set[str]] = {}
    # Only spellings a supervisor confirmed count (a clerk's entry alone releases nothing).
    for person_id, spelling in NameWhitelist.objects.filter(
        person_id__in={r[1] for r in batch}, confirmed_at__isnull=False
    ).values_list("person_id", "spelling"):
        allowed.setdefault(person_id, set()).add(normalize_name(spelling))
    for pk, person_id, account_name, person_name in batch:
        got = normalize_name(account_name)
        if got == normalize_name(person_name) or got in allowed.get(person_id, ()):
            continue
        yield pk, NAME_MISMATCH, f"账户户名“{account_name}”与姓名“{person_name}”不符（未在户名白名单中）"


def _gbk_unsafe(text: str) -> str:
    """The first character of ``text`` GBK cannot encode ('' when it can all be encoded)."""
    for ch in text:
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            return ch
    return ""


def _no_account_or_name_not_encodable(lines: QuerySet[PaymentLine]) -> Iterable[HoldRow]:
    # Two rules in one pass over the lines (in this order: a line without an account is held for that).
    # Bank files are GBK (txt-v1, and what the banks' systems read): a rare character outside GBK
    # (生僻字 such as 𨭉) would stop the whole file. Hold just that line for a clerk instead: they check
    # the spelling the bank holds, add it to the name whitelist, or pay the line by hand.
    # Every line's name is read, so plain tuples from the cursor and one encode per chunk of names;
    # only a chunk that fails is checked name by name.
    sql, params = lines.values_list("pk", "account_no", "bank_id", "account_name").query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            for pk, account_no, bank_id, _name in rows:
                if not account_no or bank_id is None:
                    yield pk, NO_ACCOUNT, "无有效发放账户（或未登记开户银行）"
            try:
                "".join([name for _pk, account_no, _bank, name in rows if account_no]).encode("gbk")
                continue
            except UnicodeEncodeError:
                pass
            for pk, account_no, bank_id, name in rows:
                if not account_no or bank_id is None:
                    continue
                try:
                    name.encode("gbk")
                except UnicodeEncodeError:
                    yield (
                        pk,
                        NAME_CHARSET,
                        f"账户户名“{name}”含银行代发文件（GBK）无法表示的字符“{_gbk_unsafe(name)}”，请与银行核实户名写法后处理",
                    )


# Bank answers that stay true until someone does something: the account does not exist, is closed,
# frozen, lost, being replaced, cannot receive, is abnormal, or the bank's name differs. (其他 may be
# passing: it is sent again.)
LASTING_FAILURES = (
    "name_mismatch",
    "no_account",
    "closed",
    "lost",
    "frozen",
    "card_replacing",
    "no_credit",
    "abnormal",
)


def _known_bank_failure(lines: QuerySet[PaymentLine]) -> Iterable[HoldRow]:
    """A line into an account the bank has already refused, and nobody has dealt with since: held, not
    sent to fail again. Dealt with = the failed line (or a later line on that account) was resolved by a
    clerk, or a later line on that account was paid. For 户名不符 only while the name sent is the one the
    bank refused (a verified spelling becomes the account's name from the next month)."""
    from shebao.payments.models import FailureReason, Resolution

    failed: dict[tuple[int | None, str], tuple[int, int | None, str, int, str]] = {}
    for pk, account_id, bank_id, account_no, code, period, name in (
        PaymentLine.objects.filter(state=PaymentLine.State.FAILED, failure_code__in=LASTING_FAILURES)
        .exclude(Exists(Resolution.objects.filter(line_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "account_id", "bank_id", "account_no", "failure_code", "period", "account_name")
        .iterator(chunk_size=2000)
    ):
        failed[(bank_id, account_no)] = (pk, account_id, code, period, name)  # the latest failure wins
    if not failed:
        return
    numbers = sorted({no for _bank, no in failed})
    # Dealt with since: a later line on the account paid, or resolved by a clerk. Read once for all the
    # failed accounts (was: two queries per candidate line that matched, each a scan of every line), and
    # only among the lines after the oldest failure (ids grow with time).
    oldest = min(found[0] for found in failed.values())
    dealt: dict[tuple[int | None, str], list[tuple[int, int | None]]] = {}
    resolved = Resolution.objects.filter(line__pk__gt=oldest).values_list("line_id", flat=True)
    for i in range(0, len(numbers), 900):
        chunk = numbers[i : i + 900]
        later = PaymentLine.objects.filter(pk__gt=oldest, account_no__in=chunk).filter(
            Q(state=PaymentLine.State.PAID) | Q(pk__in=resolved)
        )
        for pk, bank_id, account_no, account_id in later.order_by().values_list(
            "pk", "bank_id", "account_no", "account_id"
        ):
            dealt.setdefault((bank_id, account_no), []).append((pk, account_id))
    labels = dict(FailureReason.choices)
    for i in range(0, len(numbers), 900):
        for pk, bank_id, account_no, name in lines.filter(account_no__in=numbers[i : i + 900]).values_list(
            "pk", "bank_id", "account_no", "account_name"
        ):
            found = failed.get((bank_id, account_no))
            if found is None:
                continue
            failed_pk, failed_account, code, period, failed_name = found
            if code == "name_mismatch" and normalize_name(name) != normalize_name(failed_name):
                continue
            if any(
                later_pk > failed_pk
                and later_pk != pk
                and (failed_account is None or account_id == failed_account)
                for later_pk, account_id in dealt.get((bank_id, account_no), ())
            ):
                continue
            yield (
                pk,
                KNOWN_FAILURE,
                f"该账户{period}发放时被银行退回（{labels.get(code, code)}），尚未核实处理，本次暂缓发放",
            )


BUILTIN_RULES: list[Callable[[QuerySet[PaymentLine]], Iterable[HoldRow]]] = [
    _no_account_or_name_not_encodable,
    _name_mismatch,
    _known_bank_failure,
]

# Rules that read nothing but the line's own account fields (number, bank, name as sent), with the hold
# codes they give. Those fields are frozen once the payroll is approved, so after approval such a rule
# answers as it did at the last run: its holds are kept instead of reading every line again.
LINE_ONLY_RULES: dict[Callable[..., Iterable[HoldRow]], tuple[str, ...]] = {
    _no_account_or_name_not_encodable: (NO_ACCOUNT, NAME_CHARSET),
}


def _kept_holds(payroll_id: int, codes: tuple[str, ...]) -> Iterable[HoldRow]:
    return (
        candidate_lines(payroll_id)
        .filter(state=PaymentLine.State.HELD, hold_code__in=[PREFLIGHT_PREFIX + c for c in codes])
        .values_list("pk", "hold_code", "hold_reason")
    )


def holds_for(payroll_id: int, *, lines_frozen: bool = False) -> dict[int, tuple[str, str, bool]]:
    """line id -> (hold code, reason, may fall back) of every candidate line a rule catches (first rule
    wins); lines already routed to their previous account are not caught by a fallback rule again.
    `lines_frozen` (an approved payroll): the line-only rules keep their earlier holds (LINE_ONLY_RULES)."""
    holds: dict[int, tuple[str, str, bool]] = {}
    routed: set[int] | None = None  # read only when a rule offers a fallback (rare)
    for rule in [*BUILTIN_RULES, *PREFLIGHT_HOOKS]:
        if lines_frozen and rule in LINE_ONLY_RULES:
            for pk, code, reason in _kept_holds(payroll_id, LINE_ONLY_RULES[rule]):
                holds.setdefault(pk, (code, reason, False))
            continue
        for row in rule(candidate_lines(payroll_id)):
            pk, code, reason = row[0], row[1], row[2]
            fallback = len(row) > 3 and row[3] == FALLBACK
            if fallback:
                if routed is None:
                    routed = set(
                        candidate_lines(payroll_id).exclude(route_note="").values_list("pk", flat=True)
                    )
                if pk in routed:
                    continue
            holds.setdefault(pk, (PREFLIGHT_PREFIX + code, reason[:200], fallback))
    return holds


def previous_account(line: PaymentLine, period: int):  # type: ignore[no-untyped-def]
    """The account the person was paid into before the line's account, if the switch to the line's
    account is less than FALLBACK_MONTHS old at `period`; else None."""
    from shebao.core.values.period import next_period
    from shebao.people.models import PaymentAccount

    current = line.account
    if current is None or period >= next_period(current.valid_from, FALLBACK_MONTHS):
        return None
    return (
        PaymentAccount.objects.filter(person_id=line.person_id, valid_from__lt=current.valid_from)
        .exclude(account_no=current.account_no)
        .order_by("-valid_from", "-id")
        .first()
    )
