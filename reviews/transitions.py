"""The transition tables of awards, disbursement batches and lines, and approval notices.

Each state change of these objects is one `move(obj, TABLE, action, ...)` (from
hengyang_cbec.statetables), checked against the table here and audited as `<event><action>`.
"""

from __future__ import annotations

from hengyang_cbec.statetables import StateTable

from .models import Award, DisbursementBatch, DisbursementLine, Notice

_A = Award.Status
AWARD = StateTable(
    event="award.",
    field="status",
    states=_A,
    moves={
        (_A.RECOMMENDED, "committed"): _A.COMMITTED,  # finance commits it to a budget
        (_A.COMMITTED, "fixed"): _A.FIXED,  # the government approves
        (_A.RECOMMENDED, "cancelled"): _A.CANCELLED,  # returned, rejected or objection upheld
        (_A.COMMITTED, "cancelled"): _A.CANCELLED,
    },
)

_B = DisbursementBatch.State
BATCH = StateTable(
    event="finance.batch_",
    field="state",
    states=_B,
    moves={
        (_B.OPEN, "confirm"): _B.CONFIRMED,  # the checker, never the preparer
        (_B.CONFIRMED, "close"): _B.PAID,  # its last line is paid
    },
)

_L = DisbursementLine.State
LINE = StateTable(
    event="finance.",
    field="state",
    states=_L,
    moves={
        (_L.TO_PAY, "pay"): _L.PAID,  # the bank's reference recorded, by hand or from its file
    },
)

_N = Notice.Status
NOTICE = StateTable(
    event="notice.",
    field="status",
    states=_N,
    moves={
        (_N.PENDING, "ready"): _N.READY,  # rendered and stored
        (_N.PENDING, "failed"): _N.FAILED,  # the render gave up
        (_N.FAILED, "retry"): _N.PENDING,  # staff render it again
    },
)
