"""Fixtures shared by the whole suite; the heavier ones live in tests/fixtures/."""

pytest_plugins = [
    "pytester",  # tests of the suite's own hooks (tests/test_ci_skips.py)
    "tests.fixtures.ci",  # under CI=true a skipped browser or SFTP test fails
    "tests.fixtures.worker",
    "tests.fixtures.emulator",
    "tests.fixtures.sshd",
]
