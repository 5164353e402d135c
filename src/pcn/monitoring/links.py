"""One-time links for patients to send home readings without an account (ADR 0154).

A link carries a token signed with a key used for nothing else (derived from the secret key):
it names the patient (by the record's pseudonymous id), the purpose (home blood pressure) and
when it was issued, and stops working after ``LINK_DAYS``. It opens one page, the readings form
for that person, and nothing else; every issue and every use is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from pcn.config import Settings, derived_key

PURPOSE = "home_bp"
#: Long enough for NG136's 4-7 days of readings, with room to start late.
LINK_DAYS = 14
_SALT = "pcn-monitoring-readings-link"


class LinkError(ValueError):
    """A link that is not (or no longer) valid; the message is safe to show to the public."""


@dataclass(frozen=True)
class LinkClaims:
    patient_id: int
    purpose: str
    nonce: str


def _signer(settings: Settings) -> URLSafeTimedSerializer:
    key = derived_key(settings, "", "pcn-monitoring-links", "monitoring-links.key")
    return URLSafeTimedSerializer(key, salt=_SALT)


def issue(settings: Settings, patient_id: int) -> str:
    """A new token for ``patient_id`` (each carries a random nonce: no two are alike)."""
    return str(
        _signer(settings).dumps({"p": int(patient_id), "k": PURPOSE, "n": secrets.token_urlsafe(8)})
    )


def read(settings: Settings, token: str, max_age_days: int = LINK_DAYS) -> LinkClaims:
    try:
        data = _signer(settings).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise LinkError("This link has expired. Ask your GP practice for a new one.") from None
    except BadSignature:
        raise LinkError(
            "This link is not valid. Check you copied all of it, or ask your GP "
            "practice for a new one."
        ) from None
    if not isinstance(data, dict) or data.get("k") != PURPOSE or not isinstance(data.get("p"), int):
        raise LinkError("This link is not valid. Ask your GP practice for a new one.")
    return LinkClaims(patient_id=data["p"], purpose=data["k"], nonce=str(data.get("n", "")))
