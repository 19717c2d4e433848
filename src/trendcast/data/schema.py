"""The input contract: which columns each source has, their types and the keys that make a row unique.

This is the single place the contract is written down; ingest validates against it, the
warehouse creates its tables from it and the README documents it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical column types. Ingest checks values against them; DuckDB types follow from them.
DUCK_TYPES = {
    "str": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "float": "DOUBLE",
    "flag": "TINYINT",
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
    doc="Units sold per item (and store) per day.",
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
        Column("timestamp", "timestamp", True, "when it happened (ISO 8601)"),
        Column("event", "str", True, "view, cart or purchase", choices=("view", "cart", "purchase")),
    ),
    keys=("user_token", "item_id", "timestamp", "event"),
    stored_as={"user_id": "user_token"},
)

TEXTS = Source(
    name="texts",
    table="texts",
    doc="Dated text: reviews, social posts, news. Chinese and English.",
    columns=(
        Column("date", "date", True, "publication day"),
        Column("text", "str", True, "the text itself"),
        Column("item_id", "str", False, "product it is about, if known"),
        Column("source", "str", False, "review, social, news, ..."),
        Column("rating", "float", False, "star rating, if a review"),
        Column("lang", "str", False, "zh or en; detected when absent"),
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

SOURCES: dict[str, Source] = {s.name: s for s in (SALES, PRODUCTS, EVENTS, TEXTS, INVENTORY)}
