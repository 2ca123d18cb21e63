from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_benefit_types(sender: Any, apps: Any = None, using: str = "default", **kwargs: Any) -> None:
    """Put the built-in benefit types back when a table flush removed them (the data migration seeds them
    once; `flush` empties every table and then sends post_migrate). Existing rows are never changed."""
    import importlib

    if apps is None:
        return
    try:
        BenefitType = apps.get_model("payments", "BenefitType")
    except LookupError:
        return
    if BenefitType.objects.using(using).exists():
        return
    importlib.import_module("shebao.payments.migrations.0002_benefit_types").seed(apps, None)


class PaymentsConfig(AppConfig):
    name = "shebao.payments"
    label = "payments"
    verbose_name = "待遇支付"

    def ready(self) -> None:
        from shebao.payments import (
            actions,  # noqa: F401  (registers audit labels)
            jobs,  # noqa: F401  (registers the job handlers and exports)
        )
        from shebao.payments.permissions import register

        register()
        from shebao.payments.services import deaths_from_person_import
        from shebao.people.services import PERSON_DEATH_HOOKS

        if deaths_from_person_import not in PERSON_DEATH_HOOKS:
            PERSON_DEATH_HOOKS.append(deaths_from_person_import)
        post_migrate.connect(_ensure_benefit_types, sender=self, dispatch_uid="payments.ensure_benefit_types")
