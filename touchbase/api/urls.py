from django.urls import path

from touchbase.api.main import api

urlpatterns = [path("", api.urls)]
