from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "shebao.payments"
    label = "payments"
    verbose_name = "待遇支付"

    def ready(self) -> None:
        from shebao.payments import actions  # noqa: F401  (registers audit labels)
        from shebao.payments.permissions import register

        register()
