"""Staff pages that look inside both stores, as part of the Django admin."""
