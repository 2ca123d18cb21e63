from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Card-generation replacement campaigns (换代), card progress figures, and the links from cards to
    payments (financial activation → payment account offer, pre-flight rules for card states)."""

    name = "shebao.campaigns"
    label = "campaigns"
    verbose_name = "换卡与进度"

    def ready(self) -> None:
        from shebao.campaigns import (
            actions,  # noqa: F401  (registers the audit labels)
            jobs,  # noqa: F401  (registers the job handlers)
            links,
        )
        from shebao.campaigns.permissions import register
        from shebao.campaigns.services import on_social_function_enabled
        from shebao.cards.signals import social_function_enabled

        register()
        links.register()
        social_function_enabled.connect(on_social_function_enabled, dispatch_uid="campaigns.medical_transfer")
