"""The input contract: which columns each source has, their types and the keys that make a row unique.

This is the single place the contract is written down; ingest validates against it, the
warehouse creates its tables from it and the README documents it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

# Logical column types. Ingest checks values against them; DuckDB types follow from them.
DUCK_TYPES = {
    "str": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "float": "DOUBLE",
    "flag": "TINYINT",
    "number": "DOUBLE",  # a covariate value: a number, TRUE/FALSE (1/0), or NA/empty for none
}

NO_STORE = ""  # store_id stored for sales without a store column: one series per item


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # key of DUCK_TYPES
    required: bool = False
    doc: str = ""
    non_negative: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One input source and the warehouse table it lands in."""

    name: str
    table: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    doc: str = ""
    stored_as: dict[str, str] = field(default_factory=dict)  # input column -> stored column

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SALES = Source(
    name="sales",
    table="sales",
    doc="Units sold per item (and store) per day. An order export (many lines per item and day) is summed per "
        "day when it has an `order_id` column or is loaded with `--orders`.",
    columns=(
        Column("item_id", "str", True, "product identifier"),
        Column("date", "date", True, "day of sale (YYYY-MM-DD)"),
        Column("units", "float", True, "units sold that day, >= 0", non_negative=True),
        Column("store_id", "str", False, "store or channel; a series is (store_id, item_id)"),
        Column("price", "float", False, "unit selling price that day", non_negative=True),
        Column("promo", "flag", False, "1 when the item was on promotion, else 0"),
        Column("revenue", "float", False, "money taken that day"),
    ),
    keys=("store_id", "item_id", "date"),
)

PRODUCTS = Source(
    name="products",
    table="products",
    doc="The product catalogue.",
    columns=(
        Column("item_id", "str", True, "product identifier"),
        Column("category", "str", True, "category used for the hierarchy and pooling"),
        Column("title", "str", False, "product title"),
        Column("description", "str", False, "product description"),
        Column("brand", "str", False, "brand name"),
        Column("launch_date", "date", False, "first day on sale"),
        Column("unit_cost", "float", False, "purchase cost per unit", non_negative=True),
    ),
    keys=("item_id",),
)

EVENTS = Source(
    name="events",
    table="events",
    doc="User behaviour: views, add-to-carts and purchases. user_id is pseudonymised on ingest.",
    columns=(
        Column("user_id", "str", True, "shopper id; stored only as a keyed hash (user_token)"),
        Column("item_id", "str", True, "product identifier"),
        Column("timestamp", "timestamp", True, "when it happened (ISO 8601, or Unix seconds / milliseconds)"),
        Column("event", "str", True, "view, cart or purchase (also pv, add_to_cart, buy, order, ...)",
               choices=("view", "cart", "purchase")),
    ),
    keys=("user_token", "item_id", "timestamp", "event"),
    stored_as={"user_id": "user_token"},
)

TEXTS = Source(
    name="texts",
    table="texts",
    doc="Dated text: reviews, social posts, news; Chinese, English and other languages.",
    columns=(
        Column("date", "date", True, "publication day"),
        Column("text", "str", True, "the text itself"),
        Column("item_id", "str", False, "product it is about, if known"),
        Column("source", "str", False, "review, social, news, ..."),
        Column("rating", "float", False, "star rating, if a review"),
        Column("lang", "str", False, "zh, en or another ISO 639-1 code (es, ja...); detected when absent"),
    ),
    # A text has no natural key: text_id is a hash of (date, item_id, source, text).
    keys=("text_id",),
)

INVENTORY = Source(
    name="inventory",
    table="inventory",
    doc="Optional stock on hand per item and store.",
    columns=(
        Column("item_id", "str", True, "product identifier"),
        Column("date", "date", True, "day the count refers to"),
        Column("on_hand", "float", True, "units in stock", non_negative=True),
        Column("store_id", "str", False, "store"),
    ),
    keys=("store_id", "item_id", "date"),
)

COVARIATES = Source(
    name="covariates",
    table="covariates",
    doc="Optional external drivers per day (or week/month): weather, CPI, fuel price, markdowns, "
        "ad spend, your own holidays. Every other column is a numeric covariate named after its "
        "column (TRUE/FALSE count as 1/0; empty or NA means no value).",
    columns=(
        Column("date", "date", True, "day (or period label) the values refer to"),
        Column("store_id", "str", False, "store the values apply to; empty = every store"),
        Column("item_id", "str", False, "item the values apply to; empty = every item"),
    ),
    keys=("store_id", "item_id", "date"),
)
# Covariate columns can have any name: stored long (one row per value) so no name becomes SQL.
COVARIATES_DDL = """CREATE TABLE IF NOT EXISTS covariates (
    store_id VARCHAR NOT NULL DEFAULT '', item_id VARCHAR NOT NULL DEFAULT '', date DATE NOT NULL,
    name VARCHAR NOT NULL, value DOUBLE, PRIMARY KEY (store_id, item_id, date, name))"""
COVARIATE_NAME = re.compile(r"^\w{1,64}$")  # letters (any script), digits, underscore


def covariates_source(columns: list[str]) -> Source:
    """The covariates contract widened with one ``number`` column per extra input column.

    Raises :class:`InputError` when a name cannot be a covariate or there are no value columns.
    """
    from trendcast.errors import InputError

    keys = {c.name for c in COVARIATES.columns}
    values = [c for c in columns if c.strip().lower() not in keys]
    bad = [c for c in values if not COVARIATE_NAME.match(c.strip())]
    if bad:
        raise InputError(f"covariate column name {bad[0]!r} must be 1-64 letters, digits or _ "
                         "(rename it in the file)", column=bad[0])
    if not values:
        raise InputError("a covariates file needs at least one value column besides date, "
                         "store_id and item_id")
    extra = tuple(Column(c.strip(), "number", False, "covariate") for c in values)
    return Source(COVARIATES.name, COVARIATES.table, (*COVARIATES.columns, *extra), COVARIATES.keys,
                  COVARIATES.doc)


# Sales given as order lines (summed per item, store and day on load): a return is a line with
# negative units, netted against that day's sales.
SALES_LINES = replace(SALES, columns=tuple(
    replace(c, non_negative=False, doc="units on the order line; a return is negative") if c.name == "units" else c
    for c in SALES.columns))

SOURCES: dict[str, Source] = {s.name: s for s in (SALES, PRODUCTS, EVENTS, TEXTS, INVENTORY, COVARIATES)}
