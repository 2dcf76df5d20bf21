"""People: find a SmartRecruiters user of the company, open them, see what User2Smart did."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from imports.models import ImportFileChunk, ImportRow, ImportRun, MirroredUser
from imports.views.present import Change
from tests.web.conftest import make_member, signed_in
from user2smart.companies.encryption import encrypt_bytes
from user2smart.companies.models import Company

ZOE_ID = "7f3c2a10-zoe"
MAX_ID = "91b4e0aa-max"
PASSWORD = "Sup3r-Secret!"
SEEN = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)
READ = datetime(2026, 11, 28, 3, 40, tzinfo=UTC)


def mirror(company: Company, user_id: str, email: str, first: str, last: str, external: str = ""):
    record = {
        "id": user_id,
        "email": email,
        "firstName": first,
        "lastName": last,
        "externalData": external,
        "systemRole": {"id": "EMPLOYEE", "name": "Employee"},
        "language": {"code": "fr"},
        "ssoIdentifier": f"sso-{first.lower()}",
        "active": True,
        "accessGroups": [{"id": "g-paris", "name": "Paris office"}, {"id": "g-sales"}],
        "updatedOn": "2026-11-29T10:00:00.000Z",
    }
    return MirroredUser.objects.create(
        company=company,
        user_id=user_id,
        email=email.lower(),
        first_name=first,
        last_name=last,
        external_data=external,
        record=record,
        seen_at=SEEN,
    )


def run_of(company: Company, when: datetime, file_name: str, **fields) -> ImportRun:
    run = ImportRun.objects.create(
        company=company, file_name=file_name, status="finished", **{"source": "upload", **fields}
    )
    ImportRun.objects.filter(pk=run.pk).update(created_at=when)  # auto_now_add: set it after
    run.refresh_from_db()
    return run


def person_url(user_id: str) -> str:
    return reverse("imports:person", args=[user_id])


@pytest.fixture
def zoe(company_a) -> MirroredUser:
    return mirror(company_a, ZOE_ID, "Zoe.Martin@alpha.example", "Zoe", "Martin-Durand", "EMP-0042")


@pytest.fixture
def max_(company_a) -> MirroredUser:
    return mirror(company_a, MAX_ID, "max@alpha.example", "Max", "Durand", "EMP-0077")


@pytest.fixture
def bea(company_b) -> MirroredUser:
    """Beta's person, whose SmartRecruiters id happens to be Zoe's as well."""
    return mirror(company_b, ZOE_ID, "bea@beta.example", "Bea", "Zoeller", "EMP-0042")


@pytest.fixture
def timeline(company_a, company_b, member_a, zoe, max_):
    """Three runs that changed Zoe, and rows the timeline must leave out."""
    january = run_of(
        company_a, datetime(2026, 1, 10, 9, 0, tzinfo=UTC), "hr-january.csv", created_by=member_a
    )
    february = run_of(company_a, datetime(2026, 2, 10, 2, 0, tzinfo=UTC), "nightly.csv")
    ImportRun.objects.filter(pk=february.pk).update(source="schedule")
    march = run_of(company_a, datetime(2026, 3, 10, 14, 30, tzinfo=UTC), "fix.csv")
    ImportRun.objects.filter(pk=march.pk).update(source="command")
    april = run_of(company_a, datetime(2026, 4, 10, 2, 0, tzinfo=UTC), "nightly.csv")
    may_preview = run_of(
        company_a, datetime(2026, 5, 10, 9, 0, tzinfo=UTC), "preview.csv", dry_run=True
    )
    ImportRun.objects.filter(pk=may_preview.pk).update(status="planned")
    beta_run = run_of(company_b, datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "beta.csv")

    # January: the create was refused; the row names no SmartRecruiters id, only the email.
    ImportRow.objects.create(
        run=january,
        line=4,
        email="ZOE.MARTIN@alpha.example",
        first_name="Zoe",
        last_name="Martin",
        action="create",
        status="error",
        message="Zoe Martin: Selected role is not existing in company configuration.",
    )
    ImportRow.objects.create(
        run=february,
        line=7,
        email="zoe.martin@alpha.example",
        action="update",
        status="done",
        sr_user_id=ZOE_ID,
        changes={"lastName": ["Martin", "Martin-Durand"]},
    )
    ImportRow.objects.create(
        run=february,
        line=8,
        email="max@alpha.example",
        action="update",
        status="done",
        sr_user_id=MAX_ID,
        changes={"lastName": ["Dupont", "Max-Only-Change"]},
    )
    ImportRow.objects.create(
        run=march,
        line=3,
        email="zoe.martin@alpha.example",
        action="update",
        status="done",
        sr_user_id=ZOE_ID,
        changes={"active": [True, False], "systemRole": ["EMPLOYEE", "ADMINISTRATOR"]},
    )
    ImportRow.objects.create(
        run=april,
        line=7,
        email="zoe.martin@alpha.example",
        action="unchanged",
        status="done",
        sr_user_id=ZOE_ID,
        message="Unchanged-April-Row",
    )
    ImportRow.objects.create(
        run=may_preview,
        line=2,
        email="zoe.martin@alpha.example",
        action="update",
        status="pending",
        sr_user_id=ZOE_ID,
        changes={"lastName": ["Martin-Durand", "Never-Applied"]},
    )
    ImportRow.objects.create(
        run=beta_run,
        line=2,
        email="bea@beta.example",
        action="update",
        status="done",
        sr_user_id=ZOE_ID,
        changes={"lastName": ["Zoeller", "Beta-Only-Change"]},
    )
    return {"january": january, "february": february, "march": march}


# Search


@pytest.mark.parametrize(
    "query",
    ["ZOE.MARTIN@ALPHA", "zoe", "martin-dur", "Zoe Martin-Durand", "emp-0042"],
    ids=["email", "first name", "last name", "full name", "external data"],
)
def test_the_search_finds_a_person_by_email_name_or_external_data(browser_a, zoe, max_, query):
    response = browser_a.get(reverse("imports:people"), {"q": query})

    assert response.status_code == 200
    assert b"zoe.martin@alpha.example" in response.content
    assert person_url(ZOE_ID).encode() in response.content
    assert b"max@alpha.example" not in response.content


def test_an_empty_search_lists_everyone_of_the_company(browser_a, zoe, max_):
    response = browser_a.get(reverse("imports:people"))

    assert b"zoe.martin@alpha.example" in response.content
    assert b"max@alpha.example" in response.content
    assert b"2 people." in response.content


def test_a_search_that_finds_no_one_says_so(browser_a, zoe):
    response = browser_a.get(reverse("imports:people"), {"q": "nobody-here"})

    assert b"zoe.martin@alpha.example" not in response.content
    assert b"No one matches" in response.content


def test_the_people_list_is_paginated_and_keeps_the_search(browser_a, company_a):
    for number in range(55):
        mirror(company_a, f"id-{number:02}", f"p{number:02}@alpha.example", "Pat", f"N{number}")

    first = browser_a.get(reverse("imports:people"), {"q": "pat"})
    second = browser_a.get(reverse("imports:people"), {"q": "pat", "page": 2})

    assert b"Page 1 of 2" in first.content
    assert b"?q=pat&amp;page=2" in first.content
    assert b"p49@alpha.example" in first.content
    assert b"p50@alpha.example" not in first.content
    assert b"p54@alpha.example" in second.content


def test_people_is_in_the_navigation(browser_a, zoe):
    response = browser_a.get(reverse("imports:history"))

    assert f'<a href="{reverse("imports:people")}">People</a>'.encode() in response.content


# The person's record


def test_the_person_page_shows_the_record_as_smartrecruiters_returned_it(browser_a, zoe):
    response = browser_a.get(person_url(ZOE_ID))

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["facts"] == [
        ("First name", "Zoe"),
        ("Last name", "Martin-Durand"),
        ("Email", "Zoe.Martin@alpha.example"),
        ("System role", "Employee (EMPLOYEE)"),
        ("External data", "EMP-0042"),
        ("Language", "fr"),
        ("SSO identifier", "sso-zoe"),
        ("Active", "yes"),
        ("Access groups", "Paris office (g-paris), g-sales"),
        ("Location", "not read yet"),
        ("SmartRecruiters id", ZOE_ID),
    ]
    assert "This version taken from SmartRecruiters on 30 Nov 2026, 02:15" in content
    assert "full record not read yet" in content
    assert "<td>Paris office (g-paris), g-sales</td>" in content


def test_the_location_shows_once_the_full_record_was_read(browser_a, zoe):
    zoe.record["location"] = {"countryCode": "fr", "city": "Paris", "postalCode": "75002"}
    zoe.full_read_at = READ
    zoe.full_updated_on = zoe.record["updatedOn"]
    zoe.save()

    response = browser_a.get(person_url(ZOE_ID))

    assert ("Location", "fr, Paris, 75002") in response.context["facts"]
    assert b"full record read on 28 Nov 2026, 03:40" in response.content


# The timeline


def test_the_timeline_lists_every_change_newest_first_with_who_started_it(browser_a, timeline):
    response = browser_a.get(person_url(ZOE_ID))

    entries = response.context["timeline"]
    assert [entry.run.pk for entry in entries] == [
        timeline["march"].pk,
        timeline["february"].pk,
        timeline["january"].pk,
    ]
    assert [entry.who for entry in entries] == ["command line", "schedule", "Anna"]
    assert [entry.row.changes for entry in entries] == [
        [Change("Active", "yes", "no"), Change("System role", "EMPLOYEE", "ADMINISTRATOR")],
        [Change("Last name", "Martin", "Martin-Durand")],
        [],
    ]
    assert [entry.result for entry in entries] == ["Done", "Done", "Error"]


def test_the_timeline_page_reads_as_a_table_of_runs_and_changes(browser_a, timeline):
    content = browser_a.get(person_url(ZOE_ID)).content.decode()

    links = [reverse("imports:run", args=[timeline[name].pk]) for name in ("march", "february")]
    january = reverse("imports:run", args=[timeline["january"].pk])
    assert content.index(links[0]) < content.index(links[1]) < content.index(january)
    for words in (
        "10 Mar 2026, 14:30",
        "fix.csv",
        "nightly.csv",
        "hr-january.csv",
        "<td>command line</td>",
        "<td>schedule</td>",
        "<td>Anna</td>",
        '<span class="old">Martin</span> <span aria-hidden="true">→</span>'
        '<span class="sr-only">to</span> <span class="new">Martin-Durand</span>',
        '<span class="old">yes</span> <span aria-hidden="true">→</span>'
        '<span class="sr-only">to</span> <span class="new">no</span>',
        "Selected role is not existing in company configuration.",
    ):
        assert words in content


def test_the_timeline_leaves_out_unchanged_rows_previews_others_and_other_companies(
    browser_a, timeline
):
    content = browser_a.get(person_url(ZOE_ID)).content

    assert b"Unchanged-April-Row" not in content
    assert b"Never-Applied" not in content
    assert b"preview.csv" not in content
    assert b"Max-Only-Change" not in content
    assert b"Beta-Only-Change" not in content


def test_a_row_with_an_id_of_someone_else_is_not_theirs_even_with_their_email(
    browser_a, zoe, company_a
):
    run = run_of(company_a, datetime(2026, 7, 1, tzinfo=UTC), "reused-email.csv")
    ImportRow.objects.create(
        run=run,
        line=2,
        email="zoe.martin@alpha.example",
        action="create",
        status="done",
        sr_user_id="someone-else",
    )

    response = browser_a.get(person_url(ZOE_ID))

    assert response.context["timeline"] == []
    assert b"User2Smart has changed nothing for this person yet." in response.content


def test_a_long_timeline_is_paginated(browser_a, zoe, company_a):
    run = run_of(company_a, datetime(2026, 8, 1, tzinfo=UTC), "many.csv")
    ImportRow.objects.bulk_create(
        ImportRow(run=run, line=line, action="update", status="done", sr_user_id=ZOE_ID)
        for line in range(2, 57)
    )

    first = browser_a.get(person_url(ZOE_ID))
    second = browser_a.get(person_url(ZOE_ID), {"page": 2})

    assert len(first.context["timeline"]) == 50
    assert b"Page 1 of 2" in first.content
    assert [entry.row.line for entry in second.context["timeline"]] == [6, 5, 4, 3, 2]


# Tenancy


def test_another_companys_person_is_a_404(browser_b, zoe, timeline):
    response = browser_b.get(person_url(MAX_ID))

    assert response.status_code == 404
    assert b"Not available" in response.content
    assert b"max@alpha.example" not in response.content
    assert b"nightly.csv" not in response.content


def test_the_same_id_in_another_company_opens_that_companys_own_person(browser_b, bea, timeline):
    response = browser_b.get(person_url(ZOE_ID))

    assert response.status_code == 200
    assert b"bea@beta.example" in response.content
    assert b"Beta-Only-Change" in response.content
    assert b"zoe.martin@alpha.example" not in response.content
    assert b"Martin-Durand" not in response.content


def test_the_search_never_lists_another_companys_people(browser_b, zoe, bea):
    everyone = browser_b.get(reverse("imports:people"))
    searched = browser_b.get(reverse("imports:people"), {"q": "zoe"})
    by_external_data = browser_b.get(reverse("imports:people"), {"q": "EMP-0042"})

    assert b"zoe.martin@alpha.example" not in everyone.content
    assert b"bea@beta.example" in everyone.content
    assert b"zoe.martin@alpha.example" not in searched.content
    assert b"bea@beta.example" in searched.content  # "Zoeller"
    assert b"zoe.martin@alpha.example" not in by_external_data.content


def test_a_member_of_both_companies_opens_a_person_of_the_other_one(
    django_user_model, company_a, company_b, zoe
):
    browser = signed_in(make_member(django_user_model, "both", company_a, company_b))
    browser.post(reverse("switch_company"), {"company": company_b.pk})

    response = browser.get(person_url(ZOE_ID))
    people = browser.get(reverse("imports:people"))

    assert response.status_code == 200
    assert b"Zoe.Martin@alpha.example" in response.content
    # The header follows the person's company, and so does the rest of the visit.
    assert b"zoe.martin@alpha.example" in people.content


@pytest.mark.parametrize("url", [reverse("imports:people"), person_url(ZOE_ID)])
def test_people_who_are_not_signed_in_are_sent_to_sign_in(client, zoe, url):
    response = client.get(url, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("signin"))
    assert b"zoe.martin@alpha.example" not in response.content


# Secrets


@pytest.fixture
def secret_row(company_a, zoe):
    """A row whose payload holds the file's password, and the run's file that holds it too."""
    run = run_of(company_a, datetime(2026, 9, 1, tzinfo=UTC), "with-passwords.csv")
    file = f"email,firstName,password\r\nzoe.martin@alpha.example,Zoe,{PASSWORD}\r\n"
    ImportFileChunk.objects.create(run=run, seq=0, data=encrypt_bytes(file.encode()))
    return ImportRow.objects.create(
        run=run,
        line=2,
        email="zoe.martin@alpha.example",
        action="update",
        status="pending",
        sr_user_id=ZOE_ID,
        changes={"firstName": ["Zoé", "Zoe"]},
        payload=f'{{"steps": [{{"kind": "update", "data": {{"password": "{PASSWORD}"}}}}]}}',
    )


def test_no_csv_password_on_the_person_page_or_the_search(browser_a, secret_row):
    person = browser_a.get(person_url(ZOE_ID))
    people = browser_a.get(reverse("imports:people"), {"q": "zoe"})

    assert b"with-passwords.csv" in person.content  # the row is on the page...
    assert PASSWORD.encode() not in person.content  # ...its password is not
    assert PASSWORD.encode() not in people.content


def test_no_csv_password_on_the_admin_page(admin_client, secret_row, zoe):
    response = admin_client.get(reverse("admin:imports_mirroreduser_change", args=[zoe.pk]))

    assert b"with-passwords.csv" in response.content
    assert PASSWORD.encode() not in response.content


# Admin


def admin_page(name: str, *args) -> str:
    return reverse(f"admin:imports_mirroreduser_{name}", args=args)


def test_the_admin_lists_and_searches_mirrored_users(admin_client, zoe, max_, bea):
    everyone = admin_client.get(admin_page("changelist"))
    by_external_data = admin_client.get(admin_page("changelist"), {"q": "EMP-0077"})
    by_id = admin_client.get(admin_page("changelist"), {"q": ZOE_ID})
    of_beta = admin_client.get(admin_page("changelist"), {"company__id__exact": bea.company_id})

    assert everyone.status_code == 200
    for words in (b"zoe.martin@alpha.example", b"max@alpha.example", b"Alpha Ltd", b"Beta Inc"):
        assert words in everyone.content
    assert b"max@alpha.example" in by_external_data.content
    assert b"zoe.martin@alpha.example" not in by_external_data.content
    assert b"zoe.martin@alpha.example" in by_id.content
    assert b"bea@beta.example" in by_id.content
    assert b"max@alpha.example" not in by_id.content
    assert b"bea@beta.example" in of_beta.content
    assert b"zoe.martin@alpha.example" not in of_beta.content


def test_the_admin_page_shows_the_record_and_the_timeline(admin_client, timeline, zoe):
    response = admin_client.get(admin_page("change", zoe.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Employee (EMPLOYEE)" in content
    assert "Paris office (g-paris), g-sales" in content
    assert "Last name: Martin → Martin-Durand" in content
    assert "Active: yes → no" in content
    assert content.index("fix.csv") < content.index("nightly.csv") < content.index("hr-january")
    assert "Never-Applied" not in content
    assert "Beta-Only-Change" not in content


def test_the_admin_page_escapes_what_smartrecruiters_and_files_hold(admin_client, zoe, company_a):
    zoe.record["firstName"] = "<script>alert(1)</script>"
    zoe.save()
    run = run_of(company_a, datetime(2026, 7, 1, tzinfo=UTC), "<b>file</b>.csv")
    ImportRow.objects.create(
        run=run,
        line=2,
        action="update",
        status="error",
        sr_user_id=ZOE_ID,
        message="<img src=x onerror=alert(2)>",
        changes={"lastName": ["<i>old</i>", "new"]},
    )

    content = admin_client.get(admin_page("change", zoe.pk)).content.decode()

    assert "<script>alert(1)" not in content
    assert "&lt;script&gt;alert(1)" in content
    assert "<img src=x" not in content
    assert "<b>file</b>" not in content
    assert "&lt;i&gt;old&lt;/i&gt;" in content


def test_the_admin_is_read_only(admin_client, zoe):
    change = admin_client.get(admin_page("change", zoe.pk))
    changelist = admin_client.get(admin_page("changelist"))

    assert admin_client.get(admin_page("add")).status_code == 403
    assert admin_client.get(admin_page("delete", zoe.pk)).status_code == 403
    assert admin_client.post(admin_page("change", zoe.pk), {"email": "x@y.z"}).status_code == 403
    assert b'name="_save"' not in change.content
    assert admin_page("add").encode() not in changelist.content
    assert b"delete_selected" not in changelist.content
    zoe.refresh_from_db()
    assert zoe.email == "zoe.martin@alpha.example"
