from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "touchbase.campaigns"
    label = "campaigns"
