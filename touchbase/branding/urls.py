from django.urls import path

from touchbase.branding import views

app_name = "branding"

urlpatterns = [
    path("brand/<slug:slug>/logo-<str:digest>.png", views.logo, name="logo"),
    path("brand/colour-<str:hex_digits>.css", views.colour_css, name="colour"),
]
