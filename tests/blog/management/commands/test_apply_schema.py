"""manage.py apply_schema."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_apply_schema_reports_up_to_date_on_second_run(wide_store):
    out = StringIO()
    call_command("apply_schema", stdout=out)
    call_command("apply_schema", stdout=out)
    assert "schema is up to date" in out.getvalue()


def test_apply_schema_refuses_a_bad_replication_map(wide_store):
    with pytest.raises(CommandError):
        call_command("apply_schema", replication="1; DROP KEYSPACE blog")
