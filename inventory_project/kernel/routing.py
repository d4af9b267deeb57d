"""Websocket routes under ``/ws/``."""

from django.urls import path

from inventory_project.kernel.consumers import InventoryConsumer

websocket_urlpatterns = [
    path("ws/inventory/", InventoryConsumer.as_asgi()),
]
