from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shebao.jobs"
    label = "jobs"

    def ready(self) -> None:
        from shebao.jobs import exports  # noqa: F401  (registers the export job)
