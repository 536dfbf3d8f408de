"""The dashboard against hostile or broken input: sign-in that fails closed, links that say what
they changed, and text from files and URLs that never becomes markup or a link.

Pages are driven through AppTest from app.py (as in tests/test_app.py); the sign-in checker is also
tested as a pure function, one broken configuration at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest

from tests.test_app import ROOT, TIMEOUT
from ui.access import check_auth_section, check_secrets_files

GOOD_AUTH = {
    "redirect_uri": "https://dash.example.org/oauth2callback",
    "cookie_secret": "s3cr3t-cookie-value-never-shown",
    "client_id": "client-id-value",
    "client_secret": "client-secret-value-never-shown",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}
SECRET_VALUES = ("s3cr3t-cookie-value-never-shown", "client-secret-value-never-shown", "client-id-value")
PROVIDER = {k: GOOD_AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
GENERAL = {k: GOOD_AUTH[k] for k in ("redirect_uri", "cookie_secret")}


def _without(mapping: dict[str, object], *keys: str, **extra: object) -> dict[str, object]:
    return {**{k: v for k, v in mapping.items() if k not in keys}, **extra}


# ------------------------------------------------------------------------------------- sign-in: the checker
def test_a_complete_auth_section_asks_for_sign_in() -> None:
    assert check_auth_section(GOOD_AUTH).mode == "sign-in"
    assert check_auth_section(GOOD_AUTH).provider is None
    named = check_auth_section({**GENERAL, "google": PROVIDER, "okta": PROVIDER})
    assert (named.mode, named.provider, named.problems) == ("sign-in", "google", ())
    with_kwargs = check_auth_section({**GOOD_AUTH, "client_kwargs": {"prompt": "login"}, "expose_tokens": "id"})
    assert with_kwargs.mode == "sign-in"


@pytest.mark.parametrize(("section", "expected"), [
    (_without(GOOD_AUTH, "cookie_secret", cookie_secrets="x" * 32),
     ["[auth] is missing cookie_secret", "[auth] has an unknown key cookie_secrets (did you mean cookie_secret?)"]),
    (_without(GOOD_AUTH, "redirect_uri"), ["[auth] is missing redirect_uri"]),
    (_without(GOOD_AUTH, "client_id", clientid="abc"),
     ["[auth] is missing client_id", "[auth] has an unknown key clientid (did you mean client_id?)"]),
    (_without(GOOD_AUTH, "client_secret"), ["[auth] is missing client_secret"]),
    ({**GENERAL, "google": _without(PROVIDER, "client_id", clientid="abc")},
     ["[auth.google] is missing client_id", "[auth.google] has an unknown key clientid (did you mean client_id?)"]),
    ({**GENERAL, "google": _without(PROVIDER, "server_metadata_url")},
     ["[auth.google] is missing server_metadata_url"]),
    ({**_without(GENERAL, "redirect_uri"), "google": PROVIDER}, ["[auth] is missing redirect_uri"]),
    (GENERAL, ["[auth] names no sign-in provider: add client_id, client_secret and server_metadata_url to it, "
               "or an [auth.<name>] section with them"]),
    ({}, ["[auth] is missing redirect_uri", "[auth] is missing cookie_secret",
          "[auth] names no sign-in provider: add client_id, client_secret and server_metadata_url to it, "
          "or an [auth.<name>] section with them"]),
    (_without(GOOD_AUTH, redirect_uri="https://dash.example.org/"),
     ["[auth] redirect_uri must end with /oauth2callback"]),
    (_without(GOOD_AUTH, cookie_secret=""), ["[auth] cookie_secret is empty"]),
    (_without(GOOD_AUTH, client_secret=12345), ["[auth] client_secret must be text in quotes"]),
    ({**GENERAL, "my_idp": PROVIDER},
     ["[auth.my_idp]: a provider name cannot contain an underscore (st.login refuses it)"]),
    ("yes", ["auth is not a section: write it as [auth]"]),
])
def test_an_incomplete_auth_section_is_misconfigured_and_says_why(section: object, expected: list[str]) -> None:
    setup = check_auth_section(section)
    assert setup.mode == "misconfigured"
    assert list(setup.problems) == expected
    assert not [p for p in setup.problems for secret in SECRET_VALUES if secret in p]


def test_a_secrets_file_that_does_not_parse_is_named_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / ".streamlit" / "secrets.toml"
    broken.parent.mkdir()
    broken.write_text('[auth]\nredirect_uri = "https://dash.example.org/oauth2callback"\n'
                      'cookie_secret = s3cr3t-cookie-value-never-shown\n')
    problems = check_secrets_files([broken, tmp_path / "absent.toml"])
    assert problems == (".streamlit/secrets.toml does not parse: invalid value at line 3, column 17",)
    unterminated = tmp_path / "second.toml"
    unterminated.write_text('[auth]\ncookie_secret = "s3cr3t-cookie-value-never-shown\n')
    (problem,) = check_secrets_files([unterminated])
    assert problem.startswith(f"{tmp_path.name}/second.toml does not parse: ") and "line 2" in problem
    assert "s3cr3t" not in problem
    good = tmp_path / "good.toml"
    good.write_text('[auth]\ncookie_secret = "x"\n')
    assert check_secrets_files([good]) == ()


# ------------------------------------------------------------------------------------- sign-in: the pages
_AUTH_SCRIPT = ("from ui.access import auth_configured, require_login_for_changes\n"
                "import streamlit as st\nst.text(f'{auth_configured()} {require_login_for_changes()}')")


@pytest.mark.parametrize(("section", "named"), [
    (_without(GOOD_AUTH, "cookie_secret", cookie_secrets="x" * 32), "cookie\\_secrets"),
    (_without(GOOD_AUTH, "redirect_uri"), "missing redirect\\_uri"),
    (_without(GOOD_AUTH, "client_id", clientid="abc"), "unknown key clientid"),
    ({**GENERAL, "google": _without(PROVIDER, "client_id", clientid="abc")}, "\\[auth.google\\] is missing client\\_id"),
])
def test_broken_auth_disables_changes_with_a_message(section: dict[str, object], named: str) -> None:
    at = AppTest.from_string(_AUTH_SCRIPT)
    at.secrets["auth"] = section
    at.run()
    assert not at.exception
    assert at.text[0].value == "False False"          # not configured, and changes NOT allowed
    (error,) = [e.value for e in at.error]
    assert error.startswith("**Importing and removing cohorts is disabled:**") and named in error
    assert not [s for s in SECRET_VALUES if s in error]
    assert [b.label for b in at.button] == []          # no login button for a setup that cannot work


@pytest.fixture()
def secrets_file(tmp_path: Path) -> Iterator[Path]:
    """A secrets.toml in a temp dir as the only secrets file (Streamlit's secrets.files option)."""
    path = tmp_path / ".streamlit" / "secrets.toml"
    path.parent.mkdir()
    saved = st_config.get_option("secrets.files")
    st_config.set_option("secrets.files", [str(path)])
    secrets_singleton._reset()
    yield path
    st_config.set_option("secrets.files", saved)
    secrets_singleton._reset()


@pytest.fixture()
def no_cohorts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INO_COHORTS_DIR", str(tmp_path / "cohorts"))
    monkeypatch.setenv("INO_COHORT_PATH", str(tmp_path / "no-default.duckdb"))
    return tmp_path / "cohorts"


def _import_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "import_cohort.py"), default_timeout=TIMEOUT).run()


def test_an_unparsable_secrets_file_disables_import_and_removal(secrets_file: Path, no_cohorts: Path) -> None:
    secrets_file.write_text('[auth]\nredirect_uri = "https://dash.example.org/oauth2callback"\n'
                            'cookie_secret = s3cr3t-cookie-value-never-shown\n')
    at = _import_page()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "disabled" in error and "secrets.toml does not parse: invalid value at line 3, column 17" in error
    assert "s3cr3t" not in error
    keys = {b.key for b in at.button}
    assert "import_submit" not in keys and "remove_submit" not in keys and "auth_login" not in keys


def test_a_misspelt_key_in_the_secrets_file_disables_import(secrets_file: Path, no_cohorts: Path) -> None:
    secrets_file.write_text("[auth]\n" + "".join(f'{"cookie_secrets" if k == "cookie_secret" else k} = "{v}"\n'
                                                 for k, v in GOOD_AUTH.items()))
    at = _import_page()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "\\[auth\\] is missing cookie\\_secret" in error and "unknown key cookie\\_secrets" in error
    assert not [s for s in SECRET_VALUES if s in error]
    assert "import_submit" not in {b.key for b in at.button}


def test_a_secrets_file_without_auth_runs_open(secrets_file: Path, no_cohorts: Path) -> None:
    secrets_file.write_text('[database]\npassword = "irrelevant"\n')
    at = _import_page()
    assert not at.exception and not at.error
    assert "import_submit" in {b.key for b in at.button}


def test_a_complete_secrets_file_asks_for_sign_in(secrets_file: Path, no_cohorts: Path) -> None:
    secrets_file.write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in GOOD_AUTH.items()))
    at = _import_page()
    assert not at.exception and not at.error
    keys = {b.key for b in at.button}
    assert "auth_login" in keys and "import_submit" not in keys
