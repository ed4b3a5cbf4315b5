from django.contrib import admin

from touchbase.inbound.models import Event, Feedback, InboundSms, RateLimitBucket


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "business", "source", "kind", "external_id", "occurred_at"]
    list_filter = ["source", "kind"]
    search_fields = ["external_id"]
    raw_id_fields = ["delivery", "enrollment", "customer"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["id", "business", "customer", "created_at"]
    search_fields = ["message"]
    raw_id_fields = ["delivery", "enrollment", "customer"]


@admin.register(InboundSms)
class InboundSmsAdmin(admin.ModelAdmin):
    list_display = ["id", "business", "from_number", "intent", "needs_attention", "received_at"]
    list_filter = ["intent", "needs_attention"]
    search_fields = ["from_number", "body", "provider_message_id"]
    raw_id_fields = ["customer"]


@admin.register(RateLimitBucket)
class RateLimitBucketAdmin(admin.ModelAdmin):
    list_display = ["key", "window_start", "hits"]
    search_fields = ["key"]
