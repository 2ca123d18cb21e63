"""Roles and what each may do. Data scope (which rows) lives in the selectors; this is the action table."""

from django.db import models


class Role(models.TextChoices):
    CENTRE_CLERK = "centre_clerk", "中心经办员"
    CENTRE_SUPERVISOR = "centre_supervisor", "中心复核员"
    UNIT_CLERK = "unit_clerk", "单位经办员"
    TOWNSHIP_CLERK = "township_clerk", "乡镇经办员"
    BANK_CLERK = "bank_clerk", "银行网点经办员"
    AUDITOR = "auditor", "审计员"
    CARDHOLDER = "cardholder", "持卡人"


CENTRE_ROLES = frozenset({Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR})

# action -> roles allowed. One table; views, API and services ask `user_can(user, action)`.
ACTIONS: dict[str, frozenset[str]] = {
    "person.view": frozenset(Role.values),
    "person.search": frozenset(
        {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR, Role.UNIT_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK}
    ),
    "person.import": frozenset({Role.CENTRE_CLERK}),
    "person.export": frozenset(
        {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR, Role.UNIT_CLERK, Role.TOWNSHIP_CLERK}
    ),
    "person.edit": frozenset({Role.CENTRE_CLERK}),
    "person.full_ids": frozenset({Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR}),
    "org.view": frozenset(
        {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR, Role.UNIT_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK}
    ),
    "audit.view": frozenset({Role.CENTRE_SUPERVISOR, Role.AUDITOR}),
    "job.view": frozenset({Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR}),
    "change.approve": frozenset({Role.CENTRE_SUPERVISOR}),
    "token.manage": frozenset({Role.CENTRE_SUPERVISOR}),
}


def role_can(role: str, action: str) -> bool:
    try:
        return role in ACTIONS[action]
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to shebao.accounts.roles.ACTIONS") from None


def register_actions(actions: dict[str, frozenset[str] | set[str]]) -> None:
    """Domain apps add their actions from their AppConfig.ready(); an action is defined once."""
    for name, roles in actions.items():
        if name in ACTIONS and ACTIONS[name] != frozenset(roles):
            raise ValueError(f"action {name!r} is already defined differently")
        ACTIONS[name] = frozenset(roles)
