from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "shebao.people"
    label = "people"

    def ready(self) -> None:
        from shebao.people import (
            exporters,  # noqa: F401  (registers the person export)
            jobs,  # noqa: F401  (registers the job handlers)
        )
