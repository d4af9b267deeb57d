"""ASGI entry point, served by daphne: HTTP and websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_project.settings")

# Django must be set up before anything imports models (the auth middleware does).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from inventory_project.kernel.consumers import SERVER_SEND  # noqa: E402
from inventory_project.kernel.routing import websocket_urlpatterns  # noqa: E402


class OriginPolicy:
    """A browser (it sends Origin) must come from an allowed host, and may use its session
    cookie. A client without Origin is no browser: its cookies are dropped, so that only a
    ticket opens the socket for it and no page elsewhere can ride on a session.

    The server's own ``send`` goes along in the scope (``SERVER_SEND``): the consumer writes
    live events through it, past the session middleware's wrapper, which acts only on HTTP
    responses but costs a look at the session for every frame of a 1,000-socket fan-out."""

    def __init__(self, app) -> None:
        self.app = app
        self.browser_app = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            return await self.browser_app({**scope, SERVER_SEND: send}, receive, send)
        scope = {
            **scope,
            "headers": [(n, v) for n, v in headers if n != b"cookie"],
            SERVER_SEND: send,
        }
        return await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginPolicy(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
