"""Who may change the cohort list: optional sign-in that fails closed when it is set up wrongly.

Three states, decided from `.streamlit/secrets.toml` (Streamlit's `secrets.files`):

* **open** — no secrets file, or one without an `[auth]` section: the app runs open (meant for a
  workstation on localhost); anyone who can reach it can import and remove cohorts.
* **sign-in** — a complete `[auth]` section: importing and removing need a signed-in user
  (`st.login` / `st.user.is_logged_in`); viewing stays open.
* **misconfigured** — an `[auth]` section that is incomplete or has unknown (misspelt) keys, or a
  secrets file that does not parse: importing and removing are disabled, and the page tells the
  administrator exactly what is wrong (which key, which line) — never a value from the file.

A minimal secrets.toml:

    [auth]
    redirect_uri = "https://dash.example.org/oauth2callback"
    cookie_secret = "a long random string"
    client_id = "…"
    client_secret = "…"
    server_metadata_url = "https://login.example.org/.well-known/openid-configuration"

(or named providers as `[auth.<name>]` sub-sections, each with client_id, client_secret and
server_metadata_url; the first one is used). Sign-in needs the Authlib and httpx packages (pinned
in requirements.txt).
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import streamlit as st

from core.text import markdown_text

log = logging.getLogger(__name__)

# What st.login reads from [auth] itself (the general keys and the default provider's) …
GENERAL_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_REQUIRED = ("client_id", "client_secret", "server_metadata_url")
DEFAULT_PROVIDER_KEYS = (*PROVIDER_REQUIRED, "client_kwargs", "expose_tokens")
# … and from an [auth.<name>] section (Authlib's client parameters, plus Streamlit's expose_tokens).
NAMED_PROVIDER_KEYS = (*DEFAULT_PROVIDER_KEYS, "authorize_url", "authorize_params", "access_token_url",
                       "access_token_params", "refresh_token_url", "refresh_token_params", "request_token_url",
                       "request_token_params", "api_base_url")
_TABLE_KEYS = ("client_kwargs",)
CALLBACK_PATH = "/oauth2callback"

Mode = Literal["open", "sign-in", "misconfigured"]


@dataclass(frozen=True)
class SignInSetup:
    """How the secrets set up sign-in: the mode, the provider st.login is given, what is wrong."""

    mode: Mode
    provider: str | None = None        # None = the default provider ([auth] holds client_id itself)
    problems: tuple[str, ...] = ()     # key names and line numbers only, never values


# ---------------------------------------------------------------------------------- the checks
def check_auth_section(section: object) -> SignInSetup:
    """The [auth] section (a parsed TOML value) → sign-in, or misconfigured with every problem named."""
    if not isinstance(section, Mapping):
        return SignInSetup("misconfigured", problems=("auth is not a section: write it as [auth]",))
    problems: list[str] = []
    tables = {str(k): v for k, v in section.items() if isinstance(v, Mapping) and k not in _TABLE_KEYS}
    plain = {str(k): v for k, v in section.items() if str(k) not in tables}

    has_default = any(key in plain for key in PROVIDER_REQUIRED)   # [auth] is itself the provider
    wanted = GENERAL_KEYS + (PROVIDER_REQUIRED if has_default else ())
    problems += [f"[auth] is missing {key}" for key in wanted if key not in plain]
    problems += _unknown_keys("[auth]", plain, (*GENERAL_KEYS, *DEFAULT_PROVIDER_KEYS))
    problems += _value_problems("[auth]", plain)
    redirect = plain.get("redirect_uri")
    if isinstance(redirect, str) and redirect.strip() and not redirect.strip().endswith(CALLBACK_PATH):
        problems.append(f"[auth] redirect_uri must end with {CALLBACK_PATH}")

    provider: str | None = None
    for name, table in tables.items():
        where = f"[auth.{name}]"
        if "_" in name:
            problems.append(f"{where}: a provider name cannot contain an underscore (st.login refuses it)")
        problems += [f"{where} is missing {key}" for key in PROVIDER_REQUIRED if key not in table]
        problems += _unknown_keys(where, table, NAMED_PROVIDER_KEYS)
        problems += _value_problems(where, table)
    if not has_default:
        if tables:
            provider = next(iter(tables))
        else:
            problems.append("[auth] names no sign-in provider: add client_id, client_secret and "
                            "server_metadata_url to it, or an [auth.<name>] section with them")
    if problems:
        return SignInSetup("misconfigured", problems=tuple(problems))
    return SignInSetup("sign-in", provider=provider)


def check_secrets_files(paths: Iterable[str | Path]) -> tuple[str, ...]:
    """Secrets files that exist but do not parse as TOML: the file, the line and the kind of error."""
    problems = []
    for path in map(Path, paths):
        if path.suffix != ".toml" or not path.is_file():
            continue
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{_short(path)} is not UTF-8 text")
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{_short(path)} does not parse: {_toml_error(exc)}")
        except OSError as exc:
            problems.append(f"{_short(path)} cannot be read ({type(exc).__name__})")
    return tuple(problems)


def _unknown_keys(where: str, table: Mapping[str, object], known: tuple[str, ...]) -> list[str]:
    out = []
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(f"{where} has an unknown key {_shown_key(key)}{hint}")
    return out


def _value_problems(where: str, table: Mapping[str, object]) -> list[str]:
    out = []
    for key in (*GENERAL_KEYS, *PROVIDER_REQUIRED):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, str):
            out.append(f"{where} {key} must be text in quotes")
        elif not value.strip():
            out.append(f"{where} {key} is empty")
    return out


def _shown_key(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:40] + "…"


def _short(path: Path) -> str:
    """The file as an administrator recognises it, without the server's directory layout."""
    return "/".join(path.parts[-2:])


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """"invalid value at line 3, column 17" — the message without anything quoted from the file."""
    text = str(exc)
    where = re.search(r"\(at line (\d+), column (\d+)\)", text)
    what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", text)
    what = re.sub(r"'[^']*'|\"[^\"]*\"", "a character", what).strip().rstrip(".") or "invalid TOML"
    what = what[:1].lower() + what[1:]
    if where:
        return f"{what} at line {where.group(1)}, column {where.group(2)}"
    return f"{what} at the end of the file" if "end of document" in text else what


# ---------------------------------------------------------------------------------- the app's view
def _secrets_paths() -> list[str]:
    try:
        return list(st.get_option("secrets.files") or [])
    except Exception:  # noqa: BLE001 - an unknown option in an older streamlit: nothing to check
        return []


def sign_in_setup() -> SignInSetup:
    """The sign-in state from the secrets: open, sign-in, or misconfigured (fail closed)."""
    unreadable = check_secrets_files(_secrets_paths())
    if unreadable:
        return SignInSetup("misconfigured", problems=unreadable)
    try:
        if not st.secrets.load_if_toml_exists():
            return SignInSetup("open")
        if "auth" not in st.secrets:
            return SignInSetup("open")
        section = st.secrets["auth"]
    except Exception as exc:  # noqa: BLE001 - secrets that exist but cannot be read: closed, not open
        return SignInSetup("misconfigured", problems=(f"the secrets cannot be read ({type(exc).__name__})",))
    return check_auth_section(section)


def login_provider() -> str | None:
    """None for the default provider ([auth] has client_id itself), else the first [auth.<name>]."""
    return sign_in_setup().provider


def auth_configured() -> bool:
    """True when secrets.toml has an [auth] section complete enough for st.login."""
    return sign_in_setup().mode == "sign-in"


def require_login_for_changes() -> bool:
    """True when this session may import or remove cohorts; otherwise says why and returns False.

    Open without [auth]; a sign-in button with a complete [auth]; with a broken one, changes are
    disabled and the problems are listed for the administrator.
    """
    setup = sign_in_setup()
    if setup.mode == "open":
        return True
    if setup.mode == "misconfigured":
        log.warning("sign-in is misconfigured; importing and removing cohorts is disabled: %s",
                    "; ".join(setup.problems))
        st.error("**Importing and removing cohorts is disabled:** sign-in is set up in the secrets file "
                 "but cannot work. For the administrator — "
                 + "; ".join(markdown_text(p) for p in setup.problems)
                 + ". Fix `.streamlit/secrets.toml` (see Streamlit's `st.login` documentation) and restart "
                 "the app; without an \\[auth\\] section the app runs open.", icon="🔒")
        return False
    if st.user.get("is_logged_in", False):   # = st.user.is_logged_in, without raising where unset
        who = st.user.get("email") or st.user.get("name") or "signed-in user"
        col1, col2 = st.columns([4, 1])
        col1.caption("Signed in as")
        col1.text(str(who))
        col2.button("Log out", key="auth_logout", on_click=st.logout)
        return True
    st.info("Sign in to import or remove cohorts. Viewing cohorts does not need an account.", icon="🔒")
    st.button("Log in", key="auth_login", on_click=st.login, args=(setup.provider,) if setup.provider else None)
    return False
