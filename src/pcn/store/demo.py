"""Demo accounts and sharing agreements for a PCN's practices (used by ``make demo``).

One account per network role, one practice clinician per practice, and the agreements a real PCN
signs so that its network staff can work across practices (ADR 0054): every member practice shares
with ``network`` for direct care (view and export) and population health (view). Re-running resets
the demo passwords (so they can be printed again) and adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pcn.access.policy import NETWORK, DataScope, Purpose, Role
from pcn.store import accounts, sharing
from pcn.store.database import Store

NETWORK_ACCOUNTS = (
    ("demo.director", Role.CLINICAL_DIRECTOR, "Demo Clinical Director"),
    ("demo.manager", Role.PCN_MANAGER, "Demo PCN Manager"),
    ("demo.coordinator", Role.CARE_COORDINATOR, "Demo Care Coordinator"),
    ("demo.analyst", Role.ANALYST, "Demo Analyst"),
    ("demo.admin", Role.ADMIN, "Demo Administrator"),
)
DEMO_AGREEMENTS = ((DataScope.VIEW_AND_EXPORT, Purpose.DIRECT_CARE),
                   (DataScope.VIEW, Purpose.POPULATION_HEALTH))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    practice_code: str | None
    password: str


def seed_demo(store: Store, practice_codes: list[str],
              valid_from: dt.date | None = None) -> list[DemoLogin]:
    """Create (or reset) the demo accounts and agreements; returns the logins to print."""
    codes = sorted({c.strip().upper() for c in practice_codes})
    if not codes:
        raise ValueError("demo accounts need at least one practice")
    wanted = [(u, r, n, None) for u, r, n in NETWORK_ACCOUNTS] + [
        (f"demo.gp.{c.lower()}", Role.PRACTICE_CLINICIAN, f"Demo GP at {c}", c) for c in codes]
    logins = []
    for username, role, name, practice in wanted:
        password = accounts.generate_password()
        if accounts.get_account(store, username) is None:
            accounts.create_user(store, username, role.value, practice_code=practice,
                                 display_name=name, password=password)
        else:
            accounts.set_role(store, username, role.value, practice)
            accounts.set_password(store, username, password)
        logins.append(DemoLogin(username, role.value, practice, password))

    live = [a for a, _ in sharing.list_agreements(store, include_revoked=False)]
    for scope, purpose in DEMO_AGREEMENTS:
        exists = any(a.from_practices == frozenset(codes) and a.to_orgs == {NETWORK}
                     and a.data_scope == scope and a.purpose == purpose for a in live)
        if not exists:
            sharing.add_agreement(store, from_practices=codes, to_orgs=[NETWORK],
                                  data_scope=scope.value, purpose=purpose.value,
                                  valid_from=valid_from or dt.date(2000, 1, 1),
                                  reference=f"demo {purpose.value}", created_by="demo")
    return logins
