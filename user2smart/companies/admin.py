"""Operators' pages for companies: credentials are write-only, the access key is shown once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from user2smart.companies.connection import check_connection
from user2smart.companies.models import Company, Membership, person_label
from user2smart.companies.services import company_issue_access_key

KEEP_HELP = "Write-only: leave blank to keep the stored value."
FULL_SYNC_FIELDS = [
    "missing_limit_count",
    "missing_limit_percent",
    "missing_admins",
    "missing_managed_only",
    "protected_emails",
]


class CompanyAdminForm(forms.ModelForm):
    """The stored secrets are never sent to the browser; a blank input keeps them."""

    api_url = forms.URLField(
        label="SmartRecruiters API URL",
        assume_scheme="https",
        help_text="https://api.smartrecruiters.com in production.",
    )

    new_api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )
    new_oauth_client_secret = forms.CharField(
        label="OAuth client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )

    class Meta:
        model = Company
        fields = [
            "name",
            "slug",
            "enabled",
            "api_url",
            "credential_type",
            "oauth_client_id",
            "rate_limit_rps",
            "rate_limit_concurrency",
            *FULL_SYNC_FIELDS,
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A blank limit is the default one.
        for name in ("missing_limit_count", "missing_limit_percent"):
            field = self.fields[name]
            field.required = False
            default = Company._meta.get_field(name).default
            field.help_text = f"{field.help_text} Blank: {default}.".lstrip()

    def clean_missing_limit_count(self) -> int:
        return self._limit_or_default("missing_limit_count")

    def clean_missing_limit_percent(self) -> int:
        return self._limit_or_default("missing_limit_percent")

    def _limit_or_default(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return Company._meta.get_field(name).default if value is None else value

    def clean_protected_emails(self) -> str:
        """One email address a line; a line that is not one is named."""
        kept: list[str] = []
        problems: list[str] = []
        for number, line in enumerate(self.cleaned_data["protected_emails"].splitlines(), 1):
            address = line.strip()
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                problems.append(f"line {number} ({address}) is not an email address")
                continue
            kept.append(address)
        if problems:
            raise ValidationError(
                f"Protected emails: {'; '.join(problems)}. Write one email address a line."
            )
        return "\n".join(kept)

    def clean(self) -> dict:
        cleaned = super().clean()
        instance = self.instance
        kind = cleaned.get("credential_type")
        api_key = cleaned.get("new_api_key") or instance.api_key
        secret = cleaned.get("new_oauth_client_secret") or instance.oauth_client_secret
        if kind == Company.Credential.API_KEY and not api_key:
            self.add_error("new_api_key", "Enter the company's SmartRecruiters API key.")
        if kind == Company.Credential.OAUTH_CLIENT:
            if not cleaned.get("oauth_client_id"):
                self.add_error("oauth_client_id", "Enter the OAuth client id.")
            if not secret:
                self.add_error("new_oauth_client_secret", "Enter the OAuth client secret.")
        return cleaned

    def save(self, commit: bool = True) -> Company:
        company = super().save(commit=False)
        if self.cleaned_data.get("new_api_key"):
            company.api_key = self.cleaned_data["new_api_key"]
        if self.cleaned_data.get("new_oauth_client_secret"):
            company.oauth_client_secret = self.cleaned_data["new_oauth_client_secret"]
        if company.credential_type == Company.Credential.API_KEY:
            company.oauth_client_id = ""
            company.oauth_client_secret = ""
        else:
            company.api_key = ""
        if commit:
            company.save()
        return company


class PersonAutocompleteView(AutocompleteJsonView):
    """The admin's search-as-you-type lists, with people by name and email (not ``sr-...``)."""

    def serialize_result(self, obj, to_field_name: str) -> dict:
        result = super().serialize_result(obj, to_field_name)
        if isinstance(obj, AbstractBaseUser):
            result["text"] = person_label(obj)
        return result


def person_autocomplete_view(request: HttpRequest):
    return PersonAutocompleteView.as_view(admin_site=admin.site)(request)


# Read by the admin site when it builds its URLs, after every admin module is loaded.
admin.site.autocomplete_view = person_autocomplete_view  # type: ignore[method-assign]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class MembershipFields:
    """The member shown by name and email in the membership forms."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["form_class"] = PersonChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class MembershipInline(MembershipFields, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "member", "created_at"]
    readonly_fields = ["member", "created_at"]

    @admin.display(description="name and email")
    def member(self, membership: Membership) -> str:
        return person_label(membership.user) if membership.user_id else "-"


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    # Short columns: the list fits a 1280 px screen beside the admin's navigation.
    list_display = ["name", "slug", "credential", "rate_limit", "enabled", "sign_in_key"]
    list_filter = ["enabled", "credential_type"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    actions = ["test_connection", "issue_access_key"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "enabled"]}),
        (
            "SmartRecruiters credential",
            {
                "fields": [
                    "api_url",
                    "credential_type",
                    "new_api_key",
                    "oauth_client_id",
                    "new_oauth_client_secret",
                ]
            },
        ),
        ("Rate limit", {"fields": ["rate_limit_rps", "rate_limit_concurrency"]}),
        (
            "Full sync",
            {
                "fields": FULL_SYNC_FIELDS,
                "description": "When an import deactivates the people missing from its file: "
                "who never is, and how many one import may deactivate before it holds them all "
                "for a company admin to allow.",
            },
        ),
    ]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(require_POST(self.test_connection_view))
        return [
            path("<int:pk>/test-connection/", view, name="companies_company_test_connection"),
            *super().get_urls(),
        ]

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        company = get_object_or_404(Company, pk=pk)
        if not self.has_change_permission(request, company):
            raise PermissionDenied
        result = check_connection(company)
        self.message_user(
            request, result.message, messages.SUCCESS if result.ok else messages.ERROR
        )
        return HttpResponseRedirect(reverse("admin:companies_company_change", args=[pk]))

    @admin.display(boolean=True, description="access key")
    def sign_in_key(self, company: Company) -> bool:
        return company.has_access_key()

    @admin.display(description="credential", ordering="credential_type")
    def credential(self, company: Company) -> str:
        return "API key" if company.credential_type == Company.Credential.API_KEY else "OAuth"

    @admin.display(description="rate limit", ordering="rate_limit_rps")
    def rate_limit(self, company: Company) -> str:
        return f"{company.rate_limit_rps}/s, {company.rate_limit_concurrency} at once"

    @admin.action(description="Test connection to SmartRecruiters")
    def test_connection(self, request: HttpRequest, queryset) -> None:
        for company in queryset:
            result = check_connection(company)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{company.name}: {result.message}", level)

    @admin.action(description="Issue a new 'Sign in with SmartRecruiters' access key")
    def issue_access_key(self, request: HttpRequest, queryset) -> None:
        for company in queryset:
            key = company_issue_access_key(company=company)
            self.message_user(
                request,
                f"New access key for {company.name} (shown only now, hand it to the company): "
                f"{key}",
                messages.WARNING,
            )


@admin.register(Membership)
class MembershipAdmin(MembershipFields, admin.ModelAdmin):
    list_display = ["member", "company", "created_at"]
    list_display_links = ["member"]
    list_filter = ["company"]
    list_select_related = ["user", "company"]
    search_fields = [
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "company__name",
    ]
    autocomplete_fields = ["user", "company"]

    @admin.display(description="member", ordering="user__last_name")
    def member(self, membership: Membership) -> str:
        return person_label(membership.user)
