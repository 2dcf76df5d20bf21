"""The company admins' pages: imports, history, export, roles and groups, help."""
