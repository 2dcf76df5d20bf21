"""What a row's result says, in sentences an HR admin understands."""

from __future__ import annotations

from imports.planner import Action, PlannedRow, StepKind
from user2smart.smartrecruiters.errors import RejectedError, SmartRecruitersError

_DONE = {
    StepKind.CREATE: "created",
    StepKind.ADD_TO_GROUPS: "added to access groups",
    StepKind.REMOVE_FROM_GROUP: "removed from access groups",
    StepKind.ACTIVATE: "activated",
    StepKind.DEACTIVATE: "deactivated",
    StepKind.ACTIVATION_EMAIL: "sent the activation email",
}

# SmartRecruiters' error codes, said plainly. Unknown codes fall back to SmartRecruiters' text.
_CODES = {
    "INVALID_USER_NAME": "The first or last name is not accepted by SmartRecruiters "
    "(empty, too long, or with spaces around it).",
    "LANGUAGE_DISABLED": "This language is not enabled for your company in SmartRecruiters.",
    "PERMISSION_DENIED": "SmartRecruiters does not allow this change with the company's "
    "credential.",
    "INVALID_SYSTEM_ROLE": "Selected role is not existing in company configuration.",
    "ACCESS_GROUPS_NOT_ALLOWED": "Users with this role cannot be added to access groups.",
    "USER_ALREADY_EXISTS": "Another SmartRecruiters user already has this email address.",
    "SSO_IDENTIFIER_ALREADY_EXISTS": "Another user already has this SSO identifier.",
    "INVALID_LANGUAGE": "SmartRecruiters does not know this language code.",
}
_STATUS = {
    404: "The user no longer exists in SmartRecruiters.",
    409: "Another SmartRecruiters user already has this email address or SSO identifier.",
}


def done_message(planned: PlannedRow) -> str:
    if planned.action is Action.DEACTIVATE:
        return "Deactivated: not in the file."
    words: list[str] = []
    for step in planned.steps:
        if step.kind is StepKind.PATCH:
            fields = [f for f in planned.changes if f not in ("accessGroups", "active")]
            words.append(f"updated {', '.join(fields)}")
        elif _DONE[step.kind] not in words:
            words.append(_DONE[step.kind])
    if not words:
        words = ["already up to date"] if planned.action is Action.UNCHANGED else ["done"]
    text = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
    note = f" {planned.note}" if planned.note else ""
    return f"{text[:1].upper()}{text[1:]}.{note}"


def rejected_message(exc: RejectedError) -> str:
    sentence = _CODES.get(exc.code or "") or _STATUS.get(exc.status or 0)
    if sentence is None:
        sentence = f"SmartRecruiters refused the change: {exc.message or exc}"
        if not sentence.endswith("."):
            sentence += "."
    code = exc.code or f"HTTP {exc.status}"
    return f"{sentence} ({code})"


def transient_message(exc: SmartRecruitersError) -> str:
    status = getattr(exc, "status", None)
    reason = f"HTTP {status}" if status else "no answer"
    return (
        f"SmartRecruiters did not answer after several tries ({reason}). Nothing was "
        'lost: use "Retry failed rows" later.'
    )
