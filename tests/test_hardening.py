"""The dashboard against hostile or broken input: sign-in that fails closed, links that say what
they changed, and text from files and URLs that never becomes markup or a link.

Pages are driven through AppTest from app.py (as in tests/test_app.py); the sign-in checker is also
tested as a pure function, one broken configuration at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest

from core.filters import FilterSpec
from tests.cohort_factory import TinyPatient, tiny_tables, write_tiny_cohort
from tests.conftest import varied_patients
from tests.test_app import ROOT, TIMEOUT, assert_healthy, header, plain, start
from ui.access import check_auth_section, check_secrets_files
from ui.display import DASH, markdown_table
from ui.import_view import TEST_FILES_KEY
from ui.sidebar import Bounds, spec_from_state, state_from_spec, widget_notices
from ui.url_state import parse_query_params

BAD = ROOT / "tests" / "bad_files"

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


# ------------------------------------------------------------------------------------- links: every change said
def _notices(at: AppTest) -> list[str]:
    return [plain(w.value) for w in at.warning]


def _one(notices: list[str], param: str) -> str:
    found = [n for n in notices if f"({param}=" in n]
    assert len(found) == 1, (param, notices)
    return found[0]


def test_a_dose_above_the_cohort_and_an_unknown_sex_are_both_said(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"dose_min": "15", "sex": "X"})
    assert_healthy(at)
    notices = _notices(at)
    dose = _one(notices, "dose_min")
    used = re.search(r"\(dose_min=15\) is above the cohort's cycle-1 dose range \([\d.]+–([\d.]+) mg/m²\); "
                     r"([\d.]+) used\.$", dose)
    assert used and used.group(1) == used.group(2), dose         # clamped to the slider's end, and says so
    assert header(at).startswith(f"cycle-1 dose ≥ {used.group(2)} mg/m² · n = ")
    assert at.query_params.get("dose_min") == used.group(2)
    assert _one(notices, "sex") == ("The link's sex (sex=X) was not used: use F, M. "
                                    "Showing the default instead (both sexes).")


def test_an_age_above_the_cohort_and_a_bad_salvage_line_are_both_said(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"age_min": "100", "salvage": "abc"})
    assert_healthy(at)
    notices = _notices(at)
    age = re.search(r"\(age_min=100\) is above the cohort's age range \(\d+–(\d+) years\); (\d+) used\.$",
                    _one(notices, "age_min"))
    assert age and age.group(1) == age.group(2)
    assert header(at).startswith(f"age ≥ {age.group(2)} y · n = ")
    assert "(salvage=abc) was not used" in _one(notices, "salvage")
    assert _one(notices, "salvage").endswith("Showing the default instead (all salvage lines).")


def test_a_crossed_age_range_says_what_happened_to_both_ends(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"age_min": "80", "age_max": "20"})
    assert_healthy(at)
    notices = _notices(at)
    assert "(age_max=20) was not used: age range: minimum 80.0 is above maximum 20.0" in _one(notices, "age_max")
    assert _one(notices, "age_max").endswith("Showing the default instead (no maximum).")
    age = re.search(r"\(age_min=80\) is above the cohort's age range .*; (\d+) used\.$", _one(notices, "age_min"))
    assert age and header(at).startswith(f"age ≥ {age.group(1)} y · n = ")
    at.switch_page("pages/survival.py").run()                 # the notices stay with the view …
    assert len(_notices(at)) == 2
    at.multiselect(key="f_salvage").set_value([1]).run()     # … until the user changes it
    assert _notices(at) == []


def test_values_the_widgets_round_or_read_as_no_limit_are_said(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"age_min": "30.5", "blast_threshold": "0.5", "dose_min": "1.25"})
    assert_healthy(at)
    notices = _notices(at)
    assert _one(notices, "age_min") == "The link's minimum age (age_min=30.5) is not on the sidebar's scale " \
                                       "(whole years); 30 used."
    assert _one(notices, "blast_threshold") == ("The link's blast threshold (blast_threshold=0.5) is outside the "
                                                "thresholds the sidebar offers (1–99%); 1 used.")
    assert _one(notices, "dose_min").endswith("; no minimum used.")
    assert at.number_input(key="f_blast_threshold").value == 1.0
    assert at.query_params.get("age_min") == "30" and at.query_params.get("blast_threshold") == "1"


def test_a_link_inside_the_cohort_has_no_notice(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"age_min": "30", "age_max": "60", "dose_max": "1.8", "sex": "F"})
    assert_healthy(at)
    assert _notices(at) == []


BOUNDS = Bounds(age=(18.0, 72.0), dose=(1.3, 2.1))


@pytest.mark.parametrize(("params", "expected"), [
    ({"dose_min": "15"}, ["The link's minimum cycle-1 dose (dose_min=15) is above the cohort's cycle-1 dose range "
                          "(1.3–2.1 mg/m²); 2.1 used."]),
    ({"dose_max": "0.5"}, ["The link's maximum cycle-1 dose (dose_max=0.5) is below the cohort's cycle-1 dose "
                           "range (1.3–2.1 mg/m²); 1.3 used."]),
    ({"dose_max": "2.1"}, ["The link's maximum cycle-1 dose (dose_max=2.1) is at the end of the cohort's cycle-1 "
                           "dose range (1.3–2.1 mg/m²), which the sidebar reads as no limit; no maximum used."]),
    ({"dose_min": "1.33"}, ["The link's minimum cycle-1 dose (dose_min=1.33) is at the end of the cohort's cycle-1 "
                            "dose range (1.3–2.1 mg/m²), which the sidebar reads as no limit; no minimum used."]),
    ({"dose_min": "1.46"}, ["The link's minimum cycle-1 dose (dose_min=1.46) is not on the sidebar's scale "
                            "(steps of 0.1 mg/m²); 1.5 used."]),
    ({"age_min": "18"}, ["The link's minimum age (age_min=18) is at the end of the cohort's age range (18–72 years), "
                         "which the sidebar reads as no limit; no minimum used."]),
    ({"age_min": "10", "age_max": "100"},
     ["The link's minimum age (age_min=10) is below the cohort's age range (18–72 years); no minimum used.",
      "The link's maximum age (age_max=100) is above the cohort's age range (18–72 years); no maximum used."]),
    ({"age_min": "40", "age_max": "50", "dose_min": "1.5"}, []),
])
def test_widget_notices_name_the_parameter_the_value_given_and_the_value_used(params: dict[str, str],
                                                                              expected: list[str]) -> None:
    asked = parse_query_params(params).spec
    used = spec_from_state(state_from_spec(asked, BOUNDS), BOUNDS)
    notices = widget_notices({k: [v] for k, v in params.items()}, asked, used, BOUNDS)
    assert [n.message for n in notices] == expected
    assert FilterSpec() == spec_from_state(state_from_spec(FilterSpec(), BOUNDS), BOUNDS)


# ------------------------------------------------------------------------------------- text is never markup
LINK = '<a href="https://evil.example/login">Sign in again</a>'
STYLE = '<span style="font-size:80px;color:red">PWNED</span>'
EXPIRED = "Session expired: https://evil.example/s"
# An unescaped tag or markdown link, a bare URL or "www." or e-mail "@" without the word joiner.
UNSAFE = re.compile(r"(?<!\\)<(?:a|span)\b|(?<!\\)\]\(|https?://|www\.|(?<!\u2060)@")


def hostile_patients() -> list[TinyPatient]:
    people = varied_patients()
    people[0].centre, people[1].centre = LINK, STYLE
    people[2].centre = people[6].centre = EXPIRED
    people[3].patient_id = "[click](https://evil.example/p)"
    people[5].cause = "see www.evil.example or write to help@evil.example"
    people[7].cause = LINK
    return people


@pytest.fixture()
def hostile_cohort(tmp_path: Path) -> Path:
    return write_tiny_cohort(tmp_path / "hostile.duckdb", hostile_patients(), label=f"{LINK} {EXPIRED}")


def markdown_sources(at: AppTest) -> list[str]:
    """Every string AppTest shows that Streamlit renders as markdown (sidebar included)."""
    out = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in at.get(kind)]
    out += [e.label for e in at.get("expander")] + [m.label for m in at.metric]
    for table in at.table:
        frame = table.value
        out += [str(v) for v in (*frame.columns, *frame.index, *frame.to_numpy().ravel())]
    return out


def assert_no_markup(at: AppTest) -> None:
    found = [s for s in markdown_sources(at) if UNSAFE.search(s)]
    assert not found, found


@pytest.mark.parametrize("page", ["overview", "response", "survival", "safety", "patients", "paper_check"])
@pytest.mark.parametrize("query", [{}, {"centre": EXPIRED}, {"centre": EXPIRED + "2"}], ids=["all", "centre", "notice"])
def test_hostile_names_are_text_on_every_page(hostile_cohort: Path, cohort_env, page: str,
                                               query: dict[str, str]) -> None:
    at = start(hostile_cohort, cohort_env, query, page=page)
    assert_healthy(at)
    assert_no_markup(at)
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "\\<a href=" in sidebar and "\\<span style=" in sidebar       # the payloads are there, as text
    assert "Session expired: https:\u2060//evil.example/s (" in sidebar
    if query.get("centre") == EXPIRED:
        assert "Session expired: https:\u2060//evil.example/s · n = 2 of 10" in " ".join(m.value for m in at.markdown)
    if query.get("centre") == EXPIRED + "2":
        (notice,) = [w.value for w in at.warning]
        assert "(centre=Session expired: https:\u2060//evil.example/s2)" in notice


def test_a_tables_cells_are_text(hostile_cohort: Path, cohort_env) -> None:
    at = start(hostile_cohort, cohort_env)
    cells = [str(v) for t in at.table for v in (*t.value.index, *t.value.to_numpy().ravel())]
    assert "\\<a href=\"https:\u2060//evil.example/login\"\\>Sign in again\\</a\\>" in cells   # the centre row
    at.switch_page("pages/safety.py").run()
    causes = [str(v) for t in at.table for v in t.value.index]
    assert "\\<a href=\"https:\u2060//evil.example/login\"\\>Sign in again\\</a\\>" in causes
    assert "See www\u2060.evil.example or write to help\u2060@evil.example" in causes
    assert_no_markup(at)


def test_a_log_rank_reason_naming_a_group_is_text(hostile_cohort: Path, cohort_env) -> None:
    at = start(hostile_cohort, cohort_env, page="survival")
    at.selectbox(key="s_group").set_value("centre").run()
    at.checkbox(key="s_logrank").check().run()
    assert_healthy(at)
    (reason,) = [i.value for i in at.info if i.value.startswith("Log-rank not shown")]
    assert reason.startswith("Log-rank not shown: group \\<")
    assert_no_markup(at)


def test_the_import_success_message_is_text(no_cohorts: Path) -> None:
    at = _import_page()
    at.session_state[TEST_FILES_KEY] = {"patients": str(BAD / "patients.csv"), "events": str(BAD / "events.csv")}
    at.text_input(key="import_label").input(f"{STYLE} {EXPIRED}")
    at.button(key="import_submit").click().run()
    assert not at.exception
    (success,) = [s.value for s in at.success]
    assert success.startswith("Imported **\\<span style=\"font-size:80px;color:red\"\\>PWNED\\</span\\> "
                              "Session expired: https:\u2060//evil.example/s**: 2 patients")
    assert_no_markup(at)


# ------------------------------------------------------------------------------------- order and missing values
def test_a_missing_value_reads_as_a_dash_never_none() -> None:
    frame = pd.DataFrame({"Group": ["A", "B"], "n": [1, None], "Note": [None, "<1.8"], "when": [pd.NaT, pd.NaT]})
    shown = markdown_table(frame)
    assert shown.to_numpy().tolist() == [[1.0, DASH, DASH], [DASH, "\\<1.8", DASH]]
    assert list(shown.index) == ["A", "B"]


def test_the_patient_listing_shows_a_dash_for_missing_values(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, page="patients")
    assert_healthy(at)
    listing = next(d for d in at.dataframe if "Cause of death" in d.value.columns)
    assert listing.value["Cause of death"].isna().any()       # alive patients: nothing recorded …
    assert listing.proto.placeholder == DASH                   # … shown as "—", not "None"
    assert listing.value["Patient"].tolist() == sorted(listing.value["Patient"])


def test_the_slice_export_has_one_row_order_whatever_the_files_order(tmp_path: Path) -> None:
    from core.database import open_cohort
    from core.store import write_cohort_file
    from ui.downloads import slice_rows

    people = varied_patients()
    people[1].aes = (("thrombocytopenia", 3, 10), ("neutropenia", 4, 10), ("anaemia", 3, 10))
    patients, events = tiny_tables(people)
    meta = {"label": "order", "reconstructed": "false"}
    forward = write_cohort_file(tmp_path / "forward.duckdb", patients, events, meta)
    backward = write_cohort_file(tmp_path / "backward.duckdb", patients.iloc[::-1], events.iloc[::-1], meta)
    first, second = (slice_rows(open_cohort(p), FilterSpec()) for p in (forward, backward))
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    same_day = first[1].query("patient_id == 'T02' and event_type == 'adverse_event'")
    assert same_day["ae_term"].tolist() == ["anaemia", "neutropenia", "thrombocytopenia"]
