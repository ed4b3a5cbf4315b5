from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from touchbase.web.views import (
    account,
    activity,
    apikeys,
    brand,
    campaigns,
    customers,
    dashboard,
    digest,
    imports,
    jobs,
    onboarding,
    settings,
    team,
    templates,
    webhooks,
)

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    # account
    path("accounts/signup/", account.signup, name="signup"),
    path("accounts/verify/resend/", account.email_verify_resend, name="verify_email_resend"),
    path("accounts/verify/<str:token>/", account.email_verify, name="verify_email"),
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("invitations/<str:token>/", team.invitation, name="invitation"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        account.PasswordResetView.as_view(
            template_name="web/account/password_reset_form.html",
            success_url=reverse_lazy("web:password_reset_done"),
            email_template_name="web/account/password_reset_email.txt",
            subject_template_name="web/account/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="web/account/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(
            template_name="web/account/password_reset_confirm.html",
            success_url=reverse_lazy("web:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/account/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("business/switch/", account.business_switch, name="business_switch"),
    path("business/new/", account.business_new, name="business_new"),
    # onboarding
    path("onboarding/", onboarding.onboarding, name="onboarding"),
    path("onboarding/campaign/", campaigns.onboarding_campaign, name="onboarding_campaign"),
    # jobs
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/new/", jobs.job_new, name="job_new"),
    path("jobs/import/", imports.job_import, name="job_import"),
    path("jobs/imports/<int:pk>/", imports.import_progress, name="import_progress"),
    path("jobs/imports/<int:pk>/errors.csv", imports.import_errors, name="import_errors"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/edit/", jobs.job_edit, name="job_edit"),
    path("jobs/<int:pk>/complete/", jobs.job_complete, name="job_complete"),
    path("jobs/<int:pk>/enroll/", jobs.job_enroll, name="job_enroll"),
    # customers
    path("customers/", customers.customer_list, name="customers"),
    path("customers/new/", customers.customer_new, name="customer_new"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/consent/", customers.customer_consent, name="customer_consent"),
    # campaigns
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/toggle/", campaigns.campaign_toggle, name="campaign_toggle"),
    path("campaigns/<int:pk>/duplicate/", campaigns.campaign_duplicate, name="campaign_duplicate"),
    path("campaigns/<int:pk>/delete/", campaigns.campaign_delete, name="campaign_delete"),
    path("enrollments/<int:pk>/stop/", campaigns.enrollment_stop, name="enrollment_stop"),
    # templates
    path("templates/", templates.template_list, name="templates"),
    path("templates/new/", templates.template_new, name="template_new"),
    path("templates/<int:pk>/", templates.template_detail, name="template"),
    path("templates/<int:pk>/copy/", templates.template_copy, name="template_copy"),
    # activity
    path("activity/", activity.activity, name="activity"),
    path("activity/<int:pk>/resolve/", activity.delivery_resolve, name="delivery_resolve"),
    # each member's own digest choice (staff too), so not under the owners' settings/
    path("digest/", digest.digest_settings, name="digest_settings"),
    # settings
    path("settings/", settings.business_settings, name="settings"),
    path("settings/brand/", brand.brand_settings, name="brand"),
    path("settings/test-message/", settings.test_message, name="settings_test_message"),
    path("settings/phone/", settings.phone_verify, name="settings_phone"),
    path("settings/team/", team.team, name="team"),
    path(
        "settings/team/invitations/<int:pk>/revoke/",
        team.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/team/members/<int:pk>/remove/", team.member_remove, name="member_remove"),
    path("settings/api-keys/", apikeys.api_keys, name="api_keys"),
    path("settings/api-keys/<int:pk>/revoke/", apikeys.api_key_revoke, name="api_key_revoke"),
    path("settings/webhooks/", webhooks.webhooks, name="webhooks"),
    path("settings/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook_detail"),
    path(
        "settings/webhooks/messages/<int:pk>/replay/",
        webhooks.webhook_replay,
        name="webhook_replay",
    ),
    path("settings/webhooks/<int:pk>/enable/", webhooks.webhook_enable, name="webhook_enable"),
    path("settings/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhook-secret/",
        settings.webhook_secret_rotate,
        name="settings_webhook_secret",
    ),
]
