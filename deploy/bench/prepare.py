"""The benchmark's Django-side step, run by run.py inside ``manage.py shell`` with the
server's environment (so the session it signs is valid for the server):

- signs the bench manager's device in (an API token, through knox's manager) and opens a
  browser session for them;
- writes ``ids.lua``: the token, the session and the ids the wrk scripts pick from;
- captures, for each operation, the SQL that one request of it sends (Django's
  ``execute_wrapper`` on a test-client request, after a warm-up request so per-process
  caches are filled as in a serving worker) and turns it into a pgbench script: the
  level's, branch's and product's ids become pgbench variables, ids made by the request
  become fresh ones, the Idempotency-Key a unique one, and the level's ``on_hand`` and
  ``version`` the database returned are bound with ``\\gset`` where later statements send
  them back.

Configuration comes from BENCH_* environment variables set by run.py; the operations are
read from BENCH_WORK/operations.json.
"""

import hashlib
import json
import os
import re
import uuid
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.db.backends.postgresql.psycopg_any import mogrify
from django.test import Client
from knox.settings import knox_settings

from accounts.models import ApiToken, User

WORK = Path(os.environ["BENCH_WORK"])
BRANCHES = int(os.environ["BENCH_BRANCHES"])
PRODUCTS = int(os.environ["BENCH_PRODUCTS"])
PER_PAGE = 50
PAGES = PRODUCTS // PER_PAGE
HOST = "127.0.0.1"
# The level a captured random-level request touches; any but the hot one (1, 1).
CAPTURE_B, CAPTURE_P = 2, 17


def md5_uuid(name: str) -> str:
    return str(uuid.UUID(hashlib.md5(name.encode()).hexdigest()))


def branch_id(b: int) -> str:
    return md5_uuid(f"bench-branch-{b}")


def product_id(p: int) -> str:
    return md5_uuid(f"bench-product-{p}")


def level_id(b: int, p: int) -> str:
    return md5_uuid(f"bench-level-{b}-{p}")


def sign_in() -> tuple[User, str, str]:
    user = User.objects.get(email="bench-manager@example.com")
    ApiToken.objects.filter(user=user).delete()
    _token, secret = ApiToken.objects.create(
        user, expiry=knox_settings.TOKEN_TTL, device="benchmark"
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return user, secret, client.cookies["sessionid"].value


class Capture:
    """Every statement one request sends, with its parameters, the first row it returned
    (when it returned exactly one) and where transactions begin and end."""

    def __init__(self) -> None:
        self.steps: list[tuple] = []

    def __enter__(self):
        wrapper = connection.connection  # opened by the warm-up request
        assert wrapper is not None
        self._patched = {}
        for name, marker in (("_commit", "COMMIT"), ("_rollback", "ROLLBACK")):
            original = getattr(connection, name)
            self._patched[name] = original

            def patched(original=original, marker=marker):
                if not connection.get_autocommit():
                    self.steps.append(("tx", marker))
                return original()

            setattr(connection, name, patched)
        original_autocommit = connection._set_autocommit
        self._patched["_set_autocommit"] = original_autocommit

        def set_autocommit(autocommit):
            if not autocommit:
                self.steps.append(("tx", "BEGIN"))
            return original_autocommit(autocommit)

        connection._set_autocommit = set_autocommit
        self._wrapper = connection.execute_wrapper(self._record)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)
        for name in self._patched:
            delattr(connection, name)

    def _record(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        row = None
        pgresult = getattr(context["cursor"].cursor, "pgresult", None)
        if pgresult is not None and pgresult.ntuples == 1:
            row = {}
            for column in range(pgresult.nfields):
                name = pgresult.fname(column).decode()
                value = pgresult.get_value(0, column)
                row.setdefault(name, None if value is None else value.decode())
        for one in params if many else [params]:
            self.steps.append(("sql", sql, one, row))
        return result


STATE_COLUMNS = ("on_hand", "version")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def to_pgbench(
    steps: list[tuple], op: dict, one: dict, known: dict[str, str], key: str | None
) -> str:
    """A pgbench script sending what the captured request sent, with varying values."""
    lines = [f"-- {op['label']}: captured from {op['method']} {one['path']}"]
    if op.get("level") == "random":
        lines += [f"\\set b random(1, {BRANCHES})", f"\\set p random(1, {PRODUCTS})"]
    else:
        lines += ["\\set b 1", "\\set p 1"]
    offset = one.get("offset")
    if offset is not None:
        lines.append(f"\\set off {PER_PAGE} * random(0, {PAGES - 1})")
    words = op.get("words")
    word_array = ""
    if words:
        lines.append(f"\\set w random(1, {len(words)})")
        word_array = "(ARRAY[" + ", ".join(f"'{w}'" for w in words) + "])[:w]"
    if key is not None:
        lines.append("\\set k random(1, 9223372036854775806)")
    fresh: dict[str, str] = {}
    bound: dict[str, str] = {}  # value the database returned -> pgbench variable
    body = []
    for number, step in enumerate(steps):
        if step[0] == "tx":
            body.append(step[1] + ";")
            continue
        _, sql, params, row = step

        def one(value):
            return render(value, known, fresh, bound, key, words, word_array)

        if isinstance(params, dict):
            text = sql % {name: one(value) for name, value in params.items()}
        else:
            text = sql % tuple(one(value) for value in params) if params else sql
        if offset is not None:
            text = re.sub(rf"\bOFFSET {offset}\b", "OFFSET :off", text)
        text = " ".join(text.split())
        if row and any(column in row for column in STATE_COLUMNS):
            prefix = f"r{number}_"
            for column in STATE_COLUMNS:
                if row.get(column) is not None:
                    bound[row[column]] = f":{prefix}{column}"
            body.append(text + f" \\gset {prefix}")
        else:
            body.append(text + ";")
    for variable in fresh.values():
        lines.append(f"\\set {variable} random(1, 9223372036854775806)")
    return "\n".join(lines + body) + "\n"


def render(value, known, fresh, bound, key, words, word_array) -> str:
    text = str(value) if isinstance(value, uuid.UUID | str) else None
    if text is not None and text in known:
        return known[text]
    if isinstance(value, uuid.UUID) or (text and UUID_TEXT.fullmatch(text)):
        # Made by the request (a new row's id): a new one per transaction, the same one
        # wherever this request used it.
        variable = fresh.setdefault(text, f"n{len(fresh)}")
        return f"md5('bench-new-' || :client_id || '-' || :{variable})::uuid"
    if key is not None and value == key:
        return "('bench-' || :client_id || '-' || :k)"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        variable = bound.get(str(value))
        if variable is not None:
            return f"{variable}::{'numeric' if isinstance(value, Decimal) else 'bigint'}"
    if words and isinstance(value, str):
        for word in words:
            if word.lower() in value.lower():
                literal = mogrify("%s", [value], connection.connection)
                return f"replace(lower({literal}), '{word.lower()}', lower({word_array}))"
    return mogrify("%s", [value], connection.connection)


def capture(op: dict, one: dict, secret: str, session: str) -> str:
    client = Client(HTTP_HOST=HOST)
    headers = {}
    if op["auth"] == "token":
        headers["HTTP_AUTHORIZATION"] = f"Token {secret}"
    else:
        client.cookies["sessionid"] = session

    def send(level: tuple[int, int], key: str | None):
        extra = dict(headers)
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        if op["method"] == "POST":
            body = {"branch": branch_id(level[0]), "product": product_id(level[1])}
            body["quantity"] = "1"
            return client.post(one["path"], body, content_type="application/json", **extra)
        return client.get(one["path"], **extra)

    level = (CAPTURE_B, CAPTURE_P) if op.get("level") == "random" else (1, 1)
    idempotent = op.get("idempotent")
    warm = send((3, 18) if op.get("level") == "random" else level, _key() if idempotent else None)
    assert warm.status_code < 300, (op["label"], warm.status_code, warm.content[:300])
    key = _key() if idempotent else None
    with Capture() as recorded:
        response = send(level, key)
    assert response.status_code < 300, (op["label"], response.status_code)
    known = {
        level_id(*level): "md5('bench-level-' || :b || '-' || :p)::uuid",
        branch_id(level[0]): "md5('bench-branch-' || :b)::uuid",
        product_id(level[1]): "md5('bench-product-' || :p)::uuid",
    }
    # Rows the request only reads or that stay the same: its user, token and session.
    user = User.objects.get(email="bench-manager@example.com")
    known[str(user.pk)] = mogrify("%s", [user.pk], connection.connection)
    for token in ApiToken.objects.filter(user=user):
        known[str(token.pk)] = mogrify("%s", [token.pk], connection.connection)
    return to_pgbench(recorded.steps, op, one, known, key)


def _key() -> str:
    return "capture-" + uuid.uuid4().hex


def main() -> None:
    _user, secret, session = sign_in()
    operations = json.loads((WORK / "operations.json").read_text())
    for op in operations:
        for number, one in enumerate(op.get("captures") or [{"path": op["path"]}]):
            script = capture(op, one, secret, session)
            (WORK / f"pg_{op['name']}.{number}.sql").write_text(script)
    ids = [
        "return {",
        f"  token = {json.dumps(secret)},",
        f"  session = {json.dumps(session)},",
        "  branches = {"
        + ", ".join(json.dumps(branch_id(b)) for b in range(1, BRANCHES + 1))
        + "},",
        "  products = {",
    ]
    ids += [f"    {json.dumps(product_id(p))}," for p in range(1, PRODUCTS + 1)]
    ids += ["  },", "}"]
    (WORK / "ids.lua").write_text("\n".join(ids) + "\n")
    (WORK / "auth.json").write_text(json.dumps({"token": secret, "session": session}))


main()
