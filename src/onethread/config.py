"""Settings: the only module that reads the environment (prefix ``ONETHREAD_``)."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "onethread-development-secret-not-for-production"  # the old default: refused in production
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONETHREAD_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = Field(
        "development", description="production refuses demo data, dev secrets and the manual clock"
    )
    database_url: str = Field("sqlite:///var/onethread.db", description="SQLAlchemy URL (sqlite or postgresql)")
    secret_key: str | None = Field(None, description="signs session cookies (at least 32 random characters); "
                                   "unset: a key generated on first run and kept in the database")
    host: str = "127.0.0.1"
    port: int = 8000
    default_region: str = Field("GB", description="region used to read national phone numbers")
    default_currency: str = Field("GBP", description="ISO 4217 currency for new accounts")
    max_body_bytes: int = Field(1_000_000, description="requests with a larger body get 413")
    session_max_age_seconds: int = Field(8 * 3600, description="staff page sessions expire after this")
    sign_in_max_failures: int = Field(5, ge=1, description="wrong passwords for one account within the window "
                                      "before its sign-in is refused for a while")
    sign_in_address_max_failures: int = Field(20, ge=1, description="wrong passwords from one client address "
                                              "within the window before its sign-ins are refused for a while")
    sign_in_window_minutes: int = Field(15, ge=1, description="the window failed sign-ins are counted over")
    worker_interval_seconds: float = Field(5.0, description="pause between worker passes")
    outbox_batch_size: int = 200
    outbox_max_attempts: int = 10
    outbox_lease_seconds: int = Field(
        300, ge=1, description="an event a worker claimed and did not finish within this time (the worker died) "
        "is claimed again by another")
    sql_echo: bool = False
    db_wait_seconds: float = Field(
        4.0, gt=0, le=60, description="a request that cannot get the database within this time (SQLite busy "
        "with other changes, every connection in use) is answered 503 with Retry-After")

    clock: Literal["system", "manual"] = Field(
        "system", description="manual: the time is a database row an admin moves (sandbox; refused in production)")

    # interactions
    verification_ttl_minutes: int = Field(30, description="a verification in a contact session stays valid this long")
    imap_host: str | None = Field(None, description="IMAP server the worker polls for customer e-mail (unset: off)")
    imap_port: int = 993
    imap_ssl: bool = True
    imap_user: str | None = None
    imap_password: str | None = None
    imap_mailbox: str = "INBOX"
    imap_batch_size: int = Field(50, description="messages stored per IMAP poll")
    social_webhook_secret: str | None = Field(None, description="HMAC-SHA256 secret shared with the social platform")

    # attachments
    attachments_dir: str = Field("var/attachments", description="directory the attachment store keeps files in")
    attachment_max_bytes: int = Field(10 * 1024 * 1024, description="largest file kept with a contact")
    attachment_max_files: int = Field(10, description="most files kept with one contact")
    upload_max_bytes: int = Field(25 * 1024 * 1024, description="largest body of a request that carries files "
                                  "(base64 in JSON is a third larger than the file)")
    attachment_types: str = Field(
        "image/jpeg,image/png,image/gif,image/webp,image/heic,application/pdf,text/plain,text/csv",
        description="content types kept (comma-separated); a file's bytes must match its type")

    # field service: a subcontractor's record past any of these opens an audit (docs/field-service.md)
    field_audit_min_visits: int = Field(3, ge=1, description="visits with an outcome before the rates count")
    field_audit_incidents_per_100: float = Field(2.0, ge=0, description="incidents per 100 visits above which an "
                                                 "audit opens")
    field_audit_failed_percent: float = Field(20.0, ge=0, description="percentage of visits failed for the "
                                              "subcontractor's own causes above which an audit opens")
    field_audit_complaints: int = Field(3, ge=0, description="complaints about its work above which an audit opens")

    # cases
    market: str = Field("GB", description="market whose clock policy and regulator rules apply to new cases")
    clock_policy_file: str | None = Field(None, description="YAML clock policy (default: the built-in one)")
    head_of_customer_relations: str | None = Field(
        None, description="username at the top of the escalation ladder (default: the lead of the "
        "customer-relations team)")
    threading_window_days: int = Field(30, description="a contact joins an open case active within this many days")
    routing_policy_file: str | None = Field(None, description="YAML routing policy: which team's queue a contact "
                                            "that joined no case waits in (default: the built-in one)")
    away_handover_hours: int = Field(24, description="a case whose owner set their presence to away or off this "
                                     "long ago is offered to a colleague by the team's rule")
    away_offer_hours: int = Field(4, description="a hand-over offered by rule for an away owner that is not answered "
                                  "this long goes to the next colleague")

    # outreach (docs/outreach.md)
    outreach_timezone: str = Field("Europe/London", description="time zone of quiet hours (the market's)")
    outreach_batch_size: int = Field(50, description="outbound messages the worker sends per pass")
    mail_from: str = Field("onethread Telecom <customer.care@onethread.example>",
                           description="From of every e-mail to customers (its domain also ends each Message-ID)")
    smtp_host: str | None = Field(None, description="SMTP server the worker sends e-mail through (unset: e-mail "
                                  "waits, queued)")
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = Field("starttls", description="starttls, ssl (SMTPS) or "
                                                              "none (plain, for a local relay)")
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(30.0, description="a send that hears nothing for this long is in doubt")
    sms_provider: Literal["none", "file", "http"] = Field("none", description="file: write each SMS to "
                                                          "ONETHREAD_SMS_FILE_DIR (development); http: the provider")
    sms_file_dir: str = Field("var/sms", description="where the file provider writes SMS")
    sms_url: str | None = Field(None, description="the HTTP SMS provider's send endpoint")
    sms_token: str | None = Field(None, description="bearer credential for the HTTP SMS provider")
    sms_sender: str = Field("onethread", description="sender name or number shown on SMS")
    sms_webhook_secret: str | None = Field(None, description="HMAC-SHA256 secret of the SMS delivery receipts")
    channel_silence_seconds: int = Field(3600, description="an inbound channel with no success for this long is red")
    social_silence_seconds: int | None = Field(
        None, description="the social webhook with no delivery for this long is red (unset: silence is not judged)")
    telephony_silence_seconds: int | None = Field(
        None, description="telephony with no call event for this long is red (unset: silence is not judged)")
    # integrations: TMF hubs and outgoing webhooks (docs/api/hub.md, docs/api/webhooks.md)
    callback_allowlist: str = Field(
        "", description="comma-separated host names (*.example.com for a domain), IP addresses and networks "
        "(10.20.0.0/16) that callbacks may reach although they are internal (loopback, link-local, private)")
    callback_allowlist_only: bool = Field(False, description="true: callbacks may reach only the allow-list")
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="how long a receiver has to answer")
    webhook_lease_seconds: int = Field(
        300, ge=2, description="a delivery a worker claimed and did not finish in this time is sent again")
    webhook_max_attempts: int = Field(12, ge=1, le=100, description="after this many failures a delivery is dead")
    webhook_batch_size: int = Field(50, ge=1, le=1000, description="deliveries sent per worker pass at most")

    # personal-data rights (docs/privacy.md)
    privacy_policy_file: str | None = Field(None, description="YAML erasure and retention policy (default: the "
                                            "built-in one)")
    retention_sweep_every_seconds: int = Field(
        86400, ge=0, description="how often the worker runs the retention sweep (0: never; run it with "
        "'onethread gdpr sweep')")

    @field_validator("callback_allowlist")
    @classmethod
    def _allowlist(cls, value: str) -> str:
        for entry in filter(None, (e.strip() for e in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                host = entry[2:] if entry.startswith("*.") else entry
                if not host or not all(p and p.replace("-", "").isalnum() for p in host.split(".")):
                    raise ValueError(f"{entry!r} is neither a host name, an IP address nor a network") from None
        return value

    @model_validator(mode="after")
    def _lease_outlasts_timeout(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("ONETHREAD_WEBHOOK_LEASE_SECONDS must be longer than ONETHREAD_WEBHOOK_TIMEOUT_SECONDS, "
                             "or a slow receiver would be sent the same event again by another worker")
        return self

    @field_validator("default_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _psycopg3(cls, value: str) -> str:
        # Plain postgresql:// URLs mean psycopg 3 here (the only driver we install).
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe for production (empty when fine)."""
        problems = []
        key = self.secret_key
        if self.env == "production" and key is not None and (
                key == DEV_SECRET or len(key) < MIN_SECRET_LENGTH or len(set(key)) < 10):
            problems.append(f"ONETHREAD_SECRET_KEY is too weak (at least {MIN_SECRET_LENGTH} random characters, e.g. "
                            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`); or unset it to use "
                            "the key generated on first run and kept in the database")
        if self.env == "production" and self.clock == "manual":
            problems.append("ONETHREAD_CLOCK=manual is for sandboxes; production runs on the system clock")

        return problems
