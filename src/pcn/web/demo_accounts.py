"""Demo accounts for `make demo`: one per role, practice staff at two different practices.

Re-running resets their passwords (printed again) instead of failing, so `make demo` is
repeatable. The PCN-level staff see practices' patients through two sharing agreements from
every member practice to the network (direct care and population health), as a real PCN's data
sharing agreement would allow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pcn.access.policy import NETWORK, DataScope, Purpose, Role
from pcn.store.accounts import create_user, generate_password, get_account, set_password
from pcn.store.database import Store
from pcn.store.sharing import add_agreement, list_agreements

DEMO_REFERENCE = "demo: member practices to PCN staff"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    practice_code: str | None


def demo_accounts(store: Store, practice_codes: list[str], valid_from: dt.date
                  ) -> list[DemoAccount]:
    """Create (or reset) the demo accounts and the demo sharing agreements."""
    if len(practice_codes) < 2:
        raise ValueError("the demo needs a record with at least two practices")
    first, second = sorted(practice_codes)[:2]
    wanted = [
        ("director", Role.CLINICAL_DIRECTOR, None),
        ("manager", Role.PCN_MANAGER, None),
        (f"clinician.{first.lower()}", Role.PRACTICE_CLINICIAN, first),
        (f"clinician.{second.lower()}", Role.PRACTICE_CLINICIAN, second),
        ("coordinator", Role.CARE_COORDINATOR, None),
        ("analyst", Role.ANALYST, None),
    ]
    out = []
    for username, role, practice in wanted:
        password = generate_password()
        if get_account(store, username) is None:
            create_user(store, username, role.value, practice_code=practice, password=password,
                        display_name=f"Demo {role.value.replace('_', ' ')}")
        else:
            set_password(store, username, password)
        out.append(DemoAccount(username, password, role.value, practice))
    existing = {(a.purpose, frozenset(a.from_practices))
                for a, _ in list_agreements(store, include_revoked=False)
                if NETWORK in a.to_orgs}
    for purpose in (Purpose.DIRECT_CARE, Purpose.POPULATION_HEALTH):
        if (purpose, frozenset(practice_codes)) not in existing:
            add_agreement(store, from_practices=list(practice_codes), to_orgs=[NETWORK],
                          data_scope=DataScope.VIEW_AND_EXPORT.value, purpose=purpose.value,
                          valid_from=valid_from, reference=DEMO_REFERENCE,
                          created_by="pcn demo accounts")
    return out
