"""Checks made before a fire imports, by Test connection, and the host key fetch of the forms."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from scheduler import sftp
from scheduler.models import Schedule
from scheduler.services.errors import FireError
from user2smart.companies.connection import CompanyApiError, company_api
from user2smart.companies.models import Company

ADMINISTRATOR = "ADMINISTRATOR"
SMARTRECRUITERS_TIMEOUT = (5.0, 20.0)  # connect, read


def run_as_check(*, company: Company, email: str) -> str:
    """Say who ``email`` is, or raise ``FireError`` unless an active administrator of the company.

    The schedule imports on behalf of this person, so SmartRecruiters must know them as an
    active ADMINISTRATOR of the company, at every run (people leave, roles change).
    """
    if not company.enabled:
        raise FireError(f"The company {company} is disabled in User2Smart.")
    if not company.has_credential:
        raise FireError(f"No SmartRecruiters credential is set for the company {company}.")
    try:
        with company_api(
            company,
            doing=f"check the run-as user {email}",
            timeout=SMARTRECRUITERS_TIMEOUT,
            ask_to_retry=False,  # a fire tries again by itself
        ) as client:
            user = client.find_user_by_email(email)
    except CompanyApiError as exc:
        raise FireError(exc.message, retryable=exc.retryable) from None
    if user is None:
        raise FireError(f"The run-as user {email} is not a SmartRecruiters user of {company}.")
    if not user.get("active"):
        raise FireError(f"The run-as user {email} is not active in SmartRecruiters.")
    role = (user.get("systemRole") or {}).get("id") or "none"
    if role != ADMINISTRATOR:
        raise FireError(
            f"The run-as user {email} is not a SmartRecruiters administrator of {company} "
            f"(system role: {role})."
        )
    name = f"{user.get('firstName', '')} {user.get('lastName', '')}".strip() or email
    return f"The run-as user {email} ({name}) is an active SmartRecruiters administrator."


def sftp_host_check(*, host: str) -> str | None:
    """Why a company admin may not point a schedule at ``host``, or None when it may.

    A schedule (and "Fetch the host key") makes the service open a connection to the address
    typed. Company admins may reach only servers on the internet, not the service's own
    network: a loopback, private, link-local or reserved address, or a name that resolves to
    one, is refused unless the operator allows it (``SCHEDULE_PRIVATE_HOSTS``). A name that
    does not resolve is left to the connection, which says so.
    """
    name = host.strip().strip("[]")
    try:
        found = {
            str(info[4][0]) for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        }
    except (OSError, UnicodeError):
        return None
    for text in sorted(found):
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return (
                f"The SFTP host {host.strip()} is inside the service's own network ({address}). "
                "Schedules set up here can reach servers on the internet only: ask your "
                "User2Smart operator to set up this schedule."
            )
    return None


def host_key_fetch(*, host: str, port: int, timeout: float) -> sftp.HostKey:
    """The host key the server at ``host:port`` presents, to show before it is pinned.

    Nothing is sent but the SSH greeting (no login, no password, no key), and nothing is
    saved: the person checks the fingerprint with the server's administrator and pins the key
    on the schedule's form. Raises ``SftpError`` with a message that names the server.
    """
    return sftp.fetch_host_key(host.strip(), port, timeout=timeout)


@dataclass
class ConnectionReport:
    """What Test connection found: each check as (passed, message), and the key to pin."""

    checks: list[tuple[bool, str]] = field(default_factory=list)
    host_key: sftp.HostKey | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for passed, _ in self.checks)

    def add(self, passed: bool, message: str) -> None:
        self.checks.append((passed, message))


def schedule_test_connection(schedule: Schedule) -> ConnectionReport:
    """Connect with the stored settings and check everything a fire needs; change nothing.

    Shows the server's host key (also when none is pinned yet), logs in against the pinned
    key, checks that the file exists and the log folder is writable (a probe file is created
    and removed), and that the run-as user is an active administrator.
    """
    report = ConnectionReport()
    settings = schedule.sftp_settings()
    try:
        report.host_key = sftp.fetch_host_key(
            settings.host, settings.port, timeout=settings.connect_timeout
        )
    except sftp.SftpError as exc:
        report.add(False, str(exc))
    if report.host_key is not None:
        presented = (
            f"The server at {settings.where} presents the host key {report.host_key.line} "
            f"(fingerprint {report.host_key.fingerprint})."
        )
        if schedule.host_key.strip():
            report.add(True, presented)
        else:
            report.add(
                False,
                f"{presented} No key is pinned yet: check this fingerprint with the server's "
                "administrator, then paste the key text into Pinned host key and save.",
            )
    if report.host_key is not None and schedule.host_key.strip():
        try:
            with sftp.connect(settings) as session:
                found = session.check(schedule.file_path, schedule.log_dir)
            report.add(
                True,
                f"Logged in as {settings.username}; {found.path} is there ({found.size} bytes) "
                f"and the log folder {schedule.log_dir} is writable.",
            )
        except sftp.SftpError as exc:
            report.add(False, str(exc))
    try:
        report.add(True, run_as_check(company=schedule.company, email=schedule.run_as_email))
    except FireError as exc:
        report.add(False, exc.message)
    return report
