from django.contrib import admin

from touchbase.campaigns.models import Campaign, Enrollment, MessageTemplate, Touch


class TouchInline(admin.TabularInline):
    model = Touch
    extra = 0


class SystemRowsReadOnly(admin.ModelAdmin):
    """Presets and system templates (rows without a business) are read-only everywhere."""

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.business_id is not None

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.business_id is not None


@admin.register(Campaign)
class CampaignAdmin(SystemRowsReadOnly):
    list_display = ["name", "business", "service_type", "status", "preset_key", "created_at"]
    list_filter = ["status", "service_type"]
    search_fields = ["name", "business__name"]
    inlines = [TouchInline]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SystemRowsReadOnly):
    list_display = ["name", "business", "channel", "system_key"]
    list_filter = ["channel"]
    search_fields = ["name", "body"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "business",
        "campaign",
        "customer",
        "status",
        "stop_reason",
        "current_position",
        "enrolled_at",
    ]
    list_filter = ["status", "stop_reason"]
    raw_id_fields = ["job", "customer", "campaign"]


@admin.register(Touch)
class TouchAdmin(admin.ModelAdmin):
    list_display = ["campaign", "position", "channel", "delay_hours", "template"]
    list_filter = ["channel"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.campaign.business_id is not None

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.campaign.business_id is not None
