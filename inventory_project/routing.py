"""Websocket routes under ``/ws/``."""

from django.urls import path

from stock.consumers import InventoryConsumer

websocket_urlpatterns = [
    path("ws/inventory/", InventoryConsumer.as_asgi()),
]
