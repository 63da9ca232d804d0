"""The SQL backend: what the DuckDB engine, the Spark engine and `compile --target sql` share
(`build`: sqlglot building blocks; `zones`: UTC offsets a query may take as constants)."""
