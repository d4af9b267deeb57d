"""A real SMTP server on loopback for the e-mail tests: aiosmtpd in a thread, keeping what
it accepted, and able to refuse mail or to hold a conversation until told to go on."""

import asyncio
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from inventory_project.tests.helpers import free_port


class MailSink:
    """What the server accepted, in ``messages`` (there once the sender's send() returned);
    ``refusing`` answers every message with a temporary failure (451), ``holding`` stalls
    each conversation at RCPT TO."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.refused = 0
        self.holding = threading.Event()
        self.held = threading.Event()
        self.released = threading.Event()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> "MailSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._controller.stop()

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.holding.is_set():
            self.held.set()
            # A worker killed here never gets to DATA: no message is delivered.
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Mail server busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """Wait until ``count`` messages arrived, then a moment more for any extra."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        return list(self.messages)
