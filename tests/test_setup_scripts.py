"""The set-up scripts give the app everything its main job needs, image export included.

scripts/browser.sh is run with a PATH of stub commands: no chromium on it, `id` saying who we
are, and an `apt-get` that records its arguments (and, when asked to, "installs" chromium by
creating the executable where Debian puts it, here a temporary path).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSER_SH = ROOT / "scripts" / "browser.sh"
BASH = "/bin/bash"


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture()
def stubs(tmp_path: Path) -> dict[str, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return {"bin": bin_dir, "log": tmp_path / "apt-get.log", "chromium": tmp_path / "usr-bin" / "chromium"}


def _run(stubs: dict[str, Path], mode: str, *, uid: int, apt_installs: bool = True,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    _executable(stubs["bin"] / "id", f"#!/bin/sh\necho {uid}\n")
    install = (f'  /bin/mkdir -p "{stubs["chromium"].parent}"\n'
               f'  printf "#!/bin/sh\\n" > "{stubs["chromium"]}"\n'
               f'  /bin/chmod +x "{stubs["chromium"]}"\n') if apt_installs else ""
    _executable(stubs["bin"] / "apt-get",
                f'#!/bin/sh\necho "$*" >> "{stubs["log"]}"\n'
                f'if [ "$1" = install ]; then\n{install}  :\nfi\n')
    return subprocess.run([BASH, str(BROWSER_SH), mode], capture_output=True, text=True, timeout=30,
                          env={"PATH": str(stubs["bin"]), "DEBIAN_CHROMIUM": str(stubs["chromium"]),
                               **(env or {})})


def _apt_calls(stubs: dict[str, Path]) -> list[str]:
    return stubs["log"].read_text().splitlines() if stubs["log"].exists() else []


@pytest.mark.parametrize("mode", ["run", "test"])
def test_as_root_without_chromium_it_installs_debians_chromium(stubs, mode: str) -> None:
    result = _run(stubs, mode, uid=0)
    assert result.returncode == 0, result.stderr
    calls = _apt_calls(stubs)
    assert calls[0] == "update -qq"
    assert calls[1].split() == ["install", "-y", "-qq", "chromium"]
    assert os.access(stubs["chromium"], os.X_OK)
    assert "Installing Debian's chromium" in result.stdout


def test_without_root_run_says_how_to_install_and_lets_the_app_start(stubs) -> None:
    result = _run(stubs, "run", uid=1000)
    assert result.returncode == 0
    assert _apt_calls(stubs) == []
    assert "sudo apt-get install chromium" in result.stderr
    assert "$BROWSER_PATH" in result.stderr and "Starting without image export" in result.stderr


def test_without_root_the_test_set_up_stops(stubs) -> None:
    result = _run(stubs, "test", uid=1000)
    assert result.returncode != 0
    assert _apt_calls(stubs) == []
    assert "sudo apt-get install chromium" in result.stderr


def test_when_apt_get_fails_run_goes_on_and_test_stops(stubs) -> None:
    run = _run(stubs, "run", uid=0, apt_installs=False)
    assert run.returncode == 0 and "could not install chromium" in run.stderr
    test = _run(stubs, "test", uid=0, apt_installs=False)
    assert test.returncode != 0


def test_a_browser_already_there_is_used_as_is(stubs, tmp_path: Path) -> None:
    _executable(stubs["bin"] / "chromium", "#!/bin/sh\n")
    assert _run(stubs, "test", uid=0).returncode == 0
    (stubs["bin"] / "chromium").unlink()
    chrome = _executable(tmp_path / "chrome", "#!/bin/sh\n")
    assert _run(stubs, "run", uid=0, env={"BROWSER_PATH": str(chrome)}).returncode == 0   # the app's own choice
    assert _apt_calls(stubs) == []


def test_unknown_mode_is_refused(stubs) -> None:
    result = _run(stubs, "both", uid=0)
    assert result.returncode == 2 and "usage" in result.stderr


def test_run_and_test_commands_set_up_the_browser_through_setup_sh() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "scripts/browser.sh test" in setup and "scripts/browser.sh run" in setup
    run = [line for line in (ROOT / "scripts" / "run.sh").read_text().splitlines() if not line.startswith("#")]
    test = [line for line in (ROOT / "scripts" / "test.sh").read_text().splitlines() if not line.startswith("#")]
    assert "scripts/setup.sh" in run and run.index("scripts/setup.sh") < next(
        i for i, line in enumerate(run) if "streamlit run" in line)
    assert "scripts/setup.sh dev" in test
    assert not any("apt-get" in line for line in test)   # one place installs it
