"""An open-loop client: ``--users`` people each send one request a second, whatever the
server's pace (half of them read a page of the stock list, half record a receipt on a
random level), and every latency is counted from the moment the request was due, not
from when it could be sent: a slow server's queue shows in the figures instead of
slowing the client down with it (no coordinated omission).

Standard library only: one connection per person, reopened whenever the server closes it
(gunicorn's sync workers close each one). Prints one JSON line (BENCH_RESULT ...).

    python paced.py --port 8000 --ids work/ids.json --users 200 --seconds 20
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import time


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, int(len(values) * share) - 1))]


class Person:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def send(self, raw: bytes) -> int:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(raw)
                return await self._answer()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self) -> int:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def request(method: str, path: str, host: str, token: str, body: str = "") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Token {token}",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def run(args) -> dict:
    with open(args.ids) as file:
        ids = json.load(file)
    host = f"{args.host}:{args.port}"
    latencies: list[float] = []
    errors = {"status": 0, "socket": 0, "unfinished": 0}
    start = time.monotonic() + 1.0

    async def person(number: int) -> None:
        client = Person(args.host, args.port)
        due = start + random.random()  # spread over the first second
        lists = number % 2 == 0
        try:
            while due < start + args.seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if lists:
                    page = random.randint(1, args.pages)
                    raw = request(
                        "GET",
                        args.list_path.format(page=page, offset=(page - 1) * args.per_page),
                        host,
                        ids["token"],
                    )
                else:
                    body = json.dumps(
                        {
                            "branch": random.choice(ids["branches"]),
                            "product": random.choice(ids["products"]),
                            "quantity": "1",
                        }
                    )
                    raw = request("POST", args.movement_path, host, ids["token"], body)
                try:
                    status = await client.send(raw)
                except (OSError, asyncio.IncompleteReadError):
                    errors["socket"] += 1
                else:
                    if not 200 <= status < 300:
                        errors["status"] += 1
                    latencies.append((time.monotonic() - due) * 1000)
                due += 1.0
        finally:
            client.close()

    tasks = [asyncio.create_task(person(n)) for n in range(args.users)]
    _done, pending = await asyncio.wait(tasks, timeout=args.seconds + 1 + args.grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.monotonic() - start
    # Whatever a person still owed when time ran out never got an answer.
    errors["unfinished"] = max(0, args.users * args.seconds - len(latencies) - errors["socket"])
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": len(latencies) / min(elapsed, args.seconds) if latencies else 0.0,
        "offered_rps": args.users,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "non2xx": errors["status"],
        "socket_errors": errors["socket"] + errors["unfinished"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ids", required=True, help="JSON: token, branches, products")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--grace", type=float, default=10.0, help="to finish what is owed")
    parser.add_argument("--list-path", required=True, help="with {page} or {offset}")
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--movement-path", default="/api/v1/movements/receive/")
    args = parser.parse_args()
    sys.stdout.write("BENCH_RESULT " + json.dumps(asyncio.run(run(args))) + "\n")


if __name__ == "__main__":
    main()
