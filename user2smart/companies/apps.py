from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "user2smart.companies"
    label = "companies"
    verbose_name = "Companies"
