from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "touchbase.ops"
    label = "ops"

    def ready(self):
        from touchbase.ops import production  # noqa: F401  (registers the deploy check)
