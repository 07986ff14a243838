"""Per-site Search Console settings (the `gsc:` section of a site in the YAML config).

Only names of environment variables live here, never secrets: the service-account JSON (or its
base64) stays in the environment, so a config file can be committed and shown in the Dagster UI.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DIMENSIONS: dict[str, str] = {
    name.lower(): name
    for name in ("date", "query", "page", "country", "device", "searchAppearance")
}
"""Request dimension names, keyed case-insensitively (discovery lists them upper-case, the wire
and the docs use these spellings)."""

DEFAULT_DIMENSIONS = ("date", "page", "query", "device", "country")
SEARCH_TYPES = ("web", "image", "video", "news", "discover", "googleNews")
ENDPOINT_ENV = "GSC_API_ENDPOINT"
"""Points the real client at a local fake server (loopback only, anonymous credentials)."""

SearchType = Literal["web", "image", "video", "news", "discover", "googleNews"]


class GscSettings(BaseModel):
    """How to reach one site's Search Console property and how much of its quota to use.

    `property_url` is the property exactly as Search Console spells it: `sc-domain:example.com`
    for a domain property or `https://www.example.com/` (with the trailing slash) for a URL-prefix
    property. Credentials are looked up in this order: base64 service-account JSON in
    `credentials_b64_env`, then a file path in `credentials_file_env` (service account or OAuth
    user credentials), then `credentials_file` (a path is not a secret, so it may sit here).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    property_url: str = Field(min_length=1)
    credentials_b64_env: str = "GSC_CREDENTIALS_B64"
    credentials_file_env: str = "GSC_CREDENTIALS_FILE"
    credentials_file: str | None = None
    dimensions: tuple[str, ...] = DEFAULT_DIMENSIONS
    search_type: SearchType = "web"
    # Days (counted back from today, Pacific time) for which a day without final data is pulled
    # again with dataState=all and landed as provisional. Matches the daily schedule's re-pull.
    fresh_days: int = Field(default=4, ge=0, le=30)
    row_limit: int = Field(default=25_000, ge=1, le=25_000)
    # Per-property request budgets (Search Console allows 1,200 queries/min per site for search
    # analytics and 600 inspections/min; we default to half so other tools keep some room).
    requests_per_minute: int = Field(default=600, ge=1, le=1_200)
    inspections_per_minute: int = Field(default=300, ge=1, le=600)
    inspection_daily_budget: int = Field(default=2_000, ge=0, le=2_000)
    language_code: str = "en-US"
    retries: int = Field(default=5, ge=0, le=20)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=64.0, ge=0)
    timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("property_url")
    @classmethod
    def _property_spelling(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("sc-domain:"):
            if not value[len("sc-domain:") :] or "/" in value:
                raise ValueError(f"domain property must look like sc-domain:example.com: {value!r}")
            return value
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"property_url must be sc-domain:HOST or an http(s) URL prefix: {value!r}"
            )
        if not value.endswith("/"):
            raise ValueError(
                f"a URL-prefix property ends with '/' exactly as in Search Console: {value!r}"
            )
        return value

    @field_validator("dimensions", mode="before")
    @classmethod
    def _dimension_names(cls, values: object) -> tuple[str, ...]:
        if isinstance(values, str):
            values = (values,)
        out: list[str] = []
        for raw in values:  # type: ignore[union-attr]
            name = DIMENSIONS.get(str(raw).strip().lower())
            if name is None:
                known = ", ".join(DIMENSIONS.values())
                raise ValueError(f"unknown dimension {raw!r} (known: {known})")
            if name not in out:
                out.append(name)
        # Landing is one file per day: the date key is what puts a row in its partition, and
        # `dataState=all` only reports `first_incomplete_date` when grouping by date.
        if "date" not in out:
            out.insert(0, "date")
        return tuple(out)

    @property
    def aggregation_type(self) -> str:
        """byPage whenever rows are grouped by page (byProperty would merge URLs of one SERP)."""
        return "byPage" if "page" in self.dimensions else "auto"

    def secret_env_names(self) -> tuple[str, ...]:
        """Environment variables this site's auth may read (their values are never logged)."""
        return (self.credentials_b64_env, self.credentials_file_env, ENDPOINT_ENV)


def site_gsc_settings(site: object) -> GscSettings:
    """The `gsc:` section of a site config, or a clear error naming the site when it is absent."""
    settings = getattr(site, "gsc", None)
    if settings is None:
        from ingest.gsc.errors import GscConfigError

        site_id = getattr(site, "id", "?")
        raise GscConfigError(
            f"site {site_id!r} has no gsc section in the config; add `gsc: {{property_url: "
            "'sc-domain:example.com'}` (or the URL-prefix property) to the site"
        )
    if isinstance(settings, dict):
        return GscSettings.model_validate(settings)
    return settings
