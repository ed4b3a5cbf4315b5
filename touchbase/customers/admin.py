from django.contrib import admin

from touchbase.customers.models import ConsentRecord, Customer, SmsSuppression


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "email", "phone", "sms_consent", "created_at"]
    list_filter = ["sms_consent", "business"]
    search_fields = ["name", "email", "phone"]
    readonly_fields = ["created_at", "updated_at"]


class AppendOnlyAdmin(admin.ModelAdmin):
    """Records kept as evidence: viewable, never edited or deleted from the admin."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(AppendOnlyAdmin):
    list_display = ["phone", "business", "action", "source", "recorded_by", "created_at"]
    list_filter = ["action", "source"]
    search_fields = ["phone"]


@admin.register(SmsSuppression)
class SmsSuppressionAdmin(admin.ModelAdmin):
    list_display = ["phone", "business", "reason", "created_at"]
    search_fields = ["phone"]
