"""The demo company as tables: generate the seven contract tables, write them with their settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from custfocus.data.settings import ASSESSMENT_FILE, VOICE_FILE
from custfocus.demo.assessment import assessment_toml
from custfocus.errors import InputError
from custfocus.demo.planted import (
    ACQUISITION_CHANNELS,
    AS_OF_METADATA_KEY,
    DEPARTMENTS,
    EVENT_KINDS,
    ORDER_CHANNELS,
    PLANTED,
    PRODUCTS,
    REGIONS,
    SEGMENTS,
    STORE,
    TABLE_NAMES,
)
from custfocus.demo.simulation import (
    _Calendar,
    _customer_ids,
    _Customers,
    _draw_customers,
    _draw_orders,
    _draw_purchases,
    _draw_service,
    _draw_staff_surveys,
    _draw_surveys,
    _Experiment,
    _ids,
    _labels,
    _Orders,
    _run_experiment,
    _Service,
)


def generate(customers: int = 20_000, seed: int = 7,
             as_of: date = PLANTED.default_as_of) -> dict[str, pa.Table]:
    """Simulate the demo company: the seven contract tables as Arrow tables (see the module doc)."""
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    # Seven streams, one per part, then the small department's (eighth) and the comments' wording (ninth):
    # spawned children depend only on their index, so adding them changed no other table.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    calendar = _Calendar(as_of, PLANTED.acquisition.history_days)
    people = _draw_customers(streams[0], customers, calendar)
    base = _draw_purchases(streams[1], people, calendar)
    experiment = _run_experiment(streams[2], people, base, calendar)
    orders = _draw_orders(streams[3], people, base, experiment)
    service = _draw_service(streams[4], people, orders, calendar)
    surveys = _draw_surveys(streams[5], people, orders, service, calendar, text_rng=streams[8])
    tables = {
        "transactions": _transactions_table(orders, service, calendar, customers),
        "customers": _customers_table(people, calendar),
        "responses": surveys,
        "service_events": _service_table(service, calendar, customers),
        "interventions": _interventions_table(experiment, orders, calendar, customers),
    }
    tables["employee_responses"], tables["internal_responses"] = _draw_staff_surveys(
        streams[6], streams[7], customers, calendar)
    stamp = {AS_OF_METADATA_KEY: as_of.isoformat().encode()}
    return {name: tables[name].replace_schema_metadata(stamp) for name in TABLE_NAMES}


# The themes the demo company tracks by name; voice discovers the others (quality, price, staff, ...).
DEMO_PINNED_THEMES = """[themes]
"late delivery" = ["late", "delay*", "on time", "waited", "waiting", "not arrived"]
"app problems" = ["app", "log in", "logging me out", "checkout"]
"""

# What a demo folder holds: its tables, settings, report and the rows a quarantined run set aside.
_DEMO_FILES = {f"{name}.{fmt}" for name in TABLE_NAMES for fmt in ("csv", "parquet")} | {
    "custfocus.toml", VOICE_FILE, ASSESSMENT_FILE, "report.html", "report.json", "rejected"}


def check_target(out_dir: Path, force: bool = False) -> None:
    """Refuse to write the demo over a folder that holds anything but an earlier demo (unless ``force``).

    An earlier demo is a folder holding only the demo's files, whose settings name the demo company.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"'{out_dir}' is a file; the demo needs a folder.")
    if force or not out_dir.exists():
        return
    present = sorted(p.name for p in out_dir.iterdir())
    settings = out_dir / "custfocus.toml"
    earlier_demo = (set(present) <= _DEMO_FILES and settings.is_file()
                    and f'name = "{PLANTED.company_name}"' in settings.read_text(encoding="utf-8", errors="replace"))
    if present and not earlier_demo:
        listed = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5 else "")
        raise InputError(f"'{out_dir}' already holds files the demo did not write ({listed}); choose another "
                         "--out, or add --force to overwrite them.")


def write(tables: dict[str, pa.Table], out_dir: Path, fmt: str = "csv", force: bool = False) -> dict[str, Path]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet`` plus ``custfocus.toml``, the pinned
    comment themes ``voice.toml`` and the self-assessment ``assessment.toml``.

    Returns the written paths by table name, and ``"settings"``, ``"voice"`` and ``"assessment"`` for
    the TOML files. The as_of date
    comes from the tables' metadata (set by :func:`generate`). A folder holding anything but an
    earlier demo is refused unless ``force`` (see :func:`check_target`).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    check_target(out_dir, force)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in tables.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            pa_csv.write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths[name] = path
    as_of = _as_of_of(tables)
    settings = out_dir / "custfocus.toml"
    settings.write_text(
        f'[company]\nname = "{PLANTED.company_name}"\ncurrency = "{PLANTED.currency}"\n'
        f'as_of = "{as_of.isoformat()}"\n', encoding="utf-8")
    paths["settings"] = settings
    paths["assessment"] = out_dir / ASSESSMENT_FILE
    paths["assessment"].write_text(assessment_toml(as_of.isoformat()), encoding="utf-8")
    paths["voice"] = out_dir / VOICE_FILE
    paths["voice"].write_text(DEMO_PINNED_THEMES, encoding="utf-8")
    return paths


def _transactions_table(orders: _Orders, service: _Service, calendar: _Calendar,
                        customers: int) -> pa.Table:
    order_ids = _ids("O", np.arange(len(orders.customer)), max(8, len(str(len(orders.customer)))))
    refunded = service.refund_order
    refund_ids = pc.binary_join_element_wise(order_ids.take(pa.array(refunded)), "-R", "")
    customer = np.concatenate([orders.customer, orders.customer[refunded]])
    day = np.concatenate([orders.day, service.refund_day])
    rows = np.lexsort((customer, day))
    return pa.table({
        "customer_id": _customer_ids(customer[rows], customers),
        "date": calendar.dates(day[rows]),
        "amount": np.concatenate([orders.amount, -orders.amount[refunded]])[rows],
        "order_id": pa.concat_arrays([order_ids, refund_ids]).take(pa.array(rows)),
        "cost": np.concatenate([orders.cost, np.zeros(len(refunded))])[rows],
        "channel": _labels(ORDER_CHANNELS, np.concatenate([orders.channel,
                                                           orders.channel[refunded]])[rows]),
        "product": _labels(PRODUCTS, np.concatenate([orders.product, orders.product[refunded]])[rows]),
    })


def _customers_table(people: _Customers, calendar: _Calendar) -> pa.Table:
    return pa.table({
        "customer_id": _customer_ids(np.arange(people.count), people.count),
        "acquired_at": calendar.dates(people.acquired),
        "channel": _labels(ACQUISITION_CHANNELS, people.channel),
        "acquisition_cost": people.acquisition_cost,
        "segment": _labels(SEGMENTS, people.segment),
        "region": _labels(REGIONS, people.region),
    })


def _service_table(service: _Service, calendar: _Calendar, customers: int) -> pa.Table:
    events = service.events
    return pa.table({
        "customer_id": _customer_ids(events.customer, customers),
        "date": calendar.dates(events.day),
        "kind": _labels(EVENT_KINDS, events.kind),
        "cost": events.cost,
        "resolution_hours": events.hours,
        "department": _labels(DEPARTMENTS, events.department),
    })


def _interventions_table(experiment: _Experiment, orders: _Orders, calendar: _Calendar,
                         customers: int) -> pa.Table:
    plan = PLANTED.experiment
    start = calendar.assignment_day
    fee_orders = (orders.day >= start) & (orders.channel != STORE)
    fees = np.bincount(orders.customer[fee_orders], minlength=customers)
    assigned = np.concatenate([experiment.treated, experiment.control])
    treated = np.repeat([True, False], [len(experiment.treated), len(experiment.control)])
    rows = np.argsort(assigned)
    assigned, treated = assigned[rows], treated[rows]
    return pa.table({
        "customer_id": _customer_ids(assigned, customers),
        "intervention": pa.array(np.full(len(assigned), plan.name)),
        "group": _labels(("treatment", "control"), np.where(treated, 0, 1)),
        "date": calendar.dates(np.full(len(assigned), start)),
        "cost": np.where(treated, np.round(plan.fee_per_order * fees[assigned], 2), 0.0),
    })


def _as_of_of(tables: dict[str, pa.Table]) -> date:
    for table in tables.values():
        stamp = (table.schema.metadata or {}).get(AS_OF_METADATA_KEY)
        if stamp:
            return date.fromisoformat(stamp.decode())
    raise ValueError("the tables carry no as_of date; pass tables made by generate()")
