"""When a switch takes effect: the configurable next-month rule, and never in a month already filed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from typing import Any

import pytest

from shebao.people.selectors import account_effective
from shebao.switching.services import account_change_approve, account_change_prepare, switch_effective_period
from tests.switching.factories import NEW_ACCOUNT
from tests.switching.test_return_failures import PERIOD, _filed_payroll

pytestmark = pytest.mark.django_db


def _settings_value(value: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHEBAO_SWITCH_DELAY_MONTHS": value,
        "DJANGO_SETTINGS_MODULE": "shebao.settings",
        "SECRET_KEY": "k" * 50,  # settings are read as in production: nothing generated on disk
    }
    code = "from django.conf import settings; print(settings.SHEBAO_SWITCH_DELAY_MONTHS)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_it_reads_the_delay_from_the_environment_and_fails_fast_on_a_bad_one() -> None:
    assert _settings_value("2").stdout.strip() == "2"
    bad = _settings_value("13")
    assert bad.returncode != 0 and "SHEBAO_SWITCH_DELAY_MONTHS" in bad.stderr
    assert _settings_value("soon").returncode != 0


def test_the_next_month_rule_follows_the_setting(settings: Any) -> None:
    submitted = dt.date(2026, 11, 20)
    assert settings.SHEBAO_SWITCH_DELAY_MONTHS == 1
    assert switch_effective_period(submitted_on=submitted, approved_on=submitted) == 202612
    settings.SHEBAO_SWITCH_DELAY_MONTHS = 2
    assert switch_effective_period(submitted_on=submitted, approved_on=submitted) == 202701
    settings.SHEBAO_SWITCH_DELAY_MONTHS = 0
    assert switch_effective_period(submitted_on=submitted, approved_on=submitted) == 202611


def test_a_late_approval_starts_from_the_first_month_not_yet_filed(world: Any) -> None:
    payroll, _ = _filed_payroll(world)  # 202406 is filed and pays 刘大 (person B) into his passbook
    person = world.person_b
    old = account_effective(person.pk, PERIOD)
    change = account_change_prepare(
        actor=world.centre_clerk,
        person=person,
        account_no=NEW_ACCOUNT,
        account_name=person.name,
        bank=world.bank_a,
        submitted_on=dt.date(2024, 5, 10),
    )
    # approved in May: by the next-month rule 202406, but 202406 went to the bank on the old account
    change = account_change_approve(change_id=change.pk, actor=world.supervisor, today=dt.date(2024, 5, 31))
    assert change.valid_from == 202407
    assert account_effective(person.pk, PERIOD) == old
    assert account_effective(person.pk, 202407).account_no == NEW_ACCOUNT
