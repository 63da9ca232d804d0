"""The abstract syntax tree of a `.csp` file.

In: nothing (plain data).  Out: frozen, slotted attrs nodes.  Every node carries a `span` that is
left out of equality, so tests compare structure, not positions.  Literal nodes keep the text the
author wrote (also out of equality) so that the formatter can print `48h` as `48h`, not `2d`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal as TLiteral
from typing import TypeAlias

import attrs

from csdsl.source import Span

_NOWHERE = Span.unknown()


def _span() -> Span:
    return attrs.field(default=_NOWHERE, eq=False, repr=False)


def _text() -> str | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Ident:
    """A name as written, with its own span (for diagnostics that point at the name)."""

    name: str
    span: Span = _span()


# ---- expressions ---------------------------------------------------------------------------


@attrs.frozen
class Name:
    id: str
    span: Span = _span()


@attrs.frozen
class Number:
    value: int | float
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class Percent:
    """`85%`: `value` is 85; it means 0.85."""

    value: int | float
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class Duration:
    seconds: int
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class DateLit:
    value: dt.date
    span: Span = _span()


@attrs.frozen
class DateTimeLit:
    """A datetime literal; naive ones are in the policy's time zone."""

    value: dt.datetime
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class String:
    value: str
    span: Span = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


@attrs.frozen
class Missing:
    """`missing` as a value in an example record."""

    span: Span = _span()


@attrs.frozen
class Neg:
    operand: Expr
    span: Span = _span()


ArithOp: TypeAlias = TLiteral["+", "-", "*", "/"]
CompareOp: TypeAlias = TLiteral["=", "!=", "<", "<=", ">", ">="]


@attrs.frozen
class BinOp:
    op: ArithOp
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class And:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Or:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class IsSet:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class IsMissing:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    span: Span = _span()


@attrs.frozen
class Contains:
    left: Expr
    right: Expr
    span: Span = _span()


Literal: TypeAlias = Number | Percent | Duration | DateLit | DateTimeLit | String | Bool
Expr: TypeAlias = (
    Literal | Name | Neg | BinOp | Compare | And | Or | Not | IsSet | IsMissing | InList | Contains
)
Value: TypeAlias = Literal | Name | Missing | Neg

# ---- declarations --------------------------------------------------------------------------


@attrs.frozen
class Header:
    name: str
    version: str | None = None
    effective: dt.date | None = None
    timezone: str | None = None
    span: Span = _span()
    timezone_span: Span = _span()


@attrs.frozen
class Import:
    path: str
    span: Span = _span()


@attrs.frozen
class SimpleType:
    name: Ident
    span: Span = _span()


@attrs.frozen
class EnumType:
    values: tuple[Ident, ...]
    span: Span = _span()


TypeRef: TypeAlias = SimpleType | EnumType


@attrs.frozen
class FieldDecl:
    name: Ident
    type: TypeRef
    optional: bool = False
    span: Span = _span()


@attrs.frozen
class RecordDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class Condition:
    id: Ident
    wording: str | None
    expr: Expr
    span: Span = _span()


@attrs.frozen
class Validity:
    record: Ident
    quantifier: TLiteral["any", "all"]
    conditions: tuple[Condition, ...]
    exceptions: tuple[Condition, ...] | None = None
    span: Span = _span()
    unless_span: Span = _span()  # where `unless {` stands, for the formatter


@attrs.frozen
class FieldValue:
    name: Ident
    value: Value
    span: Span = _span()


@attrs.frozen
class Example:
    id: Ident | None
    title: str
    given: Ident  # a record type, or with `base=True` another example's id
    base: bool
    fields: tuple[FieldValue, ...]
    expect_valid: bool
    because: tuple[Ident, ...] | None = None
    span: Span = _span()
    given_span: Span = _span()
    expect_span: Span = _span()


Item: TypeAlias = Import | RecordDecl | Validity | Example


@attrs.frozen
class Comment:
    text: str
    span: Span = _span()


@attrs.frozen
class Module:
    header: Header | None
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span = _span()
