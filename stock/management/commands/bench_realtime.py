"""Benchmark: commit-to-client latency of ``stock.changed`` over the websocket.

Connects ``--clients`` websocket clients to a running server (daphne with ``REDIS_URL``, the
same database and Redis as this command), records receipts through the stock service, and
reports, over every (event, client) pair, how long after the commit the client had the
event: p50, p95, p99 and max. Prints figures; asserts nothing. Several ``--url`` (repeated,
or comma-separated) spread the clients over several server processes in turn, as a load
balancer would; ``--json`` adds one line of the figures for a script (``make bench``).

    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://... \\
        daphne -p 8001 inventory_project.asgi:application &
    REDIS_URL=... DATABASE_URL=... python manage.py bench_realtime --url ws://127.0.0.1:8001
"""

import asyncio
import json
import statistics
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from branches.models import Branch
from catalog.models import Product
from inventory_project.kernel import realtime
from stock import services

BENCH_BRANCH = "BENCH-WS"


class Command(BaseCommand):
    help = "Measure commit-to-client latency of stock.changed for many websocket clients."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--url",
            action="append",
            help="a server's ws:// (repeat, or separate by commas, for several processes); "
            "default ws://127.0.0.1:8001",
        )
        parser.add_argument("--clients", type=int, default=1000)
        parser.add_argument("--events", type=int, default=50, help="receipts to record")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between them")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="also print a BENCH_RESULT line"
        )

    def handle(
        self,
        *args,
        url: list[str] | str | None,
        clients: int,
        events: int,
        interval: float,
        as_json: bool = False,
        **options,
    ):
        if settings.PRODUCTION:
            raise CommandError("bench_realtime writes benchmark stock; not in production.")
        if not settings.REDIS_URL:
            raise CommandError("Set REDIS_URL: the server and this command must share Redis.")
        import websockets  # a development dependency

        if isinstance(url, str):  # call_command(url=...) passes one as it is
            url = [url]
        urls = [part for value in url or ["ws://127.0.0.1:8001"] for part in value.split(",")]
        urls = [part.strip().rstrip("/") for part in urls if part.strip()]

        admin, branch, product = _bench_objects()
        commits: dict[str, float] = {}

        def record_receipts() -> None:
            try:
                for _ in range(events):
                    with transaction.atomic():
                        # Registered first, so it runs at the commit, before the event goes.
                        holder: dict = {}
                        transaction.on_commit(lambda h=holder: h.update(at=time.time()))
                        movement = services.receive_stock(
                            actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=1
                        )
                    commits[str(movement.pk)] = holder["at"]
                    time.sleep(interval)
            finally:
                connection.close()

        async def client(
            server: str, ticket: str, opening: asyncio.Semaphore, ready, arrivals
        ) -> None:
            async with opening:  # the handshakes go in waves, as real clients trickle in
                ws = await websockets.connect(
                    f"{server}/ws/inventory/?ticket={ticket}", open_timeout=60
                )
                await ws.recv()  # welcome
            ready.set_result(True)
            async with ws:
                while True:
                    frame = json.loads(await ws.recv())
                    if frame.get("type") == "stock.changed":
                        arrivals.append((frame["data"]["movement"], time.time()))

        async def run() -> tuple[list, float]:
            arrivals: list = []
            tickets = [realtime.issue_ticket(admin.pk).value for _ in range(clients)]
            opening = asyncio.Semaphore(50)
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            readies = [loop.create_future() for _ in range(clients)]
            tasks = [
                asyncio.create_task(
                    client(urls[number % len(urls)], ticket, opening, ready, arrivals)
                )
                for number, (ticket, ready) in enumerate(zip(tickets, readies, strict=True))
            ]
            done, _ = await asyncio.wait(readies, timeout=180)
            if len(done) < clients:
                failures = [t.exception() for t in tasks if t.done() and t.exception()]
                raise CommandError(
                    f"Only {len(done)} of {clients} clients connected; first failure: "
                    f"{failures[0] if failures else 'none yet'!r}"
                )
            connected_in = time.monotonic() - started
            writer = threading.Thread(target=record_receipts)
            writer.start()
            while writer.is_alive():
                await asyncio.sleep(0.1)
            # Until every event reached every client, or nothing more came for 5 s.
            expected, last, quiet_since = clients * events, -1, time.monotonic()
            while len(arrivals) < expected and time.monotonic() - quiet_since < 5:
                if len(arrivals) != last:
                    last, quiet_since = len(arrivals), time.monotonic()
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return arrivals, connected_in

        arrivals, connected_in = asyncio.run(run())
        latencies = sorted(
            (at - commits[movement]) * 1000 for movement, at in arrivals if movement in commits
        )
        expected = clients * events
        if not latencies:
            raise CommandError("No event arrived: is the server running with the same Redis?")
        p50 = statistics.median(latencies)
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        self.stdout.write(
            f"{clients} clients connected in {connected_in:.1f} s to {len(urls)} server(s); "
            f"{events} receipts, "
            f"{len(latencies)} of {expected} deliveries "
            f"({100 * len(latencies) / expected:.1f} %)"
        )
        self.stdout.write(
            f"commit-to-client latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
        )
        if as_json:
            figures = {
                "clients": clients,
                "servers": len(urls),
                "delivered": len(latencies),
                "expected": expected,
                "p50_ms": p50,
                "p95_ms": p95,
                "p99_ms": p99,
                "max_ms": latencies[-1],
            }
            self.stdout.write("BENCH_RESULT " + json.dumps(figures))


def _bench_objects() -> tuple[User, Branch, Product]:
    admin, _ = User.objects.get_or_create(
        email="bench-realtime@example.com", defaults={"is_superuser": True}
    )
    branch, _ = Branch.objects.get_or_create(
        code=BENCH_BRANCH, defaults={"name": "Websocket bench"}
    )
    product, _ = Product.objects.get_or_create(sku="BENCH-WS-1", defaults={"name": "Bench item"})
    return admin, branch, product
