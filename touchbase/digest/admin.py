from django.contrib import admin

from touchbase.digest.models import DigestPreference, DigestSent


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ["membership", "frequency"]
    list_filter = ["frequency"]


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    list_display = ["membership", "frequency", "period_start", "status", "created_at"]
    list_filter = ["status", "frequency"]

    def has_change_permission(self, request, obj=None):
        return False
