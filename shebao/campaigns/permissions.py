"""What each role may do with replacement campaigns and progress figures. Data scope lives in selectors."""

from shebao.accounts.roles import Role

CENTRE: set[str] = {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR}

ACTIONS: dict[str, set[str]] = {
    "campaign.view": CENTRE,
    "campaign.manage": {Role.CENTRE_CLERK},
    # Maker-checker: a clerk records the medical-account balance, a supervisor confirms the transfer.
    "campaign.transfer_request": {Role.CENTRE_CLERK},
    "campaign.transfer_approve": {Role.CENTRE_SUPERVISOR},
    "card.progress": CENTRE | {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK},
}


def register() -> None:
    from shebao.accounts.roles import register_actions

    register_actions(ACTIONS)  # type: ignore[arg-type]
