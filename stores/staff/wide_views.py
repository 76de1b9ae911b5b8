"""Staff pages for the wide-column store, inside the Django admin."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stores import clients
from stores.staff import wide_inspect
from stores.staff.access import staff_required, superuser_required
from stores.staff.unavailable import is_store_error, store_unavailable_as_503


def _context(request, title: str, **extra) -> dict:
    context = admin.site.each_context(request)
    context.update(title=title, wide_url=settings.WIDE_URL, **extra)
    return context


def _session():
    return clients.wide()


def _table(session, keyspace: str, table: str) -> wide_inspect.TableInfo:
    try:
        return wide_inspect.table_info(session, keyspace, table)
    except wide_inspect.NotFound:
        raise Http404(f"No table {keyspace}.{table}.") from None


@staff_required
@store_unavailable_as_503("WIDE_URL")
def overview(request):
    """List keyspaces and tables with their replication, compaction, TTL and gc grace."""
    session = _session()
    context = _context(
        request,
        "Wide-column store",
        keyspaces=wide_inspect.keyspaces(session),
        embedded=wide_inspect.storage_engine(session) is not None,
    )
    return render(request, "admin/stores/wide/overview.html", context)


@staff_required
@store_unavailable_as_503("WIDE_URL")
def table(request, keyspace: str, table: str):
    """Show a table's schema, memtable, SSTables and compactions."""
    session = _session()
    info = _table(session, keyspace, table)
    context = _context(
        request,
        f"{keyspace}.{table}",
        info=info,
        engine=wide_inspect.engine_stats(session, keyspace, table),
    )
    return render(request, "admin/stores/wide/table.html", context)


@staff_required
@store_unavailable_as_503("WIDE_URL")
def partitions(request, keyspace: str, table: str):
    """List a table's partitions in token order, a page at a time."""
    session = _session()
    info = _table(session, keyspace, table)
    after = request.GET.get("after")
    try:
        after_token = int(after) if after not in (None, "") else None
    except ValueError:
        after_token = None
    page = wide_inspect.partitions_page(session, info, after_token)
    next_after = page[-1]["token"] if len(page) == wide_inspect.PAGE_SIZE else None
    context = _context(
        request,
        f"{keyspace}.{table}: partitions",
        info=info,
        page=page,
        next_after=next_after,
        after=after_token,
    )
    return render(request, "admin/stores/wide/partitions.html", context)


@staff_required
@store_unavailable_as_503("WIDE_URL")
def partition(request, keyspace: str, table: str, token: str):
    """Show one partition's rows in clustering order, with each cell's write time and TTL."""
    session = _session()
    info = _table(session, keyspace, table)
    try:
        token_value = int(token)
        paging_state = bytes.fromhex(request.GET.get("page", "")) or None
    except ValueError:
        raise Http404("Bad token or page.") from None
    rows = wide_inspect.partition_rows(session, info, token_value, paging_state)
    if not rows.rows and paging_state is None:
        raise Http404("No such partition.")
    stored = None
    if rows.rows:
        key_values = [rows.rows[0][c.name]["value"] for c in info.partition_key]
        stored = wide_inspect.stored_cells(session, info, key_values)
    context = _context(
        request,
        f"{keyspace}.{table}: partition {token_value}",
        info=info,
        token=token_value,
        result=rows,
        stored=stored,
        next_page=rows.paging_state.hex() if rows.paging_state else None,
    )
    return render(request, "admin/stores/wide/partition.html", context)


@staff_required
@store_unavailable_as_503("WIDE_URL")
def locate(request):
    """Say which token a partition key has and which nodes hold it."""
    session = _session()
    tables = [
        (ks["name"], t["name"])
        for ks in wide_inspect.keyspaces(session)
        if not ks["system"]
        for t in ks["tables"]
    ]
    chosen = request.GET.get("table", "")
    info = answer = error = None
    fields = []
    if chosen:
        keyspace, _, name = chosen.partition(".")
        info = _table(session, keyspace, name)
        texts = {c.name: request.GET.get(f"key_{c.name}", "") for c in info.partition_key}
        fields = [(c, texts[c.name]) for c in info.partition_key]
        if any(texts.values()):
            try:
                answer = wide_inspect.locate(
                    session, info, wide_inspect.parse_key_values(info, texts)
                )
            except wide_inspect.KeyInputError as exc:
                error = str(exc)
    context = _context(
        request,
        "Where does this key live?",
        tables=tables,
        chosen=chosen,
        info=info,
        fields=fields,
        answer=answer,
        error=error,
    )
    return render(request, "admin/stores/wide/locate.html", context)


@staff_required
@store_unavailable_as_503("WIDE_URL")
@require_http_methods(["GET", "POST"])
def console(request):
    """Run a SELECT with tracing: rows, and which SSTables were read or skipped and why."""
    query = request.POST.get("query", "") if request.method == "POST" else ""
    result = error = None
    if request.method == "POST":
        try:
            result = wide_inspect.run_select(_session(), query)
        except wide_inspect.ConsoleError as exc:
            error = str(exc)
        except Exception as exc:
            if is_store_error(exc) and not hasattr(exc, "code"):
                raise
            error = f"{type(exc).__name__}: {exc}"
    context = _context(request, "CQL console", query=query, result=result, error=error)
    return render(request, "admin/stores/wide/console.html", context)


ACTIONS = {
    "flush": ("Flush the memtable", "Write {table}'s memtable to a new SSTable now?"),
    "compact": ("Run a compaction", "Compact all of {table}'s SSTables into one now?"),
}


@superuser_required
@store_unavailable_as_503("WIDE_URL")
@require_http_methods(["GET", "POST"])
def action(request, keyspace: str, table: str, name: str):
    """Confirm (GET) and then run (POST) a flush or a compaction."""
    if name not in ACTIONS:
        raise Http404("No such action.")
    session = _session()
    info = _table(session, keyspace, table)
    engine = wide_inspect.storage_engine(session)
    label, question = ACTIONS[name]
    if engine is None:
        messages.error(request, f"{label} is for the embedded engine; on a cluster use nodetool.")
        return redirect("stores-staff:wide-table", keyspace=keyspace, table=table)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        context = _context(
            request,
            label,
            label=label,
            info=info,
            question=question.format(table=f"{keyspace}.{table}"),
        )
        return render(request, "admin/stores/wide/confirm.html", context)
    if name == "flush":
        engine.flush(keyspace, table)
        messages.success(request, f"Flushed {keyspace}.{table}.")
    else:
        engine.compact(keyspace, table)
        messages.success(request, f"Compacted {keyspace}.{table}.")
    return redirect("stores-staff:wide-table", keyspace=keyspace, table=table)
