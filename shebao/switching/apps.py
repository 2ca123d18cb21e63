from django.apps import AppConfig


class SwitchingConfig(AppConfig):
    name = "shebao.switching"
    label = "switching"
    verbose_name = "账户切换"

    def ready(self) -> None:
        from shebao.accounts.roles import register_actions
        from shebao.switching import actions, jobs  # noqa: F401  (labels and job handlers register on import)
        from shebao.switching.permissions import ACTIONS

        register_actions(ACTIONS)  # type: ignore[arg-type]

        from shebao.switching import signals

        signals.connect()
