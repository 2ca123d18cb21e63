"""The one way the medical system's balance reaches a campaign: a pluggable source named by a dotted path.

A centre plugs in its medical-insurance system by setting ``SHEBAO_MEDICAL_BALANCE_SOURCE`` to a class
with a ``name`` and a ``balance(*, person_ssn, old_card_no, new_card_no) -> Decimal | None`` method: the
medical-account balance the medical system moved from the old card to the new one, or None when it has
no figure for the person (a clerk then enters it). ``MedicalSystemError`` means the system failed; the
transfer waits for a clerk as well. The default source knows no balances.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class MedicalSystemError(Exception):
    """The medical system could not be asked; the message goes to the log."""


class MedicalBalanceSource(Protocol):
    name: str

    def balance(self, *, person_ssn: str, old_card_no: str, new_card_no: str) -> Decimal | None: ...


class NoMedicalSystem:
    """Default: no medical system is connected, every balance is entered by a clerk."""

    name = "未接入医保系统（经办录入）"

    def balance(self, *, person_ssn: str, old_card_no: str, new_card_no: str) -> Decimal | None:
        return None


def source_path() -> str:
    return str(getattr(settings, "SHEBAO_MEDICAL_BALANCE_SOURCE", "shebao.campaigns.medical.NoMedicalSystem"))


def get_source() -> MedicalBalanceSource:
    path = source_path()
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise MedicalSystemError(f"医保系统接口设置有误：{path}") from exc
    return cls()  # type: ignore[no-any-return]
