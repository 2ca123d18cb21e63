from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "shebao.cards"
    label = "cards"
    verbose_name = "社保卡管理"

    def ready(self) -> None:
        from shebao.cards import (
            actions,  # noqa: F401  (registers the audit labels)
            jobs,  # noqa: F401  (registers the job handlers)
        )
        from shebao.cards.permissions import register
        from shebao.cards.selectors import bank_scope_hook
        from shebao.people.selectors import BANK_SCOPE_HOOKS

        register()
        if bank_scope_hook not in BANK_SCOPE_HOOKS:
            BANK_SCOPE_HOOKS.append(bank_scope_hook)
