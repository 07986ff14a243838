"""GSC settings validation and credential loading: secrets in, never out."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from pydantic import ValidationError

from ingest.gsc.auth import SCOPES, check_loopback_endpoint, load_auth
from ingest.gsc.errors import GscConfigError
from ingest.gsc.settings import GscSettings, site_gsc_settings

SA_EMAIL = "linkwarehouse@demo-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def service_account_info() -> dict[str, str]:
    """A syntactically real service-account key (fresh RSA key, never valid at Google)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def _settings(**kw: object) -> GscSettings:
    return GscSettings(property_url="sc-domain:example.com", **kw)  # type: ignore[arg-type]


def test_dimensions_are_matched_case_insensitively_and_date_is_always_requested() -> None:
    settings = _settings(dimensions=["PAGE", "Query", "searchappearance", "page"])
    assert settings.dimensions == ("date", "page", "query", "searchAppearance")
    assert settings.aggregation_type == "byPage"
    assert _settings(dimensions=["query"]).aggregation_type == "auto"


def test_the_default_pull_is_date_page_query_device_country_on_web() -> None:
    settings = _settings()
    assert settings.dimensions == ("date", "page", "query", "device", "country")
    assert settings.search_type == "web"
    assert settings.inspection_daily_budget == 2_000


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("example.com", "sc-domain:HOST"),
        ("https://www.example.com", "ends with '/'"),
        ("sc-domain:", "sc-domain:example.com"),
    ],
)
def test_a_misspelled_property_is_refused_with_the_expected_spelling(
    value: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        GscSettings(property_url=value)


def test_an_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown dimension 'hours'"):
        _settings(dimensions=["hours"])


def test_a_site_without_a_gsc_section_gets_a_message_naming_it() -> None:
    from ingest.config import SiteConfig

    site = SiteConfig(id="shop", start_urls=("https://www.example.com/",))
    with pytest.raises(GscConfigError, match="site 'shop' has no gsc section"):
        site_gsc_settings(site)


def test_a_service_account_from_a_base64_env_var_has_the_read_only_scope(
    service_account_info: dict[str, str],
) -> None:
    encoded = base64.b64encode(json.dumps(service_account_info).encode()).decode()
    auth = load_auth(_settings(), {"GSC_CREDENTIALS_B64": encoded})
    assert auth.service_account_email == SA_EMAIL
    assert auth.principal == f"service account {SA_EMAIL}"
    assert tuple(auth.credentials.scopes) == SCOPES
    assert auth.api_endpoint is None
    assert "PRIVATE KEY" not in repr(auth)


def test_a_service_account_file_named_by_an_env_var_is_loaded(
    service_account_info: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_account_info))
    auth = load_auth(_settings(credentials_file_env="MY_KEY"), {"MY_KEY": str(path)})
    assert auth.service_account_email == SA_EMAIL


def test_oauth_user_credentials_from_a_file_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "user.json"
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "not-a-real-secret",
                "refresh_token": "1//not-a-real-token",
                "account": "seo@example.com",
            }
        )
    )
    auth = load_auth(_settings(credentials_file=str(path)), {})
    assert "seo@example.com" in auth.principal
    assert auth.service_account_email is None
    assert "not-a-real" not in auth.principal


def test_missing_credentials_name_the_env_vars_to_set() -> None:
    with pytest.raises(GscConfigError) as err:
        load_auth(_settings(), {})
    assert "GSC_CREDENTIALS_FILE" in str(err.value)
    assert "GSC_CREDENTIALS_B64" in str(err.value)
    assert "sc-domain:example.com" in str(err.value)


def test_broken_base64_credentials_are_reported_without_their_content() -> None:
    secret = "c2VjcmV0LXRva2VuLXZhbHVl!!!"
    with pytest.raises(GscConfigError, match=r"\$GSC_CREDENTIALS_B64 is not base64") as err:
        load_auth(_settings(), {"GSC_CREDENTIALS_B64": secret})
    assert secret not in str(err.value)


def test_a_key_with_a_broken_private_key_is_reported_without_the_key(
    service_account_info: dict[str, str],
) -> None:
    broken = {**service_account_info, "private_key": "-----BEGIN PRIVATE KEY-----\nxx\n"}
    encoded = base64.b64encode(json.dumps(broken).encode()).decode()
    with pytest.raises(GscConfigError) as err:
        load_auth(_settings(), {"GSC_CREDENTIALS_B64": encoded})
    assert "PRIVATE KEY" not in str(err.value)


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:8766", "http://localhost:1/", "http://[::1]:8766", "https://127.0.0.2"],
)
def test_a_loopback_endpoint_override_is_allowed(endpoint: str) -> None:
    assert check_loopback_endpoint(endpoint) == endpoint.rstrip("/")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.1:8766",
        "https://searchconsole.googleapis.com",
        "http://evil.example/",
        "ftp://127.0.0.1",
    ],
)
def test_a_non_loopback_endpoint_override_is_refused(endpoint: str) -> None:
    with pytest.raises(GscConfigError):
        load_auth(_settings(), {"GSC_API_ENDPOINT": endpoint})


def test_the_endpoint_override_sends_anonymous_requests_but_names_the_service_account(
    service_account_info: dict[str, str],
) -> None:
    encoded = base64.b64encode(json.dumps(service_account_info).encode()).decode()
    env = {"GSC_API_ENDPOINT": "http://127.0.0.1:9/", "GSC_CREDENTIALS_B64": encoded}
    auth = load_auth(_settings(), env)
    assert isinstance(auth.credentials, AnonymousCredentials)
    assert auth.api_endpoint == "http://127.0.0.1:9"
    assert auth.service_account_email == SA_EMAIL


def test_the_endpoint_override_works_without_any_credentials() -> None:
    auth = load_auth(_settings(), {"GSC_API_ENDPOINT": "http://127.0.0.1:9"})
    assert isinstance(auth.credentials, AnonymousCredentials)
    assert auth.principal == "anonymous credentials"
