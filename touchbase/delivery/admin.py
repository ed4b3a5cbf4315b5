from django.contrib import admin

from touchbase.delivery.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "business",
        "enrollment",
        "position",
        "channel",
        "status",
        "scheduled_at",
        "send_after",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["to_address", "provider_message_id"]
    raw_id_fields = ["enrollment"]
