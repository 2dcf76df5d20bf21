"""Fixtures shared by the whole suite; the heavier ones live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.emulator",
    "tests.fixtures.sshd",
]
