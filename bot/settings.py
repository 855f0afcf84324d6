"""Settings from the environment: secrets never come from the repo or the org file."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_DATABASE_URL

PUBLIC_BOT_API = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDCALL_", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_api_url: str = PUBLIC_BOT_API
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Namespace of the bot's Redis keys: two bots (or test runs) can share one Redis.
    redis_prefix: str = "gridcall"
    log_level: str = Field(default="INFO")
    # Optional: a district's own OpenAI-compatible model for triage (local rules otherwise).
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = 3.0
    # Webhook mode (`gridcall run --mode webhook`): Telegram sends the secret with every update
    # and the webhook refuses requests without it; the URL, when set, is registered at start.
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    # How long a worker holds an outbox row it is sending. A worker that dies holding one
    # leaves it until then; it is then sent again (at least once: Telegram cannot be asked
    # whether a message arrived). Longer than any one send, short enough to recover soon.
    outbox_lease: float = Field(default=60.0, ge=10.0, le=3600.0)
    # `gridcall open311`: the keys a city platform must present (comma-separated).
    open311_api_keys: SecretStr | None = None


SECRETS = frozenset({"telegram_token", "webhook_secret", "llm_api_key", "open311_api_keys"})


class SettingsError(ValueError):
    """A GRIDCALL_* variable that cannot be used, named as the operator wrote it."""


def load_settings() -> Settings:
    """Read the environment. A bad variable is reported one line each, by its name and
    (unless it is a secret) its value, instead of as pydantic's traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = "_".join(str(part) for part in error["loc"])
            name = f"GRIDCALL_{field.upper()}"
            if field in SECRETS:
                lines.append(f"{name}: {error['msg']}")
            else:
                lines.append(f"{name}={error.get('input')!r}: {error['msg']}")
        raise SettingsError("\n".join(lines)) from None
