"""Who may change the cohort list: optional sign-in, off unless an OIDC provider is configured.

With no `[auth]` section in `.streamlit/secrets.toml` the app runs open (meant for localhost): anyone
who can reach it can import and remove cohorts. With one, importing and removing need a signed-in
user (`st.login` / `st.user.is_logged_in`); viewing stays open. A minimal secrets.toml:

    [auth]
    redirect_uri = "https://dash.example.org/oauth2callback"
    cookie_secret = "a long random string"
    client_id = "…"
    client_secret = "…"
    server_metadata_url = "https://login.example.org/.well-known/openid-configuration"

(or named providers as `[auth.<name>]` sub-sections; the first one is used). Sign-in needs the
Authlib and httpx2 packages (pinned in requirements.txt).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st


def _auth_section() -> Mapping[str, object] | None:
    """The [auth] section of the secrets, or None — never raises when there is no secrets file."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no file, unreadable TOML, …: treat as not configured
        return None
    return section if isinstance(section, Mapping) else None


def login_provider() -> str | None:
    """None for the default provider ([auth] has client_id itself), else the first [auth.<name>]."""
    section = _auth_section() or {}
    if "client_id" in section:
        return None
    for name, value in section.items():
        if isinstance(value, Mapping) and "client_id" in value:
            return str(name)
    return None


def auth_configured() -> bool:
    """True when secrets.toml has an [auth] section complete enough for st.login."""
    section = _auth_section()
    if not section or "redirect_uri" not in section or "cookie_secret" not in section:
        return False
    return "client_id" in section or any(isinstance(v, Mapping) and "client_id" in v for v in section.values())


def require_login_for_changes() -> bool:
    """True when this session may import or remove cohorts; otherwise shows a sign-in button and returns False."""
    if not auth_configured():
        return True
    if st.user.get("is_logged_in", False):   # = st.user.is_logged_in, without raising where unset
        who = st.user.get("email") or st.user.get("name") or "signed-in user"
        col1, col2 = st.columns([4, 1])
        col1.caption("Signed in as")
        col1.text(str(who))
        col2.button("Log out", key="auth_logout", on_click=st.logout)
        return True
    st.info("Sign in to import or remove cohorts. Viewing cohorts does not need an account.", icon="🔒")
    provider = login_provider()
    st.button("Log in", key="auth_login", on_click=st.login, args=(provider,) if provider else None)
    return False
