"""Sign-in with per-device tokens, the caller's own access, and user management.

Views parse, call a service or selector, and render; who may do what is decided in
``accounts.permissions`` and the services.
"""

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from django.db.models import Prefetch
from rest_framework import exceptions, status
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions, selectors, services
from accounts.models import ApiToken, Membership, User
from accounts.serializers import (
    ApiTokenSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
    TokenLoginSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from inventory_project.api import Pagination

# Tokens -----------------------------------------------------------------------------------


class TokenLoginApi(APIView):
    """Sign a device in with e-mail address and password; answers its token, shown once.

    Repeated failures lock the address out for a while (429), like the sign-in page.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    def post(self, request: Request) -> Response:
        data = _valid(TokenLoginSerializer, request)
        # The plain HttpRequest: django-axes flags a lockout on it for its middleware.
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("The e-mail address or password is wrong.")
        token, key = services.sign_in_device(user=user, device=data["device"])
        user_logged_in.send(sender=User, request=request._request, user=user)
        return Response(
            {
                "token": key,
                **ApiTokenSerializer(token, context={"request": request}).data,
                "current": True,
                "user": MeSerializer(_me(user)).data,
            },
            status=status.HTTP_201_CREATED,
        )


class TokenListApi(APIView):
    """The caller's signed-in devices."""

    def get(self, request: Request) -> Response:
        tokens = selectors.active_api_tokens(request.user)
        return Response(ApiTokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenDetailApi(APIView):
    """Sign one of the caller's devices out."""

    def delete(self, request: Request, token_id: str) -> Response:
        services.revoke_api_token(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutApi(APIView):
    """Sign out the device this request came from (revokes its token)."""

    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.ValidationError(
                {"detail": "This request carries no API token; sign out in the browser instead."}
            )
        services.revoke_api_token(actor=request.user, token_id=request.auth.pk)
        user_logged_out.send(sender=User, request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Sign every one of the caller's devices out."""

    def post(self, request: Request) -> Response:
        revoked = services.revoke_all_api_tokens(actor=request.user)
        user_logged_out.send(sender=User, request=request._request, user=request.user)
        return Response({"revoked": revoked})


class MeApi(APIView):
    """Who the caller is, which branches they see, their role and what they may do there."""

    def get(self, request: Request) -> Response:
        return Response(MeSerializer(_me(request.user)).data)


# People -----------------------------------------------------------------------------------


class UserListApi(APIView):
    """People the caller manages. ADMINs create anyone; MANAGERs create STAFF of their
    branch (``branch`` and ``role: "STAFF"`` required)."""

    def get(self, request: Request) -> Response:
        users = _managed_users(request).order_by("email")
        return _page(request, self, users, UserSerializer)

    def post(self, request: Request) -> Response:
        data = _valid(UserCreateSerializer, request)
        user = services.create_user(
            actor=request.user,
            email=data["email"],
            password=data["password"],
            full_name=data["full_name"],
            is_admin=data["is_admin"],
            branch_id=data["branch"],
            role=data["role"],
        )
        user = _managed_users(request).get(pk=user.pk)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    """One person; ADMINs change e-mail address, name and administrator status."""

    def get(self, request: Request, user_id: str) -> Response:
        return Response(UserSerializer(_managed_user(request, user_id)).data)

    def patch(self, request: Request, user_id: str) -> Response:
        data = _valid(UserUpdateSerializer, request)
        services.update_user(
            actor=request.user,
            user_id=user_id,
            email=data.get("email"),
            full_name=data.get("full_name"),
            is_admin=data.get("is_admin"),
        )
        return Response(UserSerializer(_managed_user(request, user_id)).data)


class UserDeactivateApi(APIView):
    """Switch an account off at once: its sessions and API tokens stop working."""

    def post(self, request: Request, user_id: str) -> Response:
        services.deactivate_user(actor=request.user, user_id=user_id)
        return Response(UserSerializer(_managed_user(request, user_id)).data)


class UserReactivateApi(APIView):
    def post(self, request: Request, user_id: str) -> Response:
        services.reactivate_user(actor=request.user, user_id=user_id)
        return Response(UserSerializer(_managed_user(request, user_id)).data)


class MembershipListApi(APIView):
    """Roles at the branches the caller manages; add someone by e-mail address."""

    def get(self, request: Request) -> Response:
        memberships = _managed_memberships(request).order_by("branch__code", "user__email")
        return _page(request, self, memberships, MembershipSerializer)

    def post(self, request: Request) -> Response:
        data = _valid(MembershipCreateSerializer, request)
        membership = services.add_membership(
            actor=request.user, email=data["email"], branch_id=data["branch"], role=data["role"]
        )
        membership = _managed_memberships(request).get(pk=membership.pk)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(APIView):
    def get(self, request: Request, membership_id: str) -> Response:
        membership = get_object_or_404(_managed_memberships(request), pk=membership_id)
        return Response(MembershipSerializer(membership).data)

    def patch(self, request: Request, membership_id: str) -> Response:
        data = _valid(MembershipUpdateSerializer, request)
        services.change_membership_role(
            actor=request.user, membership_id=membership_id, role=data["role"]
        )
        membership = get_object_or_404(_managed_memberships(request), pk=membership_id)
        return Response(MembershipSerializer(membership).data)

    def delete(self, request: Request, membership_id: str) -> Response:
        services.remove_membership(actor=request.user, membership_id=membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _page(request: Request, view: APIView, queryset, serializer_class: type) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _me(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "is_admin": permissions.is_admin(user),
        "branches": selectors.branch_access(user),
    }


def _managed_users(request: Request):
    memberships = Membership.objects.select_related("branch").order_by("branch__code")
    return permissions.managed_users(request.user).prefetch_related(
        Prefetch("memberships", queryset=memberships)
    )


def _managed_user(request: Request, user_id: str) -> User:
    return get_object_or_404(_managed_users(request), pk=user_id)


def _managed_memberships(request: Request):
    return permissions.managed_memberships(request.user).select_related("user", "branch")
