"""The app as the browser tests' server runs it (``ASGI_APPLICATION`` of browser_settings).

The server lives through many tests, and each transactional test ends by emptying the
database, content types included, which the next test's setup creates again under new ids.
The server forgets the ids it cached at every request and websocket, as a freshly started one
would know them."""

from django.contrib.contenttypes.models import ContentType

from inventory_project.asgi import application as app


async def application(scope, receive, send):
    ContentType.objects.clear_cache()
    return await app(scope, receive, send)
