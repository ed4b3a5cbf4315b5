from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "touchbase.imports"
    label = "imports"
    verbose_name = "CSV import"
