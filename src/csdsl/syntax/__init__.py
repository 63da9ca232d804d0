"""Syntax: `.csp` text -> lark tree -> AST, the formatter, and syntax diagnostics."""
