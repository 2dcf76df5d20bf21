"""tests/fixtures/ci.py: under CI=true a skipped browser or SFTP test fails; other skips stay."""

from __future__ import annotations

import pytest

# The inner runs load the hook and nothing of this suite (no Django, no emulator, no sshd).
ARGS = (
    *("-p", "tests.fixtures.ci", "-p", "no:django", "-p", "no:cacheprovider"),
    *("--import-mode=importlib", "-rA"),
)

FIXTURES = """
import pytest

@pytest.fixture(scope="session")
def sftp_server():
    pytest.skip("OpenSSH sshd is not installed")

@pytest.fixture
def sftp_folder(sftp_server):
    return sftp_server

@pytest.fixture
def chromium():
    pytest.skip("/usr/bin/chromium is missing")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A small suite shaped like ours: browser tests, SFTP tests and others, each skipping.

    Its modules have names of their own: the inner run is in this process, where the suite's
    real `tests.scheduler.test_sftp` may already be imported (and would be run instead).
    """
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makeconftest(FIXTURES)
    pytester.makepyfile(
        **{
            "tests/browser/test_ci_hook_pages": "def test_upload_page(chromium):\n    pass\n",
            "tests/scheduler/test_ci_hook_sftp": (
                "def test_download(sftp_server):\n    pass\n\n"
                "def test_fire(sftp_folder):\n    pass\n"
            ),
            "tests/imports/test_ci_hook_other": (
                "import pytest\n\n"
                "def test_needs_postgres():\n"
                "    pytest.skip('needs PostgreSQL')\n\n"
                "@pytest.mark.xfail(reason='a known bug', strict=True)\n"
                "def test_known_bug():\n"
                "    assert False\n"
            ),
        }
    )
    return pytester


def test_under_ci_a_skipped_browser_or_sftp_test_fails_with_the_reason(project, monkeypatch):
    monkeypatch.setenv("CI", "true")

    result = project.runpytest(*ARGS)

    result.assert_outcomes(errors=3, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["SKIPPED*needs PostgreSQL*"])
    result.stdout.fnmatch_lines(
        [
            "*ERROR*test_upload_page*Skipped under CI=true, where Chromium (a browser test) must "
            "run*/usr/bin/chromium is missing*",
            "*ERROR*test_download*where sshd (an SFTP test) must run*sshd is not installed*",
            "*ERROR*test_fire*where sshd (an SFTP test) must run*sshd is not installed*",
        ]
    )


def test_a_skip_in_the_test_body_is_a_failure_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "TRUE")
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makepyfile(
        **{
            "tests/browser/test_page": (
                "import pytest\n\ndef test_it():\n    pytest.skip('no tab')\n"
            )
        }
    )

    result = pytester.runpytest(*ARGS)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED*test_it*Skipped under CI=true*no tab*"])


def test_a_browser_module_skipped_whole_is_an_error_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makepyfile(
        **{
            "tests/browser/test_page": (
                "import pytest\n\n"
                "pytest.skip('playwright is missing', allow_module_level=True)\n\n"
                "def test_it():\n    pass\n"
            )
        }
    )

    result = pytester.runpytest(*ARGS)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Skipped under CI=true*playwright is missing*"])


@pytest.mark.parametrize("value", [None, "false", ""])
def test_without_ci_every_skip_stays_a_skip(project, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)

    result = project.runpytest(*ARGS)

    result.assert_outcomes(skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
