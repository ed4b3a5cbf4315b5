from django.contrib import admin

from touchbase.delivery.models import (
    AreaCodeState,
    Delivery,
    DeliveryAttempt,
    SendWindowRule,
    ThrottleState,
)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "provider",
        "outcome",
        "started_at",
        "latency_ms",
        "provider_message_id",
        "error_code",
        "response",
    ]


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
        "defer_reason",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "defer_reason"]
    search_fields = ["to_address", "provider_message_id"]
    # The worker's and the owner's state changes go through services that keep the rules
    # (at most once, the sequence moving on); an edited status here would bypass them.
    readonly_fields = [field.name for field in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["delivery", "number", "provider", "outcome", "latency_ms", "started_at"]
    list_filter = ["outcome", "provider"]
    raw_id_fields = ["delivery"]


@admin.register(SendWindowRule)
class SendWindowRuleAdmin(admin.ModelAdmin):
    list_display = ["region", "earliest", "latest", "no_sundays", "note"]


@admin.register(ThrottleState)
class ThrottleStateAdmin(admin.ModelAdmin):
    list_display = ["business", "channel", "next_slot_at"]


@admin.register(AreaCodeState)
class AreaCodeStateAdmin(admin.ModelAdmin):
    list_display = ["area_code", "state"]
    search_fields = ["area_code", "state"]
