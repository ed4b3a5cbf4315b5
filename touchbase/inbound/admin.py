from django.contrib import admin

from touchbase.inbound.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "business", "source", "kind", "external_id", "occurred_at"]
    list_filter = ["source", "kind"]
    search_fields = ["external_id"]
    raw_id_fields = ["delivery", "enrollment", "customer"]
