from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import api, people_views, views
from accounts.forms import PasswordResetMailForm, ResetPasswordForm

urlpatterns = [
    path("account/", views.home, name="account"),
    path(
        "account/sign-in/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("account/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password/changed/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "account/password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetMailForm,
            email_template_name="registration/password_reset_email.txt",
            html_email_template_name="registration/password_reset_email.html",
        ),
        name="password_reset",
    ),
    path(
        "account/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=ResetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "account/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/welcome/<uidb64>/<token>/", people_views.WelcomeView.as_view(), name="welcome"),
    path(
        "account/devices/<uuid:token_id>/sign-out/",
        views.sign_out_device,
        name="sign-out-device",
    ),
    path("account/devices/sign-out/", views.sign_out_all_devices, name="sign-out-all-devices"),
    path("account/alert-mail/", views.alert_mail, name="alert-mail"),
    path("account/language/", views.language, name="account-language"),
]

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("auth/token/", api.TokenLoginApi.as_view(), name="api-token-login"),
    path("auth/tokens/", api.TokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>/", api.TokenDetailApi.as_view(), name="api-token"),
    path("auth/logout/", api.LogoutApi.as_view(), name="api-logout"),
    path("auth/logout-all/", api.LogoutAllApi.as_view(), name="api-logout-all"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("realtime/tickets/", api.RealtimeTicketApi.as_view(), name="api-realtime-ticket"),
    path("users/", api.UserListApi.as_view(), name="api-users"),
    path("users/invite/", api.UserInviteApi.as_view(), name="api-user-invite"),
    path("users/<str:user_id>/", api.UserDetailApi.as_view(), name="api-user"),
    path(
        "users/<str:user_id>/deactivate/",
        api.UserDeactivateApi.as_view(),
        name="api-user-deactivate",
    ),
    path(
        "users/<str:user_id>/reactivate/",
        api.UserReactivateApi.as_view(),
        name="api-user-reactivate",
    ),
    path("memberships/", api.MembershipListApi.as_view(), name="api-memberships"),
    path(
        "memberships/<str:membership_id>/",
        api.MembershipDetailApi.as_view(),
        name="api-membership",
    ),
]
