"""Read-only views for the operator: endpoints (never their secret), messages and tries.
Owners manage endpoints in Settings > Webhooks or through the API."""

from django.contrib import admin

from touchbase.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly):
    list_display = ["url", "business", "created_at", "disabled_at", "last_success_at"]
    list_filter = ["business"]
    exclude = ["secret"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnly):
    list_display = ["message_id", "event_type", "endpoint", "status", "attempts", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id"]
    inlines = [WebhookAttemptInline]
