from django.urls import include, path

from touchbase.inbound import email_hooks, views
from touchbase.intake import views as intake_views

app_name = "inbound"

urlpatterns = [
    path("r/<path:token>", views.review_link, name="review"),
    path("f/<path:token>", views.feedback, name="feedback"),
    path("u/<path:token>", views.unsubscribe, name="unsubscribe"),
    path("hooks/twilio/sms", views.twilio_sms, name="twilio_sms"),
    path("hooks/twilio/status", views.twilio_status, name="twilio_status"),
    path("hooks/jobs/<slug:slug>", intake_views.job_webhook, name="job_webhook"),
    path("hooks/email/", include((email_hooks.urlpatterns(), "anymail"))),
]
