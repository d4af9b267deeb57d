"""Sign-in with per-device tokens, the caller's own access, and user management.

Views parse, call a service or selector, and render; who may do what is decided in
``accounts.permissions`` and the services.
"""

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions, selectors, services
from accounts.models import ApiToken, Membership, Role, User
from accounts.serializers import (
    ApiTokenSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
    MeUpdateSerializer,
    RealtimeTicketSerializer,
    RevokedTokensSerializer,
    SignedInDeviceSerializer,
    TokenLoginSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from inventory_project.kernel import realtime
from inventory_project.kernel.api import Pagination, StrictSerializer, valid_input


def _id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=what)


TOKEN_ID = _id_parameter("token_id", "The id of one of the caller's devices (tokens).")
USER_ID = _id_parameter("user_id", "The id of a person the caller manages.")
MEMBERSHIP_ID = _id_parameter("membership_id", "The id of a role at a branch the caller manages.")

# Tokens -----------------------------------------------------------------------------------


class TokenLoginApi(APIView):
    """Sign a device in with e-mail address and password; answers its token, shown once.

    Repeated failures lock the address out for a while (429), like the sign-in page.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Sign a device in",
        description="Answers a new token for the device, shown only this once. Wrong "
        "credentials answer 401; repeated failures lock the address out for a while (429).",
        request=TokenLoginSerializer,
        responses={201: SignedInDeviceSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = valid_input(TokenLoginSerializer, request)
        # The plain HttpRequest: django-axes flags a lockout on it for its middleware.
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("The e-mail address or password is wrong.")
        token, key = services.sign_in_device(user=user, device=data["device"])
        user_logged_in.send(sender=User, request=request._request, user=user)
        token.key, token.me = key, _me(user)
        body = SignedInDeviceSerializer(token, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenListApi(APIView):
    """The caller's signed-in devices."""

    @extend_schema(
        operation_id="auth_tokens_list",
        summary="List the caller's signed-in devices",
        description="Every unexpired token of the caller, the one of this request marked "
        "`current`. Not paginated: a user holds only a few.",
        responses={200: ApiTokenSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        tokens = selectors.active_api_tokens(request.user)
        return Response(ApiTokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenDetailApi(APIView):
    """Sign one of the caller's devices out."""

    @extend_schema(
        operation_id="auth_tokens_destroy",
        summary="Sign one of the caller's devices out",
        description="Revokes the token at once. Another user's token answers 404.",
        parameters=[TOKEN_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, token_id: str) -> Response:
        services.revoke_api_token(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutApi(APIView):
    """Sign out the device this request came from (revokes its token)."""

    @extend_schema(
        operation_id="auth_logout_create",
        summary="Sign this device out",
        description="Revokes the token the request is sent with. A request without a token "
        "(a browser session) answers 400.",
        request=None,
        responses={204: None},
    )
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

    @extend_schema(
        operation_id="auth_logout_all_create",
        summary="Sign every device of the caller out",
        description="Revokes all of the caller's tokens, this request's included.",
        request=None,
        responses={200: RevokedTokensSerializer},
    )
    def post(self, request: Request) -> Response:
        revoked = services.revoke_all_api_tokens(actor=request.user)
        user_logged_out.send(sender=User, request=request._request, user=request.user)
        return Response({"revoked": revoked})


class MeApi(APIView):
    """Who the caller is, which branches they see, their role and what they may do there."""

    @extend_schema(
        operation_id="me_retrieve",
        summary="Who the caller is and what they may do where",
        responses={200: MeSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(_me(request.user)).data)

    @extend_schema(
        operation_id="me_set_alert_mail",
        summary="Choose which low-stock e-mail to get, and one's language",
        description="Each alert as it is raised plus the daily digest (EACH), the digest only "
        "(DIGEST) or none (NONE). `alert_mail_all_branches` is for ADMINs. `language` (`en`, "
        "`de`, or empty to follow Accept-Language) is that of pages, e-mails and messages.",
        request=MeUpdateSerializer,
        responses={200: MeSerializer},
    )
    def patch(self, request: Request) -> Response:
        data = valid_input(MeUpdateSerializer, request)
        language = data.pop("language", None)
        user = request.user
        with transaction.atomic():
            if language is not None:
                user = services.set_language(actor=user, language=language)
            if data:
                user = services.set_alert_mail(user=user, **data)
        return Response(MeSerializer(_me(user)).data)


class RealtimeTicketApi(APIView):
    """A single-use ticket that opens the live-update websocket for the caller."""

    @extend_schema(
        operation_id="realtime_ticket_create",
        summary="Get a ticket for the live-update websocket",
        description="For clients that authenticate with a token: open "
        "`/ws/inventory/?ticket=<ticket>` within `expires_in` seconds. A ticket opens one "
        "socket; the token itself never goes in the address, where it would end up in logs. "
        "Browsers need none: their session opens the socket.",
        request=None,
        responses={201: RealtimeTicketSerializer},
    )
    def post(self, request: Request) -> Response:
        ticket = realtime.issue_ticket(request.user.pk)
        body = {
            "ticket": ticket.value,
            "expires_in": ticket.expires_in,
            "url": f"/ws/inventory/?ticket={ticket.value}",
        }
        return Response(RealtimeTicketSerializer(body).data, status=status.HTTP_201_CREATED)


# People -----------------------------------------------------------------------------------


class UserListApi(APIView):
    """People the caller manages. ADMINs create anyone; MANAGERs create STAFF of their
    branch (``branch`` and ``role: "STAFF"`` required)."""

    pagination_class = Pagination

    @extend_schema(
        operation_id="users_list",
        summary="List the people the caller manages",
        description="ADMINs see everyone; MANAGERs the members of the branches where they "
        "manage staff. Ordered by e-mail address. Others answer 403.",
        responses={200: UserSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        users = _managed_users(request).order_by("email")
        return _page(request, self, users, UserSerializer)

    @extend_schema(
        operation_id="users_create",
        summary="Create an account",
        description="ADMINs create anyone, administrators included; MANAGERs create STAFF of "
        "a branch they manage (`branch` and `role: STAFF` required). A used e-mail address "
        "answers 409.",
        request=UserCreateSerializer,
        responses={201: UserSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(UserCreateSerializer, request)
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


class UserInviteSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=150, required=False, default="")
    branch = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)
    language = serializers.ChoiceField(
        choices=[("", "the site's language"), *settings.LANGUAGES],
        required=False,
        default="",
        allow_blank=True,
        help_text="The language of the invitation e-mail and, later, of the person's pages.",
    )


class UserInviteApi(APIView):
    """Invite someone: an account without a password, a role at a branch, and an e-mail
    with a link to choose the password."""

    @extend_schema(
        operation_id="users_invite",
        summary="Invite someone by e-mail",
        description="Creates an account without a password and with a role at a branch, and "
        "once that is saved e-mails its owner a link (valid `PASSWORD_RESET_TIMEOUT`) to "
        "choose a password. ADMINs invite anyone to any branch; MANAGERs invite STAFF of a "
        "branch they manage. An address that already has an account answers 409 (give it "
        "a role through `POST /api/v1/memberships/` instead).",
        request=UserInviteSerializer,
        responses={201: UserSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(UserInviteSerializer, request)
        user = services.invite_user(
            actor=request.user,
            email=data["email"],
            full_name=data["full_name"],
            branch_id=data["branch"],
            role=data["role"],
            language=data["language"],
        )
        user = _managed_users(request).get(pk=user.pk)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    """One person; ADMINs change e-mail address, name and administrator status."""

    @extend_schema(
        operation_id="users_retrieve",
        summary="One person the caller manages",
        parameters=[USER_ID],
        responses={200: UserSerializer},
    )
    def get(self, request: Request, user_id: str) -> Response:
        return Response(UserSerializer(_managed_user(request, user_id)).data)

    @extend_schema(
        operation_id="users_partial_update",
        summary="Change an account (ADMINs)",
        description="Changes only the fields given. A used e-mail address answers 409.",
        parameters=[USER_ID],
        request=UserUpdateSerializer,
        responses={200: UserSerializer},
    )
    def patch(self, request: Request, user_id: str) -> Response:
        data = valid_input(UserUpdateSerializer, request)
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

    @extend_schema(
        operation_id="users_deactivate",
        summary="Deactivate an account",
        description="Its sessions and API tokens stop working at once. MANAGERs may only "
        "switch off people who are STAFF of their branches and nothing else.",
        parameters=[USER_ID],
        request=None,
        responses={200: UserSerializer},
    )
    def post(self, request: Request, user_id: str) -> Response:
        services.deactivate_user(actor=request.user, user_id=user_id)
        return Response(UserSerializer(_managed_user(request, user_id)).data)


class UserReactivateApi(APIView):
    """Let a deactivated account sign in again."""

    @extend_schema(
        operation_id="users_reactivate",
        summary="Reactivate an account",
        description="It may sign in again; sessions and tokens from before stay revoked.",
        parameters=[USER_ID],
        request=None,
        responses={200: UserSerializer},
    )
    def post(self, request: Request, user_id: str) -> Response:
        services.reactivate_user(actor=request.user, user_id=user_id)
        return Response(UserSerializer(_managed_user(request, user_id)).data)


class MembershipListApi(APIView):
    """Roles at the branches the caller manages; add someone by e-mail address."""

    pagination_class = Pagination

    @extend_schema(
        operation_id="memberships_list",
        summary="List roles at the branches the caller manages",
        description="Ordered by branch code, then e-mail address. Someone who manages no one "
        "gets 403.",
        responses={200: MembershipSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        memberships = _managed_memberships(request).order_by("branch__code", "user__email")
        return _page(request, self, memberships, MembershipSerializer)

    @extend_schema(
        operation_id="memberships_create",
        summary="Give someone a role at a branch",
        description="By e-mail address. ADMINs give any role; MANAGERs give STAFF at their "
        "branches. Someone who already has a role there answers 409.",
        request=MembershipCreateSerializer,
        responses={201: MembershipSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(MembershipCreateSerializer, request)
        membership = services.add_membership(
            actor=request.user, email=data["email"], branch_id=data["branch"], role=data["role"]
        )
        membership = _managed_memberships(request).get(pk=membership.pk)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(APIView):
    """One role at a branch: look it up, change it, or take it away."""

    @extend_schema(
        operation_id="memberships_retrieve",
        summary="One role at a branch the caller manages",
        parameters=[MEMBERSHIP_ID],
        responses={200: MembershipSerializer},
    )
    def get(self, request: Request, membership_id: str) -> Response:
        membership = get_object_or_404(_managed_memberships(request), pk=membership_id)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        operation_id="memberships_partial_update",
        summary="Change a role",
        description="Both the old and the new role must be the caller's to give.",
        parameters=[MEMBERSHIP_ID],
        request=MembershipUpdateSerializer,
        responses={200: MembershipSerializer},
    )
    def patch(self, request: Request, membership_id: str) -> Response:
        data = valid_input(MembershipUpdateSerializer, request)
        services.change_membership_role(
            actor=request.user, membership_id=membership_id, role=data["role"]
        )
        membership = get_object_or_404(_managed_memberships(request), pk=membership_id)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        operation_id="memberships_destroy",
        summary="Take a role away",
        description="The person's permissions at the branch go with it.",
        parameters=[MEMBERSHIP_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, membership_id: str) -> Response:
        services.remove_membership(actor=request.user, membership_id=membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _page(request: Request, view: APIView, queryset, serializer_class: type) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _me(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "is_admin": permissions.is_admin(user),
        "alert_mail": user.alert_mail,
        "alert_mail_all_branches": user.alert_mail_all_branches,
        "language": user.language,
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
