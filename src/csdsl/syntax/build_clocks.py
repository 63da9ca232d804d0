"""lark parse tree -> AST: calendars, deadlines and escalations, the clock items.

One method per grammar rule, named after it; a part of `build.Builder`.
"""

from __future__ import annotations

from typing import Any

from lark import Token

from csdsl.syntax import ast
from csdsl.syntax.build_exprs import BuilderBase, named, tail_value


class ClockBuilder(BuilderBase):
    """The rules of calendars, deadlines and escalations."""

    # -- calendars ----------------------------------------------------------------------------
    def calendar_decl(self, c: list[Any]) -> ast.CalendarDecl:
        name, *stmts = named(c)
        return ast.CalendarDecl(self._ident(name), tuple(stmts), span=self._span(c))

    def cal_always(self, c: list[Any]) -> ast.CalAlways:
        return ast.CalAlways(span=self._span(c))

    def cal_open(self, c: list[Any]) -> ast.CalOpen:
        parts = named(c)
        days = tuple(p for p in parts if isinstance(p, ast.DayRange))
        hours = tuple(str(p) for p in parts if isinstance(p, Token) and p.type == "HOURS")
        return ast.CalOpen(days, hours, span=self._span(c))

    def day_range(self, c: list[Any]) -> ast.DayRange:
        first, *rest = named(c)
        last = tail_value(rest)
        return ast.DayRange(self._ident(first), self._ident(last) if last else None)

    def cal_timezone(self, c: list[Any]) -> ast.CalTimezone:
        return ast.CalTimezone(self._unescaped(named(c)[0]), span=self._span(c))

    def cal_holidays(self, c: list[Any]) -> ast.CalHolidays:
        return ast.CalHolidays(self._ident(named(c)[0]), span=self._span(c))

    def _dates(self, c: list[Any], working: bool) -> ast.CalDates:
        dates = tuple(d for d in (self._date(t) for t in named(c)) if d is not None)
        return ast.CalDates(working, dates, span=self._span(c))

    def cal_closed(self, c: list[Any]) -> ast.CalDates:
        return self._dates(c, False)

    def cal_working(self, c: list[Any]) -> ast.CalDates:
        return self._dates(c, True)

    # -- deadlines ----------------------------------------------------------------------------
    def deadline_decl(self, c: list[Any]) -> ast.DeadlineDecl:
        name, wording, record, *stmts = named(c)
        return ast.DeadlineDecl(
            self._ident(name),
            self._ident(record),
            tuple(stmts),
            span=self._span(c),
            wording=self._unescaped(wording) if wording else None,
        )

    def dl_start_field(self, c: list[Any]) -> ast.DlStart:
        return ast.DlStart(self._ident(named(c)[0]), None, span=self._span(c))

    def dl_start_event(self, c: list[Any]) -> ast.DlStart:
        return ast.DlStart(None, self._ident(named(c)[0]), span=self._span(c))

    def dl_stop(self, c: list[Any]) -> ast.DlStop:
        return ast.DlStop(self._ident(named(c)[0]), span=self._span(c))

    def dl_pause(self, c: list[Any]) -> ast.DlPause:
        pause, resume, *rest = named(c)
        reason = tail_value(rest)
        return ast.DlPause(
            self._ident(pause),
            self._ident(resume),
            self._unescaped(reason) if reason else None,
            span=self._span(c),
        )

    def dl_target(self, c: list[Any]) -> ast.DlTarget:
        time, *rest = named(c)
        return ast.DlTarget(time, tail_value(rest), span=self._span(c))

    def dl_target_for(self, c: list[Any]) -> ast.DlTarget:
        return self._field_target(c, by=False)

    def dl_target_by(self, c: list[Any]) -> ast.DlTarget:
        return self._field_target(c, by=True)

    def _field_target(self, c: list[Any], by: bool) -> ast.DlTarget:
        field, *rest = named(c)
        about = next((t for t in rest if isinstance(t, Token) and t.type == "STRING"), None)
        when = next((x for x in rest if x is not None and not isinstance(x, Token)), None)
        due = ast.FieldDue(self._ident(field), by, self._unescaped(about) if about else None)
        return ast.DlTarget(
            ast.TimeSpec(due, None, span=self._span([field, about])), when, span=self._span(c)
        )

    def dl_default(self, c: list[Any]) -> ast.DlTarget:
        return ast.DlTarget(named(c)[0], None, True, span=self._span(c))

    def dl_cap(self, c: list[Any]) -> ast.DlCap:
        return ast.DlCap(named(c)[0], span=self._span(c))

    def dl_warn_pct(self, c: list[Any]) -> ast.DlWarn:
        return ast.DlWarn(percent=self.percent(named(c)), span=self._span(c))

    def dl_warn_lead(self, c: list[Any]) -> ast.DlWarn:
        return ast.DlWarn(lead=self.duration(named(c)), span=self._span(c))

    def dl_update(self, c: list[Any]) -> ast.DlUpdate:
        every, event = named(c)
        return ast.DlUpdate(every, self._ident(event), span=self._span(c))

    def dl_reopen(self, c: list[Any]) -> ast.DlReopen:
        event, *rest = named(c)
        mode, until = tail_value(rest, tuple), tail_value(rest, Token)
        return ast.DlReopen(
            self._ident(event),
            mode[0] if mode else "new",
            self._ident(until) if until else None,
            span=self._span(c),
        )

    def new_cycle(self, c: list[Token]) -> tuple[str, Token]:
        return ("new", c[0])

    def continue_cycle(self, c: list[Token]) -> tuple[str, Token]:
        return ("continue", c[0])

    def dl_calendar(self, c: list[Any]) -> ast.DlCalendar:
        return ast.DlCalendar(self._ident(named(c)[0]), span=self._span(c))

    def time_spec(self, c: list[Any]) -> ast.TimeSpec:
        amount, *rest = named(c)
        calendar = tail_value(rest)
        return ast.TimeSpec(
            amount[0], self._ident(calendar) if calendar else None, span=self._span(c)
        )

    # amounts travel with their tokens so that the time spec's span can be computed
    def natural(self, c: list[Token]) -> tuple[ast.Natural, Token]:
        return (ast.Natural(self.duration(c)), c[0])

    def working(self, c: list[Token]) -> tuple[ast.Working, Token, Token]:
        number, _, unit = c
        if "." in str(number):
            self._bad(
                number,
                f"`{number} working {unit}`: working time is counted in whole units",
                "write e.g. `90 working minutes` for an hour and a half",
                code="E112",
            )
        value = self._numeric(number, str(number))
        return (ast.Working(int(value), self._ident(unit)), number, unit)

    def by_next_day(self, c: list[Token]) -> tuple[ast.ByNextDay, Token, Token]:
        clock = next(t for t in c if t.type == "CLOCK")
        return (ast.ByNextDay(str(clock)), c[0], c[-1])

    # -- escalation ---------------------------------------------------------------------------
    def escalation_decl(self, c: list[Any]) -> ast.EscalationDecl:
        name, record, *stmts = named(c)
        return ast.EscalationDecl(
            self._ident(name), self._ident(record), tuple(stmts), span=self._span(c)
        )

    def esc_roles(self, c: list[Any]) -> ast.EsRoles:
        return ast.EsRoles(tuple(self._ident(t) for t in named(c)), span=self._span(c))

    def esc_step(self, c: list[Any]) -> ast.EsStep:
        source, target, (kind, ref, after, _), *rest = named(c)
        within = tail_value(rest)
        return ast.EsStep(
            self._ident(source), self._ident(target), kind, ref, after, within, span=self._span(c)
        )

    def on_breach(self, c: list[Any]) -> tuple[str, ast.Ident, None, Token]:
        return ("breach", self._ident(named(c)[0]), None, c[-1])

    def on_event(self, c: list[Any]) -> tuple[str, ast.Ident, None, Token]:
        return ("event", self._ident(named(c)[0]), None, c[-1])

    def after(self, c: list[Any]) -> tuple[str, None, ast.TimeSpec, Token]:
        return ("after", None, named(c)[0], c[0])
