"""Plan each checked row against the company's current users: one action, and the exact steps.

Pure: no Django, no HTTP. The plan is decided here once; the apply stage follows
``PlannedRow.steps`` in order and never re-decides. A plan survives the database as plain JSON
(``to_json`` / ``from_json``).

Steps (``Step.kind`` -> ``Step.data``), each one SmartRecruiters call except ``add_to_groups``:

- ``create``: the NewUser body (``POST /users``); the only place a password ever appears.
- ``patch``: the RFC 6902 operations (``PATCH /users/{id}``): ``replace`` where the user has a
  value, ``add`` where it has none, on ``/email``, ``/firstName``, ``/lastName``,
  ``/systemRole`` (``{"id"}``), ``/externalData``, ``/language`` (``{"code"}``),
  ``/ssoIdentifier``, ``/location`` (the whole input object).
- ``add_to_groups``: a list of access-group ids (one ``POST /access-groups/{id}/users`` each).
- ``remove_from_group``: one access-group id (``DELETE /access-groups/{id}/users/{userId}``).
- ``activate``, ``deactivate``, ``activation_email``: no data.

For a ``create`` the user id is only known once the first step has run.
"""

from __future__ import annotations

from imports.planner.absence import Absence, deactivation
from imports.planner.directory import Directory, DirectoryUser, Location
from imports.planner.planning import (
    MATCH_EMAIL,
    Planner,
    ReadLocation,
    needs_location,
    plan_rows,
)
from imports.planner.plans import Action, Mode, PlannedRow, Step, StepKind

__all__ = [
    "MATCH_EMAIL",
    "Absence",
    "Action",
    "Directory",
    "DirectoryUser",
    "Location",
    "Mode",
    "PlannedRow",
    "Planner",
    "ReadLocation",
    "Step",
    "StepKind",
    "deactivation",
    "needs_location",
    "plan_rows",
]
