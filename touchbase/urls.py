from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("touchbase.api.urls")),
    path("", include("touchbase.ops.urls")),
    path("", include("touchbase.inbound.urls")),
    path("", include("touchbase.branding.urls")),
    path("", include("touchbase.digest.urls")),
    path("", include("touchbase.web.urls")),
]
