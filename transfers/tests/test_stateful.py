"""Random sequences of stock and transfer steps, legal and illegal, checked against a model.

Hypothesis drives the services, as an admin, through three branches and three products (two
counted in pieces, one measured in quarter metres). The machine keeps its own account of what
every branch holds and where every transfer stands, predicts each step's outcome (done, or
refused with which error) and after every step checks the database against that account, the
ledger (``ledger_discrepancies``) and the conservation of stock across transfers.

Each step of the workflow picks a transfer whose state allows it, so that runs of forty steps
get transfers shipped, received and closed; one more rule tries a step on a transfer whose
state does not allow it.
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import InvalidInput
from stock import services as stock
from stock.errors import InsufficientStock
from stock.models import StockLevel, StockMovement
from stock.selectors import ledger_discrepancies
from transfers import services
from transfers.conservation import conservation_discrepancies
from transfers.errors import IllegalTransition
from transfers.models import UNDER_WAY, Transfer, TransferLine, TransferStatus

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("postgres")]

ZERO = Decimal(0)
BRANCHES = range(3)
PRODUCTS = range(3)
# The smallest amount each product moves in: pieces whole, the last product in quarters.
STEPS = (Decimal(1), Decimal(1), Decimal("0.25"))
UNITS = (Unit.PIECE, Unit.PIECE, Unit.METRE)
CANCELLABLE = (TransferStatus.REQUESTED, TransferStatus.APPROVED)
ROUTES = [(source, destination) for source in BRANCHES for destination in BRANCHES]

branch_index = st.sampled_from(BRANCHES)
product_index = st.sampled_from(PRODUCTS)
route = st.sampled_from([(s, d) for s, d in ROUTES if s != d])
multiple = st.integers(min_value=1, max_value=12)
transfer_lines = st.lists(
    st.tuples(product_index, multiple), min_size=1, max_size=3, unique_by=lambda pair: pair[0]
)


@dataclass
class LineModel:
    requested: Decimal
    shipped: Decimal | None = None
    received: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return (self.shipped or ZERO) - self.received


@dataclass
class TransferModel:
    source: int
    destination: int
    status: str
    lines: dict[int, LineModel] = field(default_factory=dict)
    shortfall_reason: str = ""
    steps: int = 1  # TransferEvents written: one per step done


class TransferMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run starts from the same empty database: everything it writes is undone.
        self.savepoint = transaction.savepoint()
        self.actor = AdminFactory()
        self.branches = BranchFactory.create_batch(len(BRANCHES))
        self.products = [ProductFactory(unit=unit) for unit in UNITS]
        self.on_hand = {(b, p): ZERO for b in BRANCHES for p in PRODUCTS}
        # What came into the company less what left it, per product, as booked at branches.
        self.booked = dict.fromkeys(PRODUCTS, ZERO)
        self.model: dict[uuid.UUID, TransferModel] = {}
        self.movements = 0  # ledger entries written

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # Helpers ------------------------------------------------------------------------------

    def branch_id(self, index: int) -> uuid.UUID:
        return self.branches[index].pk

    def product_id(self, index: int) -> uuid.UUID:
        return self.products[index].pk

    def attempt(self, expected: type[Exception] | None, service, **kwargs):
        """Call ``service`` as the admin; it must succeed when ``expected`` is None (its
        result is returned), else raise ``expected`` (and, the invariants then check,
        change nothing)."""
        if expected is None:
            result = service(actor=self.actor, **kwargs)
            # A stock service writes one movement; transfer steps are counted by their rules.
            self.movements += service.__module__ == stock.__name__
            return result
        with pytest.raises(expected):
            service(actor=self.actor, **kwargs)
        return None

    def having(self, *statuses: str) -> list[int]:
        """The numbers (in order of creation) of the transfers in one of ``statuses``."""
        return [
            number
            for number, model in enumerate(self.model.values())
            if not statuses or model.status in statuses
        ]

    def pick(self, data: st.DataObject, *statuses: str) -> tuple[uuid.UUID, TransferModel]:
        """A transfer in one of ``statuses``, or any (the rule's precondition says there is
        one); drawn by its number, so that a failing run reads the same when replayed."""
        number = data.draw(st.sampled_from(self.having(*statuses)), label="transfer number")
        pk = list(self.model)[number]
        return pk, self.model[pk]

    # Stock at branches ----------------------------------------------------------------------

    @initialize(data=st.data())
    def stock_the_shelves(self, data):
        for b in BRANCHES:
            for p in PRODUCTS:
                self.receive_stock(b, p, data.draw(st.integers(10, 40), label=f"stock {b} {p}"))

    @initialize(first=route, second=route, lines=st.tuples(transfer_lines, transfer_lines))
    def start_two_transfers(self, first, second, lines):
        """One requested, one sent: every run has transfers to work on from its first step
        (each rule, start_transfer too, may be left out of a run)."""
        self.start_transfer(first, lines[0], pull=True, malformed=None)
        self.start_transfer(second, lines[1], pull=False, malformed=None)

    @rule(branch=branch_index, product=product_index, n=multiple)
    def receive_stock(self, branch, product, n):
        amount = n * STEPS[product]
        self.attempt(
            None,
            stock.receive_stock,
            branch_id=self.branch_id(branch),
            product_id=self.product_id(product),
            quantity=amount,
        )
        self.on_hand[branch, product] += amount
        self.booked[product] += amount

    @rule(branch=branch_index, product=product_index, n=multiple)
    def issue_stock(self, branch, product, n):
        amount = n * STEPS[product]
        short = amount > self.on_hand[branch, product]
        self.attempt(
            InsufficientStock if short else None,
            stock.issue_stock,
            branch_id=self.branch_id(branch),
            product_id=self.product_id(product),
            quantity=amount,
        )
        if not short:
            self.on_hand[branch, product] -= amount
            self.booked[product] -= amount

    @rule(
        branch=branch_index,
        product=product_index,
        n=st.integers(-12, 12),
        count=st.booleans(),
    )
    def correct_stock(self, branch, product, n, count):
        """A count (of n >= 0) or an adjustment (by n != 0), which cannot go below zero."""
        if count:
            counted = abs(n) * STEPS[product]
            self.attempt(
                None,
                stock.count_stock,
                branch_id=self.branch_id(branch),
                product_id=self.product_id(product),
                counted=counted,
            )
            delta = counted - self.on_hand[branch, product]
        else:
            delta = (n or 1) * STEPS[product]
            short = self.on_hand[branch, product] + delta < 0
            self.attempt(
                InsufficientStock if short else None,
                stock.adjust_stock,
                branch_id=self.branch_id(branch),
                product_id=self.product_id(product),
                delta=delta,
                reason="DAMAGED" if delta < 0 else "FOUND",
            )
            if short:
                return
        self.on_hand[branch, product] += delta
        self.booked[product] += delta

    # Starting transfers -----------------------------------------------------------------------

    @rule(
        route=route,
        lines=transfer_lines,
        pull=st.booleans(),
        malformed=st.sampled_from([None, None, None, None, "one branch", "a product twice"]),
    )
    def start_transfer(self, route, lines, pull, malformed):
        """Requested by the destination (pull) or sent by the source, already approved; or,
        from a branch to itself or naming a product twice, refused with nothing made."""
        source, destination = route
        items = [
            services.TransferItem(product_id=self.product_id(p), quantity=n * STEPS[p])
            for p, n in lines
        ]
        if malformed == "one branch":
            destination = source
        elif malformed == "a product twice":
            items.append(items[0])
        transfer = self.attempt(
            InvalidInput if malformed else None,
            services.request_transfer if pull else services.send_transfer,
            from_branch_id=self.branch_id(source),
            to_branch_id=self.branch_id(destination),
            items=items,
        )
        if malformed:
            return
        self.model[transfer.pk] = TransferModel(
            source=source,
            destination=destination,
            status=TransferStatus.REQUESTED if pull else TransferStatus.APPROVED,
            lines={p: LineModel(requested=n * STEPS[p]) for p, n in lines},
        )

    # Steps ------------------------------------------------------------------------------------

    @precondition(lambda self: self.having(TransferStatus.REQUESTED))
    @rule(data=st.data())
    def approve_transfer(self, data):
        """Sometimes changing quantities; zero is refused."""
        pk, model = self.pick(data, TransferStatus.REQUESTED)
        changes = data.draw(
            st.dictionaries(st.sampled_from(sorted(model.lines)), st.integers(0, 12)),
            label="changes",
        )
        expected = InvalidInput if any(n == 0 for n in changes.values()) else None
        self.attempt(
            expected,
            services.approve_transfer,
            transfer_id=pk,
            quantities={self.product_id(p): n * STEPS[p] for p, n in changes.items()},
        )
        if expected is None:
            model.status = TransferStatus.APPROVED
            model.steps += 1
            for p, n in changes.items():
                model.lines[p].requested = n * STEPS[p]

    @precondition(lambda self: self.having(TransferStatus.APPROVED))
    @rule(data=st.data())
    def ship_transfer(self, data):
        pk, model = self.pick(data, TransferStatus.APPROVED)
        short = any(
            line.requested > self.on_hand[model.source, p] for p, line in model.lines.items()
        )
        expected = InsufficientStock if short else None
        self.attempt(expected, services.ship_transfer, transfer_id=pk)
        if expected is None:
            model.status = TransferStatus.IN_TRANSIT
            model.steps += 1
            for p, line in model.lines.items():
                line.shipped = line.requested
                self.on_hand[model.source, p] -= line.requested
            self.movements += len(model.lines)

    @precondition(lambda self: self.having(*UNDER_WAY))
    @rule(data=st.data())
    def receive_transfer(self, data):
        """Some of the lines, each with all that is outstanding, a part of it or too much;
        sometimes a product that is not on the transfer."""
        pk, model = self.pick(data, *UNDER_WAY)
        products = data.draw(
            st.lists(st.sampled_from(sorted(model.lines)), min_size=1, unique=True),
            label="products",
        )
        arriving = {}
        for p in products:
            line, step = model.lines[p], STEPS[p]
            how = data.draw(
                st.sampled_from(["all", "part", "all", "part", "too much"]), label=f"{p}"
            )
            if how == "part" and line.outstanding > step:
                parts = int(line.outstanding / step)
                arriving[p] = data.draw(st.integers(1, parts - 1), label=f"part {p}") * step
            elif how == "too much":
                arriving[p] = line.outstanding + data.draw(multiple, label=f"over {p}") * step
            else:
                arriving[p] = line.outstanding or step
        stranger = data.draw(st.sampled_from(PRODUCTS), label="stranger")
        if stranger not in model.lines and not data.draw(st.integers(0, 9), label="add stranger"):
            arriving[stranger] = STEPS[stranger]
        refused = any(
            p not in model.lines or a > model.lines[p].outstanding for p, a in arriving.items()
        )
        expected = InvalidInput if refused else None
        self.attempt(
            expected,
            services.receive_transfer,
            transfer_id=pk,
            quantities={self.product_id(p): a for p, a in arriving.items()},
        )
        if expected is None:
            for p, amount in arriving.items():
                model.lines[p].received += amount
                self.on_hand[model.destination, p] += amount
            self.movements += len(arriving)
            done = all(line.outstanding == 0 for line in model.lines.values())
            model.steps += 1
            model.status = TransferStatus.RECEIVED if done else TransferStatus.PARTIALLY_RECEIVED

    @precondition(lambda self: self.having(*UNDER_WAY))
    @rule(data=st.data(), reason=st.sampled_from(["LOST", "DAMAGED", "LOST", "EATEN"]))
    def close_transfer(self, data, reason):
        pk, model = self.pick(data, *UNDER_WAY)
        expected = InvalidInput if reason == "EATEN" else None
        self.attempt(expected, services.close_transfer, transfer_id=pk, reason=reason)
        if expected is None:
            model.status = TransferStatus.RECEIVED
            model.shortfall_reason = reason
            model.steps += 1

    @precondition(lambda self: self.having(*CANCELLABLE))
    @rule(data=st.data())
    def cancel_transfer(self, data):
        pk, model = self.pick(data, TransferStatus.REQUESTED, TransferStatus.APPROVED)
        self.attempt(None, services.cancel_transfer, transfer_id=pk)
        model.status = TransferStatus.CANCELLED
        model.steps += 1

    @precondition(lambda self: self.having(TransferStatus.REQUESTED))
    @rule(data=st.data(), reason=st.sampled_from(["none spare", "none spare", " "]))
    def reject_transfer(self, data, reason):
        pk, model = self.pick(data, TransferStatus.REQUESTED)
        expected = None if reason.strip() else InvalidInput
        self.attempt(expected, services.reject_transfer, transfer_id=pk, reason=reason)
        if expected is None:
            model.status = TransferStatus.CANCELLED
            model.steps += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def step_out_of_turn(self, data):
        """A step the transfer's state does not allow, with arguments it would accept."""
        pk, model = self.pick(data)
        first = min(model.lines)
        arriving = {self.product_id(first): STEPS[first]}
        steps = {
            services.approve_transfer: ((TransferStatus.REQUESTED,), {}),
            services.ship_transfer: ((TransferStatus.APPROVED,), {}),
            services.receive_transfer: (UNDER_WAY, {"quantities": arriving}),
            services.close_transfer: (UNDER_WAY, {"reason": "LOST"}),
            services.cancel_transfer: (CANCELLABLE, {}),
            services.reject_transfer: ((TransferStatus.REQUESTED,), {"reason": "none spare"}),
        }
        out_of_turn = [step for step, (allowed, _) in steps.items() if model.status not in allowed]
        step = data.draw(st.sampled_from(out_of_turn), label="step")
        self.attempt(IllegalTransition, step, transfer_id=pk, **steps[step][1])

    # Invariants -------------------------------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        assert conservation_discrepancies() == []
        assert list(ledger_discrepancies()) == []

    @invariant()
    def the_database_holds_what_the_model_says(self):
        levels = {
            (level.branch_id, level.product_id): level.on_hand for level in StockLevel.objects.all()
        }
        assert {
            (b, p): levels.get((self.branch_id(b), self.product_id(p)), ZERO)
            for b in BRANCHES
            for p in PRODUCTS
        } == self.on_hand
        assert StockMovement.objects.count() == self.movements
        indexes = {product.pk: p for p, product in enumerate(self.products)}
        stored = {
            transfer.pk: (
                transfer.status,
                transfer.shortfall_reason,
                transfer.steps,
                {
                    indexes[line.product_id]: (line.requested, line.shipped, line.received)
                    for line in transfer.lines.all()
                },
            )
            for transfer in Transfer.objects.annotate(steps=Count("events")).prefetch_related(
                "lines"
            )
        }
        assert stored == {
            pk: (
                model.status,
                model.shortfall_reason,
                model.steps,
                {
                    p: (line.requested, line.shipped, line.received)
                    for p, line in model.lines.items()
                },
            )
            for pk, model in self.model.items()
        }

    @invariant()
    def what_was_booked_is_on_hand_in_transit_or_short(self):
        """The machine's own total of each product (received less issued, adjusted, counted)
        is, in the database, on hand somewhere, in transit, or recorded short."""
        outstanding = F("shipped") - F("received")
        lines = TransferLine.objects.values("product_id").annotate(
            in_transit=Sum(outstanding, filter=Q(transfer__status__in=UNDER_WAY)),
            short=Sum(outstanding, filter=~Q(transfer__shortfall_reason="")),
        )
        away = {row["product_id"]: row for row in lines.order_by()}
        on_hand = dict(
            StockLevel.objects.values("product_id")
            .annotate(total=Sum("on_hand"))
            .order_by()
            .values_list("product_id", "total")
        )
        for p, product in enumerate(self.products):
            row = away.get(product.pk, {})
            held = (
                on_hand.get(product.pk, ZERO)
                + (row.get("in_transit") or ZERO)
                + (row.get("short") or ZERO)
            )
            assert held == self.booked[p], product.sku


@pytest.mark.django_db
def test_random_steps_keep_stock_conserved():
    run_state_machine_as_test(
        TransferMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
