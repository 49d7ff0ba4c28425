"""The settings object: one per process, built in the entry point.

Values come from the environment and from a ``.env`` file in the working
directory. Names are the same everywhere (compose file, README, ``.env.example``).
Nothing here is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from base.errors import ConfigurationError

DeviceName = Literal["auto", "cpu", "cuda"]


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fakewatch"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Everything a FakeWatch process can be told from outside."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Platforms. Tokens are secrets: their repr is masked and they are never logged.
    discord_token: SecretStr | None = Field(default=None, validation_alias=_env("DISCORD_TOKEN"))
    telegram_token: SecretStr | None = Field(default=None, validation_alias=_env("TELEGRAM_TOKEN"))
    telegram_api_base: str | None = Field(default=None, validation_alias=_env("TELEGRAM_API_BASE"))
    # Whether TELEGRAM_API_BASE is a local Bot API server (no 20 MB download limit) rather
    # than a proxy of the public API. Unset: yes whenever TELEGRAM_API_BASE is set.
    telegram_local_server: bool | None = Field(
        default=None, validation_alias=_env("TELEGRAM_LOCAL_SERVER")
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    discord_api_base: str | None = Field(default=None, validation_alias=_env("DISCORD_API_BASE"))
    discord_gateway_url: str | None = Field(
        default=None, validation_alias=_env("DISCORD_GATEWAY_URL")
    )

    # Services. Unset: embedded Redis and SQLite in the data directory.
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL"))
    database_url: str | None = Field(default=None, validation_alias=_env("DATABASE_URL"))
    data_dir: Path = Field(
        default_factory=_default_data_dir, validation_alias=_env("FAKEWATCH_DATA_DIR")
    )

    # Inference.
    weights: str = Field(default="default", validation_alias=_env("FAKEWATCH_WEIGHTS"))
    device: DeviceName = Field(default="auto", validation_alias=_env("FAKEWATCH_DEVICE"))
    frames: int = Field(default=16, ge=1, le=256, validation_alias=_env("FAKEWATCH_FRAMES"))
    # Faces are searched for on copies scaled down to this longer side, a photo's and
    # each sampled video frame's (MTCNN's 20 px minimum face is in the copy);
    # docs/performance.md measures the trade-off.
    detect_max_side: int = Field(
        default=640, ge=64, le=8192, validation_alias=_env("FAKEWATCH_DETECT_MAX_SIDE")
    )
    video_detect_max_side: int = Field(
        default=480, ge=64, le=8192, validation_alias=_env("FAKEWATCH_VIDEO_DETECT_MAX_SIDE")
    )
    max_media_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, validation_alias=_env("FAKEWATCH_MAX_MEDIA_BYTES")
    )
    max_pixels: int = Field(default=50_000_000, ge=1, validation_alias=_env("FAKEWATCH_MAX_PIXELS"))
    max_duration_s: float = Field(
        default=600.0, gt=0, validation_alias=_env("FAKEWATCH_MAX_DURATION_S")
    )

    # Queue and worker. The queue name also namespaces the job ids, so two deployments
    # (or two test runs) can share one Redis database.
    queue_name: str = Field(
        default="fakewatch:queue", min_length=1, validation_alias=_env("FAKEWATCH_QUEUE")
    )
    job_timeout_s: float = Field(
        default=300.0, gt=0, validation_alias=_env("FAKEWATCH_JOB_TIMEOUT_S")
    )
    job_tries: int = Field(default=3, ge=1, le=20, validation_alias=_env("FAKEWATCH_JOB_TRIES"))
    worker_jobs: int = Field(default=1, ge=1, le=64, validation_alias=_env("FAKEWATCH_WORKER_JOBS"))

    # Abuse limits (0: none). Each user and each chat may ask for this many checks a
    # minute (automatic and /check together; a minute's worth at once), shared by every
    # bot process through Redis. Past the queue depth new checks are refused politely
    # until the workers catch up.
    user_checks_per_minute: float = Field(
        default=20, ge=0, validation_alias=_env("FAKEWATCH_USER_CHECKS_PER_MINUTE")
    )
    chat_checks_per_minute: float = Field(
        default=120, ge=0, validation_alias=_env("FAKEWATCH_CHAT_CHECKS_PER_MINUTE")
    )
    max_queue_depth: int = Field(
        default=1000, ge=0, validation_alias=_env("FAKEWATCH_MAX_QUEUE_DEPTH")
    )

    # Dashboard and metrics. Without a secret the dashboard keeps a random one in the
    # data directory; set it when several dashboard replicas serve one site.
    dashboard_host: str = Field(
        default="127.0.0.1", validation_alias=_env("FAKEWATCH_DASHBOARD_HOST")
    )
    dashboard_port: int = Field(
        default=8080, ge=1, le=65535, validation_alias=_env("FAKEWATCH_DASHBOARD_PORT")
    )
    dashboard_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("FAKEWATCH_DASHBOARD_SECRET")
    )
    # Sign-in limits, per client address and per account name (see dashboard/throttle.py).
    # After SIGNIN_FREE_FAILURES failures each further attempt waits twice as long as the
    # last (1 s, 2 s, 4 s... at most SIGNIN_MAX_BACKOFF_S); an address that reaches
    # SIGNIN_LOCK_AFTER is refused for SIGNIN_LOCK_S. An account name is only ever slowed,
    # never locked, so nobody can lock the real moderator out from somewhere else; failures
    # are forgotten after SIGNIN_LOCK_S without any.
    signin_free_failures: int = Field(
        default=5, ge=1, le=1000, validation_alias=_env("FAKEWATCH_SIGNIN_FREE_FAILURES")
    )
    signin_max_backoff_s: float = Field(
        default=60.0, ge=1, le=900, validation_alias=_env("FAKEWATCH_SIGNIN_MAX_BACKOFF_S")
    )
    signin_lock_after: int = Field(
        default=10, ge=1, le=1000, validation_alias=_env("FAKEWATCH_SIGNIN_LOCK_AFTER")
    )
    signin_lock_s: float = Field(
        default=900.0, ge=1, le=3600, validation_alias=_env("FAKEWATCH_SIGNIN_LOCK_S")
    )
    # The worker's Prometheus exporter port (unset: no exporter).
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=_env("FAKEWATCH_METRICS_PORT")
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("telegram_api_base", "discord_api_base", "discord_gateway_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip().rstrip("/")

    def sqlite_path(self) -> Path:
        """Where the embedded database lives when ``DATABASE_URL`` is unset."""
        return self.data_dir / "fakewatch.sqlite3"

    def require(self, name: str) -> str:
        """Return a secret setting's value, or raise a clear error naming the variable."""
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(f"{name.upper()} is not set (environment or .env)")
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value)


def load_settings(**overrides: object) -> Settings:
    """Build the process's settings from the environment, ``.env`` and ``overrides``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as e:
        raise ConfigurationError(f"invalid settings: {e}") from e
