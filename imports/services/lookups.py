"""The company's system roles and access groups, read live from SmartRecruiters (a small read:
the lists page, its downloads and `list_roles` / `list_groups`)."""

from __future__ import annotations

from user2smart.companies.connection import company_api
from user2smart.companies.models import Company

READ_TIMEOUT = (5, 15)
# kind: (title, the client's method)
LISTS = {
    "roles": ("System roles", "list_system_roles"),
    "access-groups": ("Access groups", "list_access_groups"),
}


def lookup_read(*, company: Company, kind: str) -> list[dict[str, str]]:
    """The company's system roles or access groups (`kind` a key of LISTS), each `{id, name}`,
    in SmartRecruiters' order. Raises CompanyApiError (its message is for people)."""
    title, method = LISTS[kind]
    doing = f"read the company's {title.lower()}"
    with company_api(company, doing=doing, retries=1, timeout=READ_TIMEOUT) as client:
        items = getattr(client, method)()
    return [{"id": str(item["id"]), "name": item.get("name") or ""} for item in items]
