"""What each role may do with cards. Which cards (data scope) is decided in selectors.py."""

from shebao.accounts.roles import Role

CENTRE = {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR}

ACTIONS: dict[str, set[str]] = {
    "card.view": set(Role.values),
    "card.search": CENTRE | {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK},
    "card.apply": {Role.CENTRE_CLERK},
    "card.production": {Role.CENTRE_CLERK},
    "card.ship": {Role.CENTRE_CLERK},
    "card.receive": {Role.BANK_CLERK, Role.CENTRE_CLERK},
    "card.stock": CENTRE | {Role.BANK_CLERK, Role.TOWNSHIP_CLERK},
    "card.notice": {Role.BANK_CLERK, Role.CENTRE_CLERK},
    "card.issue": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    "card.activate_social": {Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK},
    "card.activate_financial": {Role.BANK_CLERK},
    "card.loss": {Role.CENTRE_CLERK, Role.BANK_CLERK, Role.CARDHOLDER},
    "card.replace": {Role.CENTRE_CLERK},
    "card.recall": {Role.BANK_CLERK, Role.CENTRE_CLERK},
    # 月清月结: the custodian of a location counts, explains differences and closes the month.
    "card.vault_close": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
}


def register() -> None:
    from shebao.accounts.roles import register_actions

    register_actions(ACTIONS)  # type: ignore[arg-type]
