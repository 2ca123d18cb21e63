from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shebao.jobs"
    label = "jobs"
