"""`csdsl compile`: the checked policy as an artefact that runs without csdsl's compiler.

- `csdsl.codegen.python`: a standalone Python module (validate, timeline, check_transcript);
- `csdsl.codegen.sql`: validity conditions and metrics as SQL for DuckDB, Spark and PostgreSQL;
- `csdsl.codegen.jsonir`: the checked IR as JSON, described by `docs/ir.schema.json`.
"""
