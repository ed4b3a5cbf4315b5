from django.contrib import admin

from touchbase.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "business",
        "customer",
        "service_type",
        "status",
        "enrollment_outcome",
        "enrollment_reason",
        "created_at",
    ]
    list_filter = ["status", "service_type", "enrollment_outcome", "business"]
    search_fields = ["external_id", "customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    readonly_fields = [
        "enrollment_outcome",
        "enrollment_reason",
        "enrollment_detail",
        "enrollment_checked_at",
        "created_at",
        "updated_at",
    ]
