"""Import runs and their rows: every unit of work is a row with a status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from user2smart.companies.encryption import EncryptedTextField
from user2smart.companies.models import Company


class Mode(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UPSERT = "upsert", "Create or update"


class Missing(models.TextChoices):
    """What a run does with the company's active users who have no row in its file."""

    KEEP = "keep", "Keep them"
    DEACTIVATE = "deactivate", "Deactivate them"


class ImportRun(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command line"
        UNDO = "undo", "Undo"

    class Status(models.TextChoices):
        VALIDATING = "validating", "Checking the file"
        PLANNED = "planned", "Planned"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        DISCARDED = "discarded", "Discarded"

    OPEN_STATUSES = (Status.VALIDATING, Status.PLANNED, Status.RUNNING)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=10, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    run_as_email = models.EmailField(blank=True, default="")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.UPSERT)
    dry_run = models.BooleanField(default=False, help_text="Preview: plan only, change nothing.")
    missing = models.CharField(
        "people missing from the file", max_length=10, choices=Missing.choices, default=Missing.KEEP
    )
    deactivation_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The most deactivations by absence this run may apply: asked for the run, or "
        "the company's limit when it was planned.",
    )
    all_or_nothing = models.BooleanField(
        default=False,
        help_text="Apply only if the whole file is valid: a row with an error stops every row.",
    )

    # An undo (source `undo`) puts back what this run applied: all of it, or only these people.
    undoes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="undone_by",
        help_text="The run this one undoes.",
    )
    undo_emails = models.JSONField(
        default=list, blank=True, help_text="Undo only these people (lower-cased); empty: all."
    )
    undo_force = models.BooleanField(
        default=False, help_text="Undo: overwrite fields changed since the run undone."
    )

    # What was asked (auto or a value) and what was found in the file.
    options = models.JSONField(default=dict, blank=True)
    encoding = models.CharField(max_length=40, blank=True, default="")
    delimiter = models.CharField(max_length=5, blank=True, default="")
    quotechar = models.CharField(max_length=5, blank=True, default="")
    has_header = models.BooleanField(null=True)
    columns = models.JSONField(
        default=list, blank=True, help_text="The file's columns as it names them ('!' included)."
    )
    profile = models.JSONField(
        "import profile",
        default=dict,
        blank=True,
        help_text="The import profile the file is read with, as it was when the run started "
        "(empty: the 19-column format).",
    )

    file_name = models.CharField(max_length=255, blank=True, default="")
    file_size = models.PositiveBigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.VALIDATING)
    error = models.TextField(blank=True, default="", help_text="Why the whole run stopped.")

    # Counters the progress bar reads (never the rows table).
    rows_total = models.PositiveIntegerField(default=0)
    count_create = models.PositiveIntegerField(default=0)
    count_update = models.PositiveIntegerField(default=0)
    count_unchanged = models.PositiveIntegerField(default=0)
    count_error = models.PositiveIntegerField(default=0)
    count_deactivate = models.PositiveIntegerField(
        default=0, help_text="People missing from the file, planned to be deactivated."
    )
    held = models.PositiveIntegerField(
        default=0, help_text="Deactivations by absence held back: more than the limit."
    )
    left_alone = models.JSONField(
        default=dict, blank=True, help_text="People missing from the file kept, by reason."
    )
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows in a final state.")
    rows_failed = models.PositiveIntegerField(default=0, help_text="Rows that ended in error.")
    rows_skipped = models.PositiveIntegerField(default=0)
    # Rows put in the queue by the dispatcher, and those of them that reached a final state:
    # the difference is the run's window in flight, known without counting rows.
    rows_dispatched = models.PositiveIntegerField(default=0)
    rows_returned = models.PositiveIntegerField(default=0)
    rows_folded = models.PositiveIntegerField(
        default=0,
        help_text="Unchanged rows removed from the table once the run ended (the log keeps them).",
    )

    log_csv = models.BinaryField(null=True, blank=True, editable=False)
    failed_rows_csv = EncryptedTextField(
        blank=True, default="", help_text="The failed input rows (no password), until purged."
    )
    plan_claimed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    planning = models.BooleanField(
        default=False,
        help_text="Its first changes were sent while the rest of its file is still being checked "
        "(early writes); it cannot end before its plan is stored.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "-created_at"], name="run_company_recent")]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.company}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def checking(self) -> bool:
        """The file is still being checked: `validating`, or `running` with its first changes
        already sent while the rest of the directory is read (early writes, not yet planned)."""
        return self.status == self.Status.VALIDATING or (
            self.status == self.Status.RUNNING and self.planning
        )

    @property
    def phase(self) -> str:
        """The status a page shows: `validating` while the file is checked."""
        return self.Status.VALIDATING if self.checking else self.status

    @property
    def refused(self) -> bool:
        """All or nothing found rows with errors in the plan: nothing was sent (the run was
        planned, then failed without starting)."""
        return (
            self.all_or_nothing
            and self.status == self.Status.FAILED
            and self.started_at is None
            and self.rows_total > 0
        )

    @property
    def profile_name(self) -> str:
        """The import profile's name, empty for the 19-column format."""
        return str(self.profile.get("name") or "") if self.profile else ""

    @property
    def result(self) -> str:
        """V when no row (and not the file) has an error, X otherwise; empty while open."""
        if self.is_open or self.status == self.Status.DISCARDED:
            return ""
        if self.error or self.count_error or self.rows_failed or self.rows_skipped or self.held:
            return "X"
        return "V"


# Runs whose plan is not stored yet: being checked, or sending their first changes meanwhile.
PLAN_UNFINISHED = models.Q(status=ImportRun.Status.VALIDATING) | models.Q(
    planning=True, finished_at__isnull=True
)


class ImportProfile(models.Model):
    """How one company's HR export becomes the 19 fields of the format (``imports.profiles``).

    ``spec`` is the profile's JSON without its name; it is checked by the profile services
    before it is saved, never here.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="import_profiles")
    name = models.CharField(max_length=100)
    spec = models.JSONField(help_text='The profile: {"match": ..., "fields": {...}}.')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(
                models.F("company"), Lower("name"), name="profile_unique_name_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})"

    def to_json(self) -> dict:
        """The profile's JSON, as ``import_profile`` loads it."""
        return {"name": self.name, **self.spec}


class ImportFileChunk(models.Model):
    """The uploaded file, in encrypted pieces, kept only until the run is planned.

    Pieces let the planner stream a large file without holding it whole in memory.
    """

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="file_chunks")
    seq = models.PositiveIntegerField()
    data = models.TextField(help_text="A Fernet token of the piece's bytes.")

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="chunk_unique_seq")]

    def __str__(self) -> str:
        return f"piece {self.seq} of run {self.run_id}"


def line_order() -> tuple[models.OrderBy, str]:
    """Rows in file order; the people missing from the file (no line) after them, as planned."""
    return models.F("line").asc(nulls_last=True), "pk"


class ImportRow(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        UNCHANGED = "unchanged", "Unchanged"
        ERROR = "error", "Error"
        DEACTIVATE = "deactivate", "Deactivate (not in the file)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped"
        HELD = "held", "Held"

    FINAL_STATUSES = (Status.DONE, Status.ERROR, Status.SKIPPED, Status.HELD)

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for a person missing from the file."
    )
    email = models.CharField(max_length=320, blank=True, default="")
    first_name = models.CharField(max_length=300, blank=True, default="")
    last_name = models.CharField(max_length=300, blank=True, default="")
    action = models.CharField(max_length=10, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True, help_text="field: [old, new]")
    errors = models.JSONField(
        default=list, blank=True, help_text="[{column, value, message}] found when checking"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True, default="")
    transient = models.BooleanField(
        default=False, help_text="Failed for a passing reason: 'Retry failed rows' sends it again."
    )
    sr_user_id = models.CharField("SmartRecruiters id", max_length=64, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Times the row was claimed; the claim's number fences every write of its worker.",
    )
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Sends that got no usable answer (IMPORT_ROW_MAX_ATTEMPTS ends it)."
    )
    steps_done = models.PositiveSmallIntegerField(default=0)
    create_sent = models.BooleanField(
        default=False, help_text="A create may have reached SmartRecruiters: look up first."
    )
    lookup_first = models.BooleanField(
        default=False,
        help_text="Set when claimed: an earlier attempt may have created the user already.",
    )
    email_started = models.BooleanField(
        default=False,
        help_text="The activation email was about to be sent: never sent again after this.",
    )
    payload = EncryptedTextField(
        blank=True, default="", help_text="Planned steps and input values; purged when done."
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its message was sent (database clock)."
    )
    eligible_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A queued row waiting (retry, back-off): no message until then.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [models.F("line").asc(nulls_last=True), "pk"]
        indexes = [
            models.Index(fields=["run", "status", "line"], name="row_run_status"),
            models.Index(fields=["run", "action", "line"], name="row_run_action"),
            models.Index(fields=["status", "queued_at"], name="row_status_queued"),
            models.Index(
                fields=["sr_user_id"], name="row_person", condition=~models.Q(sr_user_id="")
            ),
            models.Index(Lower("email"), name="row_email_lower"),
            models.Index(
                fields=["eligible_at"],
                name="row_waiting",
                condition=models.Q(status="queued", eligible_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["run", "line"], name="row_unique_line"),
        ]

    def __str__(self) -> str:
        return f"line {self.line} {self.email} ({self.action}, {self.status})"

    @property
    def result(self) -> str:
        if self.status == self.Status.DONE:
            return "OK"
        if self.status in (self.Status.ERROR, self.Status.SKIPPED, self.Status.HELD):
            return "ERROR"
        return ""


class UserExport(models.Model):
    """An "Export users" job run by a worker (large companies, or with locations).

    The file is kept (encrypted) only until it is downloaded, or for a day at most.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Ready"
        FAILED = "failed", "Failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    delimiter = models.CharField(max_length=1, default=",")
    complete = models.BooleanField(default=False, help_text="With locations: one read per user.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    users_total = models.PositiveIntegerField(default=0)
    users_done = models.PositiveIntegerField(default=0)
    content = EncryptedTextField(
        blank=True, default="", help_text="The file, until downloaded or a day old."
    )
    file_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the file was deleted (downloaded or expired)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.company}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def available(self) -> bool:
        return self.status == self.Status.FINISHED and self.deleted_at is None


class MirroredUser(models.Model):
    """One SmartRecruiters user of one company, as SmartRecruiters last returned it.

    A cache of what SmartRecruiters says, never of what a file says: `record` is the user as the
    list or a full read (`GET /users/{id}`) or a write's answer returned it (no password, no CSV
    data). Planning and the Complete export use its location only while `full_updated_on` equals
    the `updatedOn` the list shows now and the full read is younger than
    `DIRECTORY_MIRROR_MAX_AGE_DAYS`; otherwise they read the user once and store the answer.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="mirrored_users")
    user_id = models.CharField("SmartRecruiters id", max_length=64)
    email = models.CharField(max_length=320, help_text="Lower-cased, for search.")
    first_name = models.CharField(max_length=300, blank=True, default="")
    last_name = models.CharField(max_length=300, blank=True, default="")
    external_data = models.CharField(max_length=300, blank=True, default="")
    record = models.JSONField(
        default=dict, help_text="The user as SmartRecruiters last returned it."
    )
    updated_on = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="The updatedOn a run last planned against, or our last write's answer.",
    )
    full_updated_on = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="The updatedOn of the full record held (empty: location not known).",
    )
    full_read_at = models.DateTimeField(null=True, blank=True)
    expect_change = models.BooleanField(
        default=False,
        help_text="A write of ours that answers no user (activation, groups) moved updatedOn.",
    )
    seen_at = models.DateTimeField(
        help_text="When this version was taken (each plan checks it is still the current one)."
    )

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["company", "user_id"], name="mirror_unique_user"),
        ]
        indexes = [models.Index(fields=["company", "email"], name="mirror_company_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.company})"
