from django.urls import path

from touchbase.digest import views

app_name = "digest"

urlpatterns = [
    path("digest/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
