"""`csdsl compile`: the checked policy as an artefact that runs without csdsl's compiler.

- `csdsl.codegen.python`: a standalone Python module (validate, timeline, check_transcript),
  built from `python_module` (safe constants and comments), `python_conditions` (validity
  conditions as code) and `python_ir` (the rest of the checked policy as constructor calls);
- `csdsl.codegen.sql`: validity conditions and metrics as SQL for DuckDB, Spark and PostgreSQL;
- `csdsl.codegen.jsonir`: the checked IR as JSON, described by `docs/ir.schema.json`.
"""
