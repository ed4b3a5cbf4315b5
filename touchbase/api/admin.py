from django.contrib import admin, messages
from django.template.response import TemplateResponse

from touchbase.api.keys import create_api_key, revoke_api_key
from touchbase.api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here (the full key is shown once, on the page that answers the
    creation, never in the messages cookie) and revoked with the action; nothing else about
    a key can be changed."""

    list_display = ["name", "business", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["business"]
    search_fields = ["name", "prefix", "business__name"]
    actions = ["revoke_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["business", "name"]
        return [
            "business",
            "name",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        new = create_api_key(business=obj.business, name=obj.name, created_by=str(request.user))
        obj.pk = new.api_key.pk
        obj.__dict__.update(new.api_key.__dict__)
        request.touchbase_new_api_key = new.raw_key

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(request, "touchbase_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/api/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "api_key": obj,
                "raw_key": raw_key,
                "title": f"API key for {obj.business}",
            },
        )
        response["Cache-Control"] = "no-store"  # the key is on this page once, never cached
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says when the key was used and revoked

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request, queryset):
        revoked = sum(revoke_api_key(api_key=api_key) for api_key in queryset)
        messages.success(request, f"Revoked {revoked} key(s).")
