"""One typed Settings object for the whole product (environment prefix ``PCN_``).

Every knob a deployer can turn lives here, so there is one place to read, document and validate
configuration; modules ask for ``get_settings()`` instead of reading the environment themselves.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets that must never reach production; ``Settings`` refuses them unless ``debug`` is set.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})


class Settings(BaseSettings):
    """Configuration for every pcn command and service."""

    model_config = SettingsConfigDict(env_prefix="PCN_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where records, outputs and the store live.")
    default_pcn: str = Field("U55830", description="PCN used when none is given (ODS code).")
    twin_as_of: dt.date = Field(
        dt.date(2026, 3, 31),
        description="The date a synthetic twin describes (its 'today'); fixed so twins are "
        "reproducible.",
    )
    twin_history_years: int = Field(
        3, ge=1, le=10, description="Years of appointments and hospital activity in a twin."
    )
    synth_chunk_patients: int = Field(
        50_000, ge=1_000, description="Patients generated per chunk (bounds memory)."
    )
    efi_min_age: int = Field(
        65, ge=0, le=120, description="Youngest age given an electronic Frailty Index score."
    )
    workers: int = Field(0, ge=0, description="Worker processes; 0 means one per CPU core.")
    spark_master: str = Field(
        "local[2]", description="Spark master URL for the spark engine (local[N] or a cluster)."
    )
    spark_shuffle_partitions: int = Field(
        4, ge=1, description="spark.sql.shuffle.partitions for the spark engine."
    )
    spark_whole_stage_codegen: bool = Field(
        False, description="Spark whole-stage code generation; off by default because compiling "
        "wide queries costs more than it saves on a laptop. Turn on for a cluster."
    )
    database_url: str = Field(
        "", description="Operational store URL; empty means a SQLite file in data_dir."
    )
    secret_key: str = Field("", description="Signs sessions and tokens; required outside debug.")
    debug: bool = Field(False, description="Development mode: allows placeholder secrets.")
    max_concurrent_requests: int = Field(
        8, ge=1, le=10_000,
        description="Requests the web app serves at once; more are answered 503 with "
        "Retry-After instead of queueing. Request handling is CPU-bound: on 2 cores, 8 gave "
        "p95 0.7 s for admitted requests where 64 gave 2.8 s (benchmarks/load.py).",
    )
    public_requests_per_hour: int = Field(
        10, ge=1, le=100_000,
        description="Online consultation requests one client address may send through the "
        "public form in any hour; more are answered 429 with Retry-After.",
    )
    audit_anchor_file: Path | None = Field(
        None, description="Where audit-chain anchors are appended (default "
        "<data_dir>/audit-anchors.jsonl); keep it off the database server, or copy it to "
        "write-once storage.",
    )
    audit_anchor_key: str = Field(
        "", description="Signs audit-chain anchors; default: derived from secret_key (or a key "
        "file in data_dir in debug). Never stored in the database.",
    )
    audit_anchor_minutes: float = Field(
        15, ge=0, description="How often `pcn serve` anchors the audit chain's head outside "
        "the database; 0 turns it off (then run `pcn audit anchor` from cron).",
    )
    pseudonym_key: str = Field(
        "", description="Keys the pseudonyms of secondary-use extracts (HMAC-SHA256); default: "
        "derived from secret_key (or a key file in data_dir in debug). Keep it secret and "
        "stable: the same key gives the same pseudonyms.",
    )
    notify_base_url: str = Field(
        "https://api.notifications.service.gov.uk",
        description="GOV.UK Notify API base URL (point it at the local stand-in for demos).",
    )
    notify_api_key: str = Field(
        "", description="GOV.UK Notify API key ({key_name}-{service_id}-{secret}); empty: no "
        "reminders are sent.",
    )
    notify_sms_template_id: str = Field(
        "", description="Notify text message template for readings reminders (placeholder "
        "((link))).",
    )
    notify_email_template_id: str = Field(
        "", description="Notify email template for readings reminders (placeholder ((link))).",
    )
    public_base_url: str = Field(
        "", description="The web app's address as patients reach it, for links in reminders "
        "(e.g. https://pcn.example.nhs.uk).",
    )
    password_hashing: Literal["rfc9106_low_memory", "cheapest"] = Field(
        "rfc9106_low_memory",
        description="Argon2id parameters for passwords; 'cheapest' is for test suites and needs "
        "debug.",
    )

    @field_validator("default_pcn")
    @classmethod
    def _ods_code(cls, value: str) -> str:
        value = value.strip().upper()
        if not value.isalnum() or len(value) not in (5, 6):
            raise ValueError(f"default_pcn must be an ODS code like U55830, got {value!r}")
        return value

    def effective_workers(self) -> int:
        import os

        return self.workers or max(1, os.cpu_count() or 1)

    def require_secret(self) -> str:
        """The secret key, refusing placeholders unless running in debug mode."""
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS and not self.debug:
            raise ValueError(
                "PCN_SECRET_KEY is unset or a placeholder; set a long random value "
                "(or PCN_DEBUG=true for local development)"
            )
        return self.secret_key


def derived_key(settings: Settings, explicit: str, label: str, key_file: str) -> bytes:
    """A secret for one use (``label``): ``explicit`` when set; else derived from the secret
    key (HMAC-SHA256, so uses never share a key); else, on a development machine without one,
    a random key kept in ``data_dir/key_file`` (created once, mode 0600)."""
    import hashlib
    import hmac
    import os
    import secrets

    if explicit.strip():
        return explicit.encode()
    secret = settings.secret_key.strip()
    if secret.lower() not in PLACEHOLDER_SECRETS:
        return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()
    path = settings.data_dir / key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made meanwhile by another process
            return path.read_text().strip().encode()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
