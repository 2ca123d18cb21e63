from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "shebao.orgs"
    label = "orgs"
