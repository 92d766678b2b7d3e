"""One typed settings registry for the whole product.

Every setting carries a type, a default and a help line (its ``description``); secrets are flagged
with ``json_schema_extra={"secret": True}``. ``.env.example`` and the README's settings table are
generated from this class (``tower settings --format env|markdown``) and a test fails when they drift.

Adapters are chosen here, by URL, and nowhere else:

* ``TOWER_WAREHOUSE``: ``duckdb:///PATH`` or ``bigquery://PROJECT/DATASET``
* ``TOWER_STORE``:     ``local:///PATH`` or ``firestore://PROJECT[/DATABASE]``
* ``TOWER_BUS``:       ``local`` (``local:///PATH``) or ``pubsub://PROJECT``
* ``TOWER_TASKS``:     ``local`` (``local:///PATH``) or ``cloudtasks://PROJECT/LOCATION``
* ``TOWER_SECRETS``:   ``local:///PATH`` or ``secretmanager://PROJECT``
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """A setting has a value the product cannot use."""


@dataclass(frozen=True)
class AdapterUrl:
    """A parsed adapter URL: ``scheme://netloc/path``."""

    scheme: str
    netloc: str
    path: str

    @property
    def parts(self) -> list[str]:
        return [p for p in [self.netloc, *self.path.split("/")] if p]


def parse_adapter_url(value: str, allowed: tuple[str, ...], setting: str) -> AdapterUrl:
    """Parse an adapter URL and check its scheme is one the product knows."""
    if value in allowed:  # bare scheme, e.g. "local"
        return AdapterUrl(value, "", "")
    parsed = urlparse(value)
    if parsed.scheme not in allowed:
        raise ConfigError(f"{setting}={value!r}: scheme must be one of {', '.join(allowed)}")
    return AdapterUrl(parsed.scheme, parsed.netloc, parsed.path)


def _secret(description: str) -> Any:
    return Field(default="", description=description, json_schema_extra={"secret": True})


class Settings(BaseSettings):
    """Control Tower settings, read from ``TOWER_*`` environment variables (and ``.env``)."""

    model_config = SettingsConfigDict(env_prefix="TOWER_", env_file=".env", extra="ignore")

    # --- adapters -----------------------------------------------------------------------------
    warehouse: str = Field(
        default="duckdb:///.tower/warehouse.duckdb",
        description="Analytics warehouse: duckdb:///PATH (embedded) or bigquery://PROJECT/DATASET.",
    )
    store: str = Field(
        default="local:///.tower/store.sqlite",
        description="Document store: local:///PATH (SQLite) or firestore://PROJECT[/DATABASE].",
    )
    bus: str = Field(
        default="local:///.tower/bus.sqlite",
        description="Event bus: local[:///PATH] (durable SQLite queue) or pubsub://PROJECT.",
    )
    tasks: str = Field(
        default="local:///.tower/tasks.sqlite",
        description="Task queue: local[:///PATH] (durable SQLite queue) or cloudtasks://PROJECT/LOCATION.",
    )
    secrets: str = Field(
        default="local:///.tower/secrets",
        description="Secret store: local:///DIR (encrypted files) or secretmanager://PROJECT.",
    )
    tasks_target_url: str = Field(
        default="",
        description="Base URL of the deployed task-handler functions (Cloud Tasks HTTP targets).",
    )
    tasks_service_account: str = Field(
        default="",
        description="Service account Cloud Tasks uses to sign OIDC tokens for task-handler calls.",
    )

    # --- the local bus -----------------------------------------------------------------------
    bus_max_attempts: int = Field(
        default=5, ge=1, description="Deliveries of one message before it is parked as dead letter."
    )
    bus_backoff_seconds: float = Field(
        default=0.5, ge=0, description="First retry delay of the local bus; doubles per attempt."
    )
    bus_deliver_twice: bool = Field(
        default=False, description="Local bus delivers every message twice (tests at-least-once)."
    )

    # --- demo / sandbox ----------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".tower"), description="Where the embedded default keeps its files.")
    seed: int = Field(default=7, description="Seed of the synthetic merchant world.")
    host: str = Field(default="127.0.0.1", description="Address the local API and sandbox servers bind.")
    port: int = Field(default=8080, description="Port of the local API and page.")

    # --- secrets (values never logged) ---------------------------------------------------------
    anthropic_api_key: str = _secret("Anthropic API key; without it the deterministic narrator writes.")
    shopify_api_secret: str = _secret("Shopify app client secret (webhook and OAuth HMAC).")

    @field_validator("warehouse")
    @classmethod
    def _check_warehouse(cls, v: str) -> str:
        parse_adapter_url(v, ("duckdb", "bigquery"), "TOWER_WAREHOUSE")
        return v

    @field_validator("store")
    @classmethod
    def _check_store(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "firestore"), "TOWER_STORE")
        return v

    @field_validator("bus")
    @classmethod
    def _check_bus(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "pubsub"), "TOWER_BUS")
        return v

    @field_validator("tasks")
    @classmethod
    def _check_tasks(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "cloudtasks"), "TOWER_TASKS")
        return v

    @field_validator("secrets")
    @classmethod
    def _check_secrets(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "secretmanager"), "TOWER_SECRETS")
        return v

    def local_path(self, url: str, default_name: str) -> Path:
        """The file behind a ``local:///PATH`` or ``duckdb:///PATH`` URL (bare ``local`` → data_dir)."""
        parsed = urlparse(url)
        if parsed.scheme and parsed.path:
            # duckdb:///.tower/x → ".tower/x" (relative); duckdb:////abs/x → "/abs/x"
            return Path(parsed.path[1:])
        return self.data_dir / default_name


def settings_table() -> list[dict[str, Any]]:
    """Every setting with its env var, type, default, help and secret flag (for docs and checks)."""
    rows = []
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        annotation = getattr(field.annotation, "__name__", str(field.annotation))
        rows.append(
            {
                "env": f"TOWER_{name.upper()}",
                "type": annotation,
                "default": "" if extra.get("secret") else field.default,
                "help": field.description or "",
                "secret": bool(extra.get("secret")),
            }
        )
    return rows


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings(...)``)."""
    return Settings()


def render_settings(fmt: str) -> str:
    """The settings as a Markdown table (README) or as ``.env.example`` lines."""
    rows = settings_table()
    if fmt == "env":
        out = ["# Generated by `tower settings --format env`; do not edit by hand.", ""]
        for r in rows:
            out.append(f"# {r['help']}{' (secret)' if r['secret'] else ''}")
            out.append(f"{r['env']}={r['default']}")
        return "\n".join(out) + "\n"
    out = ["| variable | default | what it sets |", "| --- | --- | --- |"]
    for r in rows:
        default = "(secret)" if r["secret"] else f"`{r['default']}`"
        out.append(f"| `{r['env']}` | {default} | {r['help']} |")
    return "\n".join(out) + "\n"
