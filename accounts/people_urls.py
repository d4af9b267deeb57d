"""The people pages, mounted under /people/."""

from django.urls import path

from accounts import people_views as views

urlpatterns = [
    path("", views.people, name="people"),
    path("invite/", views.invite, name="person-invite"),
    path("<uuid:user_id>/", views.person, name="person"),
    path("<uuid:user_id>/details/", views.person_details, name="person-details"),
    path("<uuid:user_id>/administrator/", views.person_admin, name="person-admin"),
    path("<uuid:user_id>/deactivate/", views.person_deactivate, name="person-deactivate"),
    path("<uuid:user_id>/reactivate/", views.person_reactivate, name="person-reactivate"),
    path("<uuid:user_id>/invitation/", views.person_invitation, name="person-invitation"),
    path(
        "<uuid:user_id>/password-reset/", views.person_password_reset, name="person-password-reset"
    ),
    path("<uuid:user_id>/roles/", views.membership_add, name="person-role-add"),
    path(
        "<uuid:user_id>/roles/<uuid:membership_id>/",
        views.membership_role,
        name="person-role-change",
    ),
    path(
        "<uuid:user_id>/roles/<uuid:membership_id>/remove/",
        views.membership_remove,
        name="person-role-remove",
    ),
]
