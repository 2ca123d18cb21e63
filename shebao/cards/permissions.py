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
    "card.notice": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    "card.issue": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    "card.activate_social": {Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK, Role.BANK_CLERK},
    "card.activate_financial": {Role.BANK_CLERK},
    "card.loss": {Role.CENTRE_CLERK, Role.BANK_CLERK, Role.CARDHOLDER},
    "card.replace": {Role.CENTRE_CLERK},
    # 注销: an application withdrawn, or a card ended (deceased holder, old card after a replacement
    # campaign, a lost card that is not replaced). Done by the centre's window.
    "card.cancel": {Role.CENTRE_CLERK},
    "card.recall": {Role.BANK_CLERK, Role.CENTRE_CLERK},
    # A card the outlet never received and nobody found is declared lost in transit: the card is voided
    # (its bank must block the account) and made again. A supervisor decides it, apart from the outlet
    # clerk who recorded the shortage.
    "card.declare_lost": {Role.CENTRE_SUPERVISOR},
    # 月清月结: the custodian of a location counts, explains differences and closes the month.
    "card.vault_close": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    # 单位集中领卡: the unit records which members got their cards (文登: 发卡名单).
    "card.unit_handout": {Role.UNIT_CLERK},
    # 进村发放: the station's card officer with the bank's manager.
    "card.village": {Role.TOWNSHIP_CLERK, Role.BANK_CLERK, Role.CENTRE_CLERK},
    # 邮寄: the holder asks and uploads the liveness proofs; a centre clerk reviews and dispatches.
    "card.mail_request": {Role.CARDHOLDER},
    "card.mail_review": {Role.CENTRE_CLERK},
    # 临时卡: checked and settled wherever the formal card is issued; the centre reconciles monthly.
    "card.temp": {Role.BANK_CLERK, Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    "card.temp_register": {Role.CENTRE_CLERK},
    "card.temp_reconcile": {Role.CENTRE_CLERK},
    "card.temp_report": CENTRE | {Role.BANK_CLERK, Role.TOWNSHIP_CLERK},
    # 废卡销毁 and 文件销毁/处置记录表 (附表6)
    "card.destroy": {Role.CENTRE_CLERK},
    "card.destroy_view": set(CENTRE),
    "card.document_disposal": {Role.CENTRE_CLERK, Role.BANK_CLERK, Role.TOWNSHIP_CLERK},
    "card.document_disposal_view": CENTRE | {Role.BANK_CLERK, Role.TOWNSHIP_CLERK},
}


def register() -> None:
    from shebao.accounts.roles import register_actions

    register_actions(ACTIONS)  # type: ignore[arg-type]
