"""Credentials for Search Console: service account (file or base64 env var) or OAuth user file.

Why a module of its own: secrets pass through here and nowhere else. Error messages name the
environment variable or the file, never its content, and `GscAuth` keeps the credentials out of
its repr. `GSC_API_ENDPOINT` swaps in anonymous credentials and a local endpoint for tests and the
demo; it is refused unless it points at a loopback address, so a typo can never send requests (or
a token) to a stranger.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.auth.credentials import AnonymousCredentials, Credentials

from ingest.gsc.errors import GscConfigError
from ingest.gsc.settings import ENDPOINT_ENV, GscSettings

SCOPES = ("https://www.googleapis.com/auth/webmasters.readonly",)
"""Read-only scope: enough for searchanalytics.query and urlInspection.index.inspect."""


@dataclass(frozen=True)
class GscAuth:
    """What the client needs to call the API, and who it is (for error messages)."""

    credentials: Credentials = field(repr=False)
    principal: str
    """Human description of the account: `service account x@p.iam.gserviceaccount.com`."""
    service_account_email: str | None = None
    api_endpoint: str | None = None


def load_auth(settings: GscSettings, env: Mapping[str, str] | None = None) -> GscAuth:
    """Resolve credentials for `settings` from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    endpoint = (env.get(ENDPOINT_ENV) or "").strip()
    if endpoint:
        return _local_endpoint_auth(settings, env, endpoint)
    info, origin = _credential_info(settings, env)
    if info is None:
        raise GscConfigError(
            f"no Search Console credentials for property {settings.property_url}: set "
            f"{settings.credentials_file_env} to a service-account (or OAuth user) JSON file, or "
            f"{settings.credentials_b64_env} to the base64 of a service-account JSON"
        )
    return _auth_from_info(info, origin)


def check_loopback_endpoint(endpoint: str) -> str:
    """Return `endpoint` without a trailing slash if it is an http(s) URL on a loopback address."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise GscConfigError(f"{ENDPOINT_ENV} must be an http(s) URL, got {endpoint!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise GscConfigError(
                f"{ENDPOINT_ENV}={endpoint} is refused: it only may point at a loopback address "
                "(127.0.0.1, ::1, localhost), because it sends requests without real credentials"
            )
    return endpoint.rstrip("/")


def _local_endpoint_auth(settings: GscSettings, env: Mapping[str, str], endpoint: str) -> GscAuth:
    endpoint = check_loopback_endpoint(endpoint)
    # The real account is still named in messages (a 403 from the fake server reads like the
    # real one), but its key is never used: nothing but anonymous requests go to the endpoint.
    try:
        info, _origin = _credential_info(settings, env)
    except GscConfigError:
        info = None
    email = info.get("client_email") if info else None
    principal = f"service account {email}" if email else "anonymous credentials"
    return GscAuth(AnonymousCredentials(), principal, email, endpoint)


def _credential_info(
    settings: GscSettings, env: Mapping[str, str]
) -> tuple[dict[str, Any] | None, str]:
    encoded = (env.get(settings.credentials_b64_env) or "").strip()
    if encoded:
        origin = f"${settings.credentials_b64_env}"
        try:
            raw = base64.b64decode(encoded, validate=False)
            info = json.loads(raw.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise GscConfigError(
                f"{origin} is not base64 of a JSON document (encode the service-account key file "
                "with `base64 -w0 key.json`)"
            ) from None
        return _as_mapping(info, origin), origin
    path_text = (env.get(settings.credentials_file_env) or "").strip() or settings.credentials_file
    if not path_text:
        return None, ""
    path = Path(path_text).expanduser()
    origin = str(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GscConfigError(
            f"cannot read Search Console credentials file {path}: {exc.strerror or exc}"
        ) from None
    except ValueError:
        raise GscConfigError(f"Search Console credentials file {path} is not JSON") from None
    return _as_mapping(info, origin), origin


def _as_mapping(info: object, origin: str) -> dict[str, Any]:
    if not isinstance(info, dict):
        raise GscConfigError(f"Search Console credentials in {origin} are not a JSON object")
    return info


def _auth_from_info(info: dict[str, Any], origin: str) -> GscAuth:
    kind = info.get("type")
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            email = creds.service_account_email
            return GscAuth(creds, f"service account {email}", email)
        if kind == "authorized_user":
            from google.oauth2.credentials import Credentials as UserCredentials

            creds = UserCredentials.from_authorized_user_info(info, scopes=list(SCOPES))
            account = info.get("account") or "an OAuth user"
            return GscAuth(creds, f"OAuth user credentials of {account} ({origin})")
    except (ValueError, KeyError):
        # The library's message may quote fields of the key; name the place, not the content.
        raise GscConfigError(
            f"Search Console credentials in {origin} are incomplete or malformed "
            f"(type {kind!r}); download a fresh key"
        ) from None
    raise GscConfigError(
        f"Search Console credentials in {origin} have type {kind!r}; expected 'service_account' "
        "or 'authorized_user'"
    )
