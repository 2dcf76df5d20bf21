"""The company admins' pages."""

app_name = "imports"

urlpatterns: list = []
