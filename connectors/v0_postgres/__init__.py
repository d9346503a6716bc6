"""CocoIndex v0's built-in ``targets.Postgres``: a PostgreSQL table laid out as v0 lays it, with
pgvector for vector fields. ``cocoindex.targets.Postgres`` (and the old ``cocoindex.storages``)
resolve here. Install the driver with ``pip install 'cocotui[postgres]'``.

- **Where**: the table is ``table_name`` or, by default, ``<flow>__<target>`` (each character
  that is not a letter, digit or underscore becomes ``__``; the app namespace, when set, comes
  first), written unquoted as v0 writes it, so PostgreSQL folds it to lower case. ``schema`` is
  created when missing (it requires an explicit ``table_name``, as in v0). The database is the
  :class:`~cocotui.setting.DatabaseConnectionSpec` that ``database`` references in the auth
  registry, else ``COCOINDEX_DATABASE_URL`` (with ``COCOINDEX_DATABASE_USER`` / ``_PASSWORD``).
  The persistent key holds the auth entry's key, the schema and the table name: no password is
  stored, and every message masks it.
- **Columns**: one per key and value field, typed from the field's type (``text``, ``bigint``,
  ``double precision``, ``real``, ``boolean``, ``bytea``, ``uuid``, ``date``, ``time``,
  ``timestamp``, ``timestamp with time zone``, ``interval``, ``int8range``, ``jsonb`` for JSON,
  structs, tables and unions, ``vector(N)`` for a vector of numbers of fixed size N, or
  ``halfvec(N)`` with ``column_options={"f": PostgresColumnOptions(type="halfvec")}``). Key
  columns are ``NOT NULL`` and the primary key.
- **Indexes**: each ``VectorIndexDef`` is an HNSW (default) or IVFFlat index with the metric's
  operator class (``vector_cosine_ops``, ``vector_l2_ops``, ``vector_ip_ops``), named
  ``<table>__<field>__<opclass>[__<method>]``. Full-text indexes are refused, as in v0.
- **Changes**, as v0 applies them: a new or re-typed value column is dropped and added (its rows
  are exported again), a removed one dropped; other key columns or key types re-create the table
  (``NOT_COMPATIBLE``); changed indexes are dropped and created. Each setup call is one
  transaction that converges on the desired table from the catalog, hence idempotent.
- **Rows**: ``mutate`` checks every value first (a vector of the wrong size is an error naming
  the row and field, before anything is sent), then runs all upserts and then all deletes in one
  transaction per database.
"""

from .connector import PostgresConnector
from .spec import Postgres, PostgresColumnOptions

__all__ = ["Postgres", "PostgresColumnOptions", "PostgresConnector"]
