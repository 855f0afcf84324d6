"""Settings from the environment: secrets never come from the repo or the org file."""

from __future__ import annotations

from pydantic import Field, SecretStr
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
