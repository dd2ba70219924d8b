"""The adjac command: the only module that reads the command line, prints, or exits.

Exit status: 0 results printed; 1 results printed but something is not finite, or
--check found a disagreement; 2 the command line or the expression is wrong (nothing computed);
74 an output could not be written; 128 + N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from . import __version__, limits, sources
from . import run as loop
from .core.ad import Mode, choose_mode
from .core.colour import MODES
from .core.engine import available as engine_available
from .core.graph import Graph, listing
from .core.parse import NAME, parse, spelled
from .errors import (
    AdjacError,
    ExitStatus,
    Interrupted,
    ParseError,
    PointsError,
    RenderError,
    SymbolicUnavailable,
    UsageError,
    WriteError,
)
from .outputs import files, open_sink
from .outputs.sink import Discard, Sink, Style, styled
from .plusminus import compact_pm, measured, standard_uncertainty
from .points import Points, PointSpec, decimal, resolve, separated
from .points import fields as split

if TYPE_CHECKING:
    from .uncertainty import Coverage

EXAMPLES = """\b
Examples:
  adjac "x1*x2 + sin(x1), exp(x1-x2)" --at 1,2
  adjac "x1*x2 + sin(x1), exp(x1-x2)" --at 1,2 --mode reverse
  adjac "f(x, y) = x^2*y" --at x=3,y=-1 --format json
  adjac "x1*x2 + x1*x3, ln(x1+x2)" --at 1,2,3 --seed 1,0,0
  adjac "-x^2" --at 3 --at 4 --format csv
  echo "sin(x)^2 + cos(x)^2" | adjac - --at 0.5
  adjac "sin(x1) + x1*x2, exp(x1-x2)" --at 1,2 --graph-out graph.svg
  adjac "sin(x1) + x1*x2, exp(x1-x2)" --at 1,2 --trace --latex-standalone > jacobian.tex
"""


class Point(click.ParamType):
    """``1,2`` (values in input order) or ``x1=1,x2=2`` (by name)."""

    name = "point"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> PointSpec:
        if isinstance(value, PointSpec):
            return value
        text = compact_pm(str(value))            # "1.000 ± 0.002": one field, not two words
        fields = split(text)
        if text.strip() == "":
            self.fail("the point is empty; give values such as 1,2 or x1=1,x2=2", param, ctx)
        if len(fields) > 1 and fields[-1].strip() == "":
            self.fail(f"{text!r} ends with a comma; give one value per input, such as 1,2", param, ctx)
        wrong = separated(text, "values")
        if wrong:
            self.fail(wrong, param, ctx)
        named = ["=" in f for f in fields]
        try:
            if not any(named):
                return _measured(text, [measured(f, f"in {text!r}", decimal) for f in fields], None)
            if not all(named):
                self.fail(f"{text!r} mixes values by position and by name; use one style", param, ctx)
            names, pairs = [], []
            for f in fields:
                name, _, v = f.partition("=")
                name = spelled(name.strip())                 # x₁=2 names x1, as in the expression
                if not name:
                    self.fail(f"in {text!r}: a name is missing before '='; write x1=1,x2=2", param, ctx)
                if not NAME.match(name):
                    self.fail(f"{name!r} in {text!r} is not an input name", param, ctx)
                if name in names:
                    self.fail(f"{name} is given twice in {text!r}", param, ctx)
                names.append(name)
                if not v.strip():
                    self.fail(f"in {text!r}: {name} has an empty value after '='; write {name}=1.5", param, ctx)
                pairs.append(measured(v, f"{name} in {text!r}", decimal))
            return _measured(text, pairs, tuple(names))
        except ValueError as err:
            self.fail(str(err), param, ctx)


def _measured(text: str, pairs: list[tuple[float, float | None]], names: tuple[str, ...] | None) -> PointSpec:
    """The PointSpec of values, some written value±u (then every value carries its u, None if none)."""
    us = tuple(u for _, u in pairs)
    return PointSpec(text, tuple(v for v, _ in pairs), names, us if any(u is not None for u in us) else None)


class Uncertainties(Point):
    """--u: standard uncertainties ``0.002,0.004`` in input order or ``L=0.002`` by name; or, without
    a point, the names of the uncertain inputs (``L,T``) for u_c as a formula (values: empty)."""

    name = "uncertainties"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> PointSpec:
        if isinstance(value, PointSpec):
            return value
        names = [f.strip() for f in str(value).split(",")]
        if all(NAME.match(name) for name in names) and not any(_is_number(name) for name in names):
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                self.fail(f"{', '.join(duplicates)} is listed twice", param, ctx)
            return PointSpec(str(value), (), tuple(names))
        spec = super().convert(value, param, ctx)
        if spec.uncertainties is not None:
            self.fail(f"{spec.text!r}: --u lists standard uncertainties only, such as 0.002,0.004; "
                      "a value±u goes in --at", param, ctx)
        try:
            for v in spec.values:
                standard_uncertainty(v, f"in {spec.text!r}")
        except ValueError as err:
            self.fail(str(err), param, ctx)
        return spec


def _is_number(text: str) -> bool:
    try:
        decimal(text, "")
    except ValueError:
        return False
    return True


class CoverageFactor(click.ParamType):
    """--coverage: a factor k (2) or a level (95%)."""

    name = "k"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Coverage:
        from .uncertainty import Coverage, coverage  # loaded when there are uncertainties

        if isinstance(value, Coverage):
            return value
        try:
            return coverage(str(value))
        except ValueError as err:
            self.fail(str(err), param, ctx)


class Vector(click.ParamType):
    """A comma-separated list of finite numbers, such as a seed ``1,0``."""

    name = "vector"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        text = str(value)
        if text.strip() == "" or (text.count(",") and text.split(",")[-1].strip() == ""):
            self.fail(f"{text!r} is not a list of numbers such as 1,0", param, ctx)
        wrong = separated(text, "values")
        if wrong:
            self.fail(wrong, param, ctx)
        if "=" in text:
            self.fail(f"{text!r} names its entries; a seed is a list of numbers in input order (forward mode) "
                      "or output order (reverse mode), such as 1,0", param, ctx)
        try:
            return tuple(decimal(f, f"in {text!r}") for f in split(text))
        except ValueError as err:
            self.fail(str(err), param, ctx)


class Names(click.ParamType):
    """A comma-separated list of distinct input names, such as ``x2,x1``."""

    name = "names"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        wrong = separated(str(value), "names")
        if wrong:
            self.fail(wrong, param, ctx)
        names = [spelled(s.strip()) for s in str(value).split(",")]
        if len(names) > 1 and not names[-1]:
            self.fail(f"{str(value)!r} ends with a comma; list the input names, such as x2,x1", param, ctx)
        if "" in names:
            self.fail(f"{str(value)!r} has an empty name between two commas; list the input names, such as x2,x1",
                      param, ctx)
        for name in names:
            if not NAME.match(name):
                self.fail(f"{name!r} is not an input name (letters, digits and _, not starting with a digit)", param, ctx)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            self.fail(f"{', '.join(duplicates)} is listed twice", param, ctx)
        return tuple(names)


class Command(click.Command):
    """Accept an expression that starts with a minus sign: ``adjac "-x^2" --at 3``.

    A word that starts with '-' but is no option of ours is moved behind '--', so
    click takes it as the EXPRESSION; option values (``--at -1,2``) are left alone.
    A short option with its value attached (``-omega^2*x``) is the expression when the
    value looks like a formula (see ``_formula``); with another expression beside it,
    it is an error rather than a file named ``mega^2*x``.  Stray words get a message
    that says what they look like (``adjac "x*y" 1,2``: write ``--at 1,2``).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued: set[str] = set()
        flags: set[str] = set()
        lists: set[str] = set()                          # --at, --seed, --vars: comma-separated values
        for param in self.params:
            if isinstance(param, click.Option):
                (flags if param.is_flag or param.count else valued).update(param.opts + param.secondary_opts)
                if isinstance(param.type, (Point, Vector, Names)):
                    lists.update(param.opts)
        flags.update(ctx.help_option_names)
        named = {opt for param in self.params if isinstance(param, click.Option) and param.name in FILES
                 for opt in param.opts}                   # options whose value is a file name
        dashed = False                                   # the words after '--' are all positional
        moved: list[str] = []
        kept: list[str] = []
        positional = False
        attached: str | None = None                      # e.g. -omega, taken as -o mega
        formula: str | None = None                       # e.g. -omega^2*x, taken as the expression
        follows: dict[str, tuple[str, str]] = {}         # a word right after a list value: (option, value)
        listed: tuple[str, str] | None = None            # the list option whose value was the last word
        it = iter(args)
        for word in it:
            after, listed = listed, None
            if word == "--":
                kept.append(word)
                kept.extend(it)
                dashed = True
                break
            if word in valued:
                kept.append(word)
                nxt = next(it, None)
                if word in named and nxt is not None:
                    _file_name(word, nxt, valued | flags, ctx)
                if nxt is not None:
                    kept.append(nxt)
                    listed = (word, nxt) if word in lists else None
                continue
            option = word.split("=", 1)[0]
            if option in named and word.startswith("--") and "=" in word:
                _file_name(option, word.split("=", 1)[1], valued | flags, ctx)
            elif word[:2] in named and len(word) > 2 and not word.startswith("--"):
                _file_name(word[:2], word[2:], valued | flags, ctx)
            if word.startswith("--") and option in lists and "=" in word:
                listed = (option, word.split("=", 1)[1])
            short = word.startswith("-") and len(word) > 2 and not word.startswith("--") and word[:2] in valued
            if not short and FLAG.fullmatch(word) and option not in flags and not ctx.resilient_parsing:
                raise _unknown_flag(word, ctx)             # -V, -v, -help: a mistyped option, not the expression
            if short and option not in valued and _formula(word):
                formula = word                             # -omega^2*x: the expression, not -o mega^2*x
                moved.append(word)
                continue
            if short and option not in valued:
                attached = word
            elif (word.startswith("-") and len(word) > 1 and not word.startswith("--") and not moved
                    and not positional and option not in flags and option not in valued):
                moved.append(word)                         # the expression, e.g. -x^2
                continue
            if after is not None and not word.startswith("-"):
                follows[word] = after
            positional = positional or not word.startswith("-") or word == "-"
            kept.append(word)
        if moved:
            kept = kept + ([] if "--" in kept else ["--"]) + moved
        allow, ctx.allow_extra_args = ctx.allow_extra_args, True
        try:
            rest = super().parse_args(ctx, kept)
            if ctx.params.get("expression") is None and ctx.params.get("program") is None and not ctx.resilient_parsing:
                raise click.MissingParameter("Give the function as text, such as \"x1*x2 + sin(x1)\", or a program "
                                             "with --file PATH.", ctx, next(p for p in self.params if p.name == "expression"))
        except click.MissingParameter as err:
            if attached is not None and err.param is not None and err.param.name == "expression":
                raise click.MissingParameter(
                    f"{attached!r} was read as -o {attached[2:]!r}, the output file; an expression that starts "
                    f"with a minus goes after --: adjac [OPTIONS] -- {attached!r}", ctx, err.param) from None
            raise
        except click.BadParameter as err:
            opts = err.param.opts if err.param is not None else []
            split = [(option, value, word) for word, (option, value) in follows.items()
                     if value.endswith(",") and option in opts]
            if split:
                option, value, word = split[0]
                raise click.BadParameter(f"{err.message} (a space after a comma splits the value in two words: "
                                         f"write {option} {value}{word}, or quote it)", ctx, err.param) from None
            raise
        finally:
            ctx.allow_extra_args = allow
        if rest and formula is not None and not ctx.resilient_parsing:
            raise click.UsageError(
                f"{formula!r} looks like an expression that starts with a minus, but an expression is also given; "
                f"to write to a file, use --output FILE (or -o FILE, with a space); to compute {formula}, "
                f"put it after --: adjac [OPTIONS] -- {formula!r}", ctx)
        if rest and not ctx.resilient_parsing:
            raise click.UsageError(_stray(ctx.params.get("expression"), rest, follows,
                                          valued | flags if dashed else set()), ctx)
        if (ctx.params.get("expression") == "help" and not dashed and not ctx.params.get("points")
                and ctx.params.get("points_file") is None and not ctx.resilient_parsing):
            raise click.UsageError("'help' alone is read as an expression in a variable named help; for the options "
                                   "and examples, run adjac --help (to differentiate help itself, give a point, "
                                   "adjac help --at 1, or put it after --: adjac -- help)", ctx)
        return rest

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """One run inside ``files.Guard``: files written whole when it completes, else left as
        they were; a signal or a failed write ends it with a message and its own exit status."""
        guard = files.Guard()
        try:
            with guard:
                return super().main(*args, **kwargs)
        except SystemExit as done:
            for path in guard.lost if done.code not in files.COMPLETED else []:
                click.echo(f"adjac: {path} was not written", err=True)
            raise
        except Interrupted as err:
            click.echo(f"adjac: {_interrupted(err)}", err=True)
            sys.exit(err.status)
        except WriteError as err:
            if err.name == files.STDOUT:
                files.silence_stdout()
            if err.errno == errno.EPIPE and err.name == files.STDOUT:    # the reader went away, as for cat
                sys.exit(ExitStatus.SIGNAL + PIPE)
            click.echo(f"adjac: {err}", err=True)
            sys.exit(ExitStatus.WRITE_FAILED)

    def invoke(self, ctx: click.Context) -> Any:
        """The command inside the one boundary where errors become messages and statuses.

        An ``AdjacError`` is something the user can fix: a usage error (exit 2) blaming its
        option, or the whole command line.  These come after the command line parsed (a bad
        expression or point, a size refusal, a conflict), so they are raised without the
        context: the message with its caret and hint, not click's two-line "Usage: ... Try
        'adjac --help'" banner, which stays for the mistakes click finds while parsing.  MemoryError is a message too (exit 2: no complete
        result; the fix is a smaller input), made after the except block, once the traceback,
        and with it the arrays of the failed run, has been let go.  Anything else is a bug,
        and shows as one.
        """
        try:
            return super().invoke(ctx)
        except UsageError as err:            # no context: no "Usage: ... Try 'adjac --help'" banner (see above)
            if err.option is None:
                raise click.UsageError(err.message) from None
            raise click.BadParameter(err.message, param_hint=f"'{err.option}'") from None
        except PointsError as err:
            raise click.BadParameter(str(err), param_hint="'--points'") from None
        except (SymbolicUnavailable, RenderError) as err:
            raise Unavailable(str(err)) if isinstance(err, SymbolicUnavailable) else click.UsageError(str(err)) from None
        except AdjacError as err:
            raise click.UsageError(str(err)) from None
        except MemoryError:
            pass
        raise OutOfMemory("out of memory: the input needs more memory than this machine has (README: Limits); "
                          "give fewer outputs or inputs, --seed for one product J·v or vᵀ·J, or fewer points "
                          "at a time; any output already written is incomplete")


FLAG = re.compile(r"-[A-Za-z_][A-Za-z0-9_]*")         # a word that looks like a short option: -V, -help


def _unknown_flag(word: str, ctx: click.Context) -> click.NoSuchOption:
    """-V is no option of adjac: say so (with the long options it may stand for) and how to write an
    expression that starts with a minus."""
    longs = sorted({opt for param in ctx.command.get_params(ctx) for opt in param.opts + param.secondary_opts
                    if opt.startswith("--") and opt[2:].lower().startswith(word[1:].lower())})
    mean = f" (did you mean {' or '.join(longs)}?)" if longs else ""
    return click.NoSuchOption(word, f"No such option: {word}{mean}; an expression that starts with a minus goes "
                                    f"after --: adjac [OPTIONS] -- {_shell(word)}", ctx=ctx)


def _formula(word: str) -> bool:
    """Whether -oVALUE is rather an expression: VALUE has a character of a formula that file
    names seldom have (^ * + ( ) , or a space), or a '/' that is no path to an existing
    folder, and the whole word parses."""
    value = word[2:]
    if not any(c in "^*+(), \t" for c in value) and not ("/" in value and not os.path.isdir(os.path.dirname(value))):
        return False
    try:
        parse(word)
    except (AdjacError, RecursionError):
        return False
    return True


FILES = ("output", "graph_out", "points_file")          # the options whose value is a file name


def _file_name(option: str, value: str, options: set[str], ctx: click.Context) -> None:
    """A usage error when the value of --output, --graph-out or --points is one of our options:
    ``-o --trace`` has lost its file name, and would write a file named --trace."""
    if value.split("=", 1)[0] in options and value.startswith("-"):
        raise click.UsageError(f"{option} needs a file name, but {value!r} follows it, which is an option of "
                               f"adjac: the file name is missing; write {option} FILE (for a file really named "
                               f"{value}, write ./{value})", ctx)


def _stray(expression: str | None, rest: list[str], follows: dict[str, tuple[str, str]],
           options: set[str] | frozenset[str] = frozenset()) -> str:
    """The message for words beyond the one EXPRESSION, saying what they look like.  ``options``
    are adjac's options when the words came after '--', where no word is an option."""
    late = [w for w in rest if w.split("=", 1)[0] in options and w.startswith("-")]
    if late and expression is not None:
        shown = " ".join(_shell(w) for w in rest)
        return (f"{late[0]} comes after --, where every word is taken as the EXPRESSION; put the options "
                f"before --: adjac {shown} -- {_shell(expression)}")
    for word in rest:
        option, value = follows.get(word, ("", ""))
        more = word.lstrip(",")
        if option and (_point(more) if option != "--vars" else all(NAME.match(w.strip()) for w in more.split(","))):
            return (f"unexpected extra argument {word!r} after {option} {value}: separate the values with commas, "
                    f"no spaces: {option} {value.rstrip(',')},{word.lstrip(',')}")
    words = [w for w in [expression, *rest] if w is not None]
    points = [w for w in words if _point(w)]
    if points:
        others = [w for w in words if w not in points]
        if all("," not in w and "=" not in w for w in points):       # adjac "x*y" 1 2: one point, 1,2
            given = [",".join(w.strip() for w in points)]
        else:
            given = points
        what = (f"{points[0]!r} looks like a point" if len(points) == 1 else
                f"{', '.join(map(repr, points))} look like {'a point' if len(given) == 1 else 'points'}")
        return (f"unexpected extra argument{'s' if len(rest) > 1 else ''}: {what}; give "
                f"{'it' if len(given) == 1 else 'them'} with --at{' (values separated by commas)' if len(points) > len(given) else ''}: "
                f"adjac {' '.join(_shell(w) for w in others) or 'EXPRESSION'} {' '.join(f'--at {p}' for p in given)}")
    return (f"unexpected extra argument{'s' if len(rest) > 1 else ''} {', '.join(map(repr, rest))}: "
            f"adjac takes one EXPRESSION, here {expression!r}; quote an expression that has spaces, "
            "such as \"x * y\", and give its outputs separated by commas")


def _shell(word: str) -> str:
    """A word as typed in a shell command line: quoted when it has a character the shell reads."""
    return repr(word) if set(word) & set(" *()^|&<>;$!?[]{}~`'\"\\#") or not word else word


def _point(word: str) -> bool:
    """Whether a word reads as a value of --at (numbers, or name=number) and has a digit in it."""
    if not any(c.isdigit() for c in word):
        return False
    try:
        Point().convert(word, None, None)
    except click.BadParameter:
        return False
    return True

PIPE = getattr(signal, "SIGPIPE", 13)


def _interrupted(err: Interrupted) -> str:
    """'interrupted after 1200 points; out.csv was not written' (the points whose results were written)."""
    after = "" if err.points is None else f" after {_count(err.points, 'point', 'points')}"
    told = []
    if err.unwritten:
        told.append(f"{' and '.join(err.unwritten)} {'was' if len(err.unwritten) == 1 else 'were'} not written")
    if err.incomplete:
        names = [name for name in err.incomplete if name != files.STDOUT]
        told.append(f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} incomplete" if names
                    else "output is incomplete")
    return f"interrupted{after}; " + "; ".join(told or ["output is incomplete"])

class OutOfMemory(click.ClickException):
    """MemoryError: nothing complete was computed; exit status 2."""

    exit_code = 2


def _many(o: dict[str, Any]) -> bool:
    return o["points_file"] is not None or o["fmt"] == "npy"


def _latex(o: dict[str, Any]) -> bool:
    return o["fmt"] == "latex" or o["latex_standalone"]


def _coloured(o: dict[str, Any]) -> bool:
    return o["mode"] in ("forward-coloured", "reverse-coloured")


def _uncertain(o: dict[str, Any]) -> bool:
    """Whether uncertainties are given: value±u in --at, --u, --cov or --corr."""
    return (any(spec.uncertainties is not None for spec in o["points"]) or o["u_spec"] is not None
            or o["cov_file"] is not None or o["corr_file"] is not None)


def _pm_given(o: dict[str, Any]) -> bool:
    return any(spec.uncertainties is not None for spec in o["points"])


UNCERTAINTY_CONFLICTS: list[tuple[Callable[[dict[str, Any]], bool], str]] = [
    (lambda o: (o["cover"] is not None or o["second_order"]) and not _uncertain(o),
     "--coverage and --second-order go with uncertainties: give them in --at (L=1.000±0.002), with --u or --cov"),
    (lambda o: _pm_given(o) and o["u_spec"] is not None,
     "give the uncertainties with ± in --at or with --u, not both"),
    (lambda o: o["cov_file"] is not None and (_pm_given(o) or o["u_spec"] is not None or o["corr_file"] is not None),
     "--cov gives the whole covariance matrix: leave out ± in --at, --u and --corr"),
    (lambda o: o["corr_file"] is not None and not _pm_given(o) and o["u_spec"] is None,
     "--corr needs the standard uncertainties too: give them with ± in --at or with --u"),
    (lambda o: _uncertain(o) and o["fmt"] not in (("table", "csv", "jsonl") if o["points_file"] is not None
                                                  else ("table", "json", "csv", "latex")),
     "uncertainties are written as table, json, csv or latex at one point (--at), as table, csv or jsonl "
     "with --points: not with --format {fmt} here"),
    (lambda o: _uncertain(o) and o["points_file"] is not None and (o["cover"] is not None or o["second_order"]),
     "with --points, uncertainties are propagated to first order, value ± u_c: leave out --coverage and "
     "--second-order, or give one point with --at"),
    (lambda o: _uncertain(o) and len(o["points"]) > 1,
     "uncertainties are propagated at one point: give one --at"),
    (lambda o: _uncertain(o) and (o["seed"] is not None or o["hessian"] or o["hvp"] is not None),
     "uncertainties are propagated through the whole Jacobian: leave out --seed, --hessian and --hvp "
     "(--second-order adds the Hessian's term)"),
    (lambda o: _uncertain(o) and (o["trace"] or o["graph_dot"] or o["graph_out"] is not None or o["symbolic"]),
     "--trace, --graph, --graph-out and --symbolic show the Jacobian, not uncertainties: leave them out, or "
     "run once without the uncertainties"),
]


# Option combinations that cannot run, in the order they are checked (first match wins),
# before anything is read or parsed.  Rules that need the function itself (how many inputs
# it has, what a file holds) are checked where that is known.
CONFLICTS: list[tuple[Callable[[dict[str, Any]], bool], str]] = [
    (lambda o: o["trace"] and o["fmt"] == "csv",
     "--trace has no csv form; use --format table, json, jsonl or latex"),
    (lambda o: o["latex_standalone"] and o["fmt"] not in ("table", "latex"),
     "--latex-standalone writes LaTeX; it cannot be combined with --format {fmt}"),
    (lambda o: _many(o) and (o["trace"] or o["graph_dot"] or o["graph_out"] or _latex(o) or o["symbolic"]
                             or o["verify"]),
     "--trace, --graph, --graph-out, --symbolic, --check and latex work on points given with --at "
     "(or on formulas), not with --points or --format npy"),
    (lambda o: o["points_file"] is not None and bool(o["points"]),
     "give the points with --at or with --points, not both"),
    (lambda o: o["points_file"] == "-" and o["expression"] == "-",
     "the expression and the points cannot both come from standard input"),
    (lambda o: o["graph_dot"] and (o["fmt"] != "table" or o["latex_standalone"]),
     "--graph prints DOT instead of the results, so it cannot be combined with --format {fmt}; "
     "use --graph-out FILE.svg to draw the graph beside them"),
    (lambda o: o["verify"] and o["seed"] is not None,
     "--check verifies the whole Jacobian; leave out --seed"),
    (lambda o: o["verify"] and (_latex(o) or o["graph_dot"]),
     "--check reports in table, json, jsonl or csv; leave out --graph and --format latex"),
    (lambda o: o["hessian"] and o["hvp"] is not None,
     "--hessian gives whole Hessians and --hvp V one product H·v a pass: use one of them"),
    (lambda o: (o["hessian"] or o["hvp"] is not None) and o["mode"] == "forward",
     "second derivatives are swept forward-over-reverse (tangents of the adjoints): leave out --mode forward"),
    (lambda o: (o["hessian"] or o["hvp"] is not None) and o["trace"] and _latex(o),
     "--trace of the second-order sweep is written as a table or in json; use --format table, json or jsonl"),
    (lambda o: (o["hessian"] or o["hvp"] is not None) and (o["graph_dot"] or o["graph_out"] is not None),
     "--graph and --graph-out draw the first-order sweep: leave out --hessian and --hvp"),
    (lambda o: o["engine"] == "compiled" and (o["trace"] or o["hessian"] or o["hvp"] is not None or o["symbolic"]),
     "--engine compiled computes first derivatives at points without a record of each pass: "
     "leave it out with --trace, --hessian, --hvp and --symbolic"),
    (lambda o: o["verify"] and o["hvp"] is not None,
     "--check verifies whole Hessians: use --hessian, not --hvp"),
    (lambda o: o["verify"] and o["symbolic"],
     "--check compares numbers at points, not formulas; leave out --symbolic and give the point with --at"),
    (lambda o: o["symbolic"] and bool(o["points"]) and (o["fmt"] != "table" or o["latex_standalone"]),
     "--symbolic with --at shows the formulas beside their values as a table: leave out --format {fmt}, "
     "or leave out --symbolic for numbers"),
    (lambda o: o["symbolic"] and bool(o["points"]) and (o["hessian"] or o["hvp"] is not None),
     "--symbolic with --at shows first derivatives beside their values: leave out --symbolic, or --at for formulas"),
    (lambda o: o["sparsity"] and (o["fmt"] not in ("table", "json") or o["latex_standalone"]),
     "--sparsity prints the pattern of J as a table or in json, not --format {fmt}"),
    (lambda o: o["sparsity"] and (_many(o) or o["trace"] or o["verify"] or o["graph_dot"] or o["graph_out"]
                                  or o["symbolic"] or o["hessian"] or o["hvp"] is not None or o["seed"] is not None
                                  or o["output"] not in (None, "-")),
     "--sparsity prints the pattern of J and its colourings instead of results: leave out --points, --output, "
     "--trace, --check, --graph, --graph-out, --symbolic, --hessian, --hvp and --seed"),
    (lambda o: _coloured(o) and o["seed"] is not None,
     "--mode {mode} compresses the passes of a whole Jacobian, and --seed makes one pass: "
     "use --mode forward or reverse with --seed"),
    (lambda o: _coloured(o) and (o["hessian"] or o["hvp"] is not None),
     "--hessian and --hvp make one forward-over-reverse pass per direction, uncompressed: leave out --mode {mode}"),
    (lambda o: _coloured(o) and (o["graph_dot"] or o["graph_out"] is not None),
     "--graph and --graph-out draw one pass per input or output: use --mode forward or reverse"),
    (lambda o: _coloured(o) and o["symbolic"],
     "--mode {mode} compresses numeric passes, and formulas are swept one pass per input or output: "
     "use --mode forward or reverse"),
    *UNCERTAINTY_CONFLICTS,
]


@click.command(cls=Command, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES)
@click.argument("expression", required=False, metavar="EXPRESSION")    # or --file: parse_args checks
@click.option("-f", "--file", "program", metavar="PATH",
              help="Read the function (a formula or a program, conventionally PATH.adj) from a file.")
@click.option("--at", "points", multiple=True, type=Point(),
              help='Values of the inputs: "1,2" in input order or "x1=1,x2=2" by name. Repeat for more points.')
@click.option("--vars", "order", type=Names(), help="Input order, e.g. x2,x1 (default: the header, else x2 before x10).")
@click.option("--mode", type=click.Choice(list(MODES)), default="auto", show_default=True,
              help="forward: one pass per input; reverse: one per output; forward-coloured, reverse-coloured: "
                   "one per colour of structurally orthogonal columns or rows; auto: the fewest passes of the four.")
@click.option("--engine", type=click.Choice(["auto", "numpy", "compiled"]), default="auto", show_default=True,
              help="How many points are computed: numpy, or compiled with numba (pip install 'adjac[fast]'); "
                   "auto: compiled where the run is large enough to pay for loading it (docs/engines.md).")
@click.option("--seed", type=Vector(),
              help="One pass only: forward gives J·v (v has n entries), reverse vᵀ·J (v has m entries).")
@click.option("--points", "points_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Read the points from FILE (- for stdin): one per line, comma- or space-separated, "
                   "an optional header row of input names; or an .npy array of shape (N, n).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv", "latex", "npy"]),
              default="table", show_default=True,
              help="Output format; json, jsonl and csv are for programs, latex for papers; "
                   "npy writes an .npz archive (points, values, jacobian) to --output.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the results to FILE instead of standard output.")
@click.option("--digits", type=click.IntRange(1, 17), default=None,
              help="Significant digits in table (default 6) and csv (default: full precision).")
@click.option("--ascii", "ascii_only", is_flag=True, help="Plain ASCII notation, even on a UTF-8 terminal.")
@click.option("--layout", type=click.Choice(["auto", "wide", "transposed", "blocks"]), default="auto", show_default=True,
              help="Tables: J as one wide table, transposed (a row per input) or in blocks of columns; "
                   "auto: wide if it fits the terminal, else transposed when m < n, else blocks.")
@click.option("--trace", is_flag=True,
              help="Also show the sweeps pass by pass, as in lecture notes (table, json, jsonl and latex).")
@click.option("--numbering", type=click.Choice(["depth", "appearance"]), default="depth", show_default=True,
              help="How --trace numbers the Wengert variables after the inputs: by depth (distance from the inputs) "
                   "or in order of appearance in the expression.")
@click.option("--graph", "graph_dot", is_flag=True,
              help="Print the computational graph as Graphviz DOT instead of the results "
                   "(with --mode forward|reverse: tangents or adjoints on the nodes).")
@click.option("--graph-out", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also draw the graph into FILE.svg, .png or .pdf with Graphviz's dot (.dot or .gv: the DOT text).")
@click.option("--latex-standalone", is_flag=True,
              help="With --format latex: a complete document for pdflatex instead of a fragment.")
@click.option("--symbolic", is_flag=True,
              help="The Jacobian as formulas in the inputs (the default without --at).")
@click.option("--hessian", is_flag=True,
              help="Second derivatives: each output's gradient and Hessian (with --seed ȳ: of Σ ȳk·yk), "
                   "by forward-over-reverse.")
@click.option("--hvp", type=Vector(), metavar="V",
              help="Hessian-vector products H·v for every output (with --seed ȳ: (Σ ȳk·Hk)·v), one pass each.")
@click.option("--u", "u_spec", type=Uncertainties(), metavar="U",
              help="Standard uncertainties of the inputs: 0.002,0.004 in input order or L=0.002 by name "
                   "(others exact); or write them in --at as L=1.000±0.002 (or +-), or as u(L) columns of a "
                   "--points file.  Without a point, --u L,T gives u_c as a formula.  See docs/uncertainty.md.")
@click.option("--cov", "cov_file", metavar="FILE",
              help="The inputs' covariance matrix (n × n, input order) from a csv or .npy FILE.")
@click.option("--corr", "corr_file", metavar="FILE",
              help="The inputs' correlation matrix (n × n) from a csv or .npy FILE, with the u's of ± or --u.")
@click.option("--coverage", "cover", type=CoverageFactor(),
              help="Expanded uncertainty U = k·u_c: a factor k such as 2, or a level such as 95% "
                   "(k from the normal distribution).")
@click.option("--second-order", is_flag=True,
              help="With uncertainties: add the second-order term ½·tr(HΣHΣ) to u_c² and give the bias ½·tr(HΣ).")
@click.option("--check", "verify", is_flag=True,
              help="Also compute J by the other mode and by central differences; exit 1 if they disagree.  "
                   "With uncertainties: a Monte Carlo propagation instead; exit 1 if the linearization is not adequate.")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour and bold: auto (in a terminal, unless NO_COLOR is set; FORCE_COLOR forces them), "
                   "always or never.  Tables keep their boxes in a terminal either way.")
@click.option("--sparsity", is_flag=True,
              help="Print the sparsity pattern of J (a spy plot) with the colourings of its columns and rows "
                   "instead of the results.")
@click.option("--quiet", "-q", is_flag=True,
              help="No warnings or notes on standard error (errors still show); the exit status is unchanged.")
@click.version_option(__version__, "--version", prog_name="adjac")
def main(expression: str | None, points: tuple[PointSpec, ...], order: tuple[str, ...] | None, mode: str,
         seed: tuple[float, ...] | None, points_file: str | None, fmt: str, output: str | None,
         digits: int | None, ascii_only: bool, layout: str, trace: bool, numbering: str, graph_dot: bool,
         graph_out: str | None,
         latex_standalone: bool, symbolic: bool, hessian: bool, hvp: tuple[float, ...] | None,
         verify: bool, color: str = "auto", sparsity: bool = False, quiet: bool = False,
         program: str | None = None, u_spec: PointSpec | None = None,
         cov_file: str | None = None, corr_file: str | None = None, cover: Coverage | None = None,
         second_order: bool = False, engine: str = "auto") -> None:
    """Jacobian of the comma-separated EXPRESSION by automatic differentiation.

    EXPRESSION lists the outputs of f: x1*x2 + sin(x1), exp(x1-x2).  An optional
    header declares the inputs and their order: f(x1, x2) = (...).  Use - to read
    it from standard input, or --file for a program from a file (definitions
    r = ..., functions sq(u) = ..., sum(i = 1..n, ...), the outputs last).
    Without --at, adjac prints the Jacobian as formulas.

    Exit status: 0 results printed; 1 results printed but some are not finite,
    or --check found a disagreement; 2 the command line or the expression is wrong;
    74 an output could not be written; 130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP.
    """
    if sys.stdout is None:                  # started with stdout closed (>&-): the exit status still counts
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    if expression is not None and program is not None:
        raise UsageError(f"give the function as EXPRESSION or with --file, not both (here {expression!r} and "
                         f"--file {program})")
    if expression == "-" and sys.stdin is None:
        raise UsageError("EXPRESSION is -, but standard input is closed")
    given = click.get_current_context().params
    for conflict, message in CONFLICTS:                # option combinations that cannot run, before any reading
        if conflict(given):
            raise UsageError(message.format(**given))
    fmt = "latex" if latex_standalone else fmt
    if engine == "compiled" and not engine_available():
        raise UsageError("--engine compiled needs numba, which is not installed: pip install 'adjac[fast]'",
                         option="--engine")
    for name, what in ((expression, "the expression"), (points_file, "the points, one per line,")):
        if name == "-" and _tty(sys.stdin):
            _note(f"adjac: waiting for {what} on standard input; type it, then press Ctrl-D on a new line to end it")
    if program is not None:
        text = sources.read_program(program, limits.TEXT)
    else:
        assert expression is not None
        text = sys.stdin.read(limits.TEXT + 1) if expression == "-" else expression
        if len(text) > limits.TEXT:                    # adjac - < /dev/zero would read without end
            raise UsageError(f"standard input holds more than {limits.TEXT:,} characters of expression "
                             "(README: Limits)", option="EXPRESSION")
    text = text.removeprefix("\ufeff")      # a BOM from Notepad, Excel
    try:
        graph = parse(text, order, numbering=numbering)
    except ParseError as err:
        where = "--vars" if err.text != text else ("--file" if program is not None else "EXPRESSION")
        raise UsageError((f"in {program}: " if where == "--file" else "") + str(err), option=where) from None
    for warning in graph.warnings:
        _note(f"adjac: warning: {warning}")
    expression = expression if expression is not None else ""
    _outputs(output, graph_out, points_file, expression, program)
    out: Any = sys.stdout                   # where the results go: a file written whole with --output
    many = points_file is not None or fmt == "npy"
    if many or output not in (None, "-"):
        _batch_options(graph, expression, points, points_file, fmt, output)
        if output not in (None, "-") and fmt != "npy":        # every text format can go to a file
            out = files.output(output).text()                    # written whole when the run completes
    if sparsity:
        _sparsity(graph, mode, fmt, out, not ascii_only and "utf" in (getattr(out, "encoding", "") or "").lower())
        return
    formulas = symbolic or (not many and not points and graph.n > 0)
    if not many:
        picture = _picture_format(graph_dot, graph_out, fmt)
        if verify:
            _check_usage(graph, points, seed, fmt, symbolic, graph_dot)
        if formulas:
            if fmt == "csv":                # the command line is checked before --graph-out draws anything
                raise UsageError("csv holds numbers: add --at with values for " + listing(graph.inputs)
                                 + ", or use --format json for formulas")
    second = hessian or hvp is not None
    if second:
        _second_usage(graph, seed, hvp)
    colouring = None                        # the mode, resolved once: a direction, compressed or not
    if formulas and mode in ("forward-coloured", "reverse-coloured"):
        raise UsageError(f"--mode {mode} compresses numeric passes, and without --at adjac prints formulas, "
                         "one pass per input or output: add --at, or use --mode forward or reverse", option="--mode")
    if second:
        chosen: Mode = "reverse"
    elif seed is not None or formulas:
        chosen = choose_mode(graph, _mode(graph, mode, seed))
    else:
        chosen, colouring = _plan(graph, mode)
    unicode = not ascii_only and "utf" in (getattr(out, "encoding", "") or "").lower()
    boxes, colour = styled(out, color)
    style = Style(digits, unicode, plain=not boxes, trace=trace, check=verify, standalone=latex_standalone,
                  layout=layout, color=colour)
    if fmt == "csv" and not graph_dot:                 # tables say it in their first line
        from .outputs.notation import renamed

        if renamed(graph):
            _note(f"adjac: note: in the columns, {renamed(graph)}")
    if points_file is not None and (_uncertain(given) or (points_file != "-" and _u_columns(points_file))):
        _propagate_many(graph, points_file, given, chosen, fmt, out, style)  # exits
    if _uncertain(given):
        _propagate(graph, points, given, chosen, fmt, out, style)           # exits
    if formulas:
        if second:
            limits.check_second_size(graph, 1, seed, hvp, "table")          # formulas: the bound of what is shown
        else:
            limits.check_size(graph, 1, chosen, seed, fmt, trace, True)
        if picture:
            _picture(graph, None, None, None, digits, unicode, ascii_only, graph_dot, graph_out, picture, out)
        if graph_dot:
            return
        at = [resolve(graph, spec) for spec in points] if symbolic else []    # --symbolic --at: beside the values
        not_finite = _formulas(graph, chosen, seed, fmt, out, style, second, hvp, at)
        if not symbolic:
            example = ",".join(str(k + 1) for k in range(graph.n))
            _note(f"adjac: no point given, so formulas; add --at {example} (values for {', '.join(graph.inputs)}) "
                       "for numbers")
        sys.exit(ExitStatus.NOT_FINITE if not_finite else ExitStatus.OK)
    progress = None
    source: Any
    if points_file is not None:
        if second:
            limits.check_second_size(graph, 1, seed, hvp, fmt)
        else:
            limits.check_size(graph, 1, chosen, seed, fmt, False, False, points_file=True)
        source = Points(points_file, graph, loop.chunk_size(graph, chosen, seed is not None, 2 if second else 1),
                        stdin=sys.stdin.buffer if points_file == "-" else None)
        from .outputs.table import ProgressBar

        progress = ProgressBar(source, enabled=sys.stderr.isatty() and not quiet)
    else:
        X = np.array([resolve(graph, spec) for spec in points] or [[]], dtype=float)   # a constant function needs no point
        if second:
            limits.check_second_size(graph, len(X), seed, hvp, fmt)
        else:
            limits.check_size(graph, len(X), chosen, seed, fmt, trace, False)
        source = [X]
        if not many and picture:
            shown = chosen if mode != "auto" or seed is not None else None   # derivatives on nodes when asked
            _picture(graph, X, shown, None if seed is None else [seed], digits, unicode, ascii_only, graph_dot,
                     graph_out, picture, out)
    sink = Discard() if graph_dot else _sink(fmt, out, graph, chosen, seed, style, output)   # --graph: DOT instead
    try:
        summary = loop.run(graph, source, chosen, seed, sink, progress=progress, sweeps=trace, check=verify,
                           order=2 if second else 1, direction=hvp, colouring=colouring, engine=engine)
    except PointsError:
        out.flush()
        raise
    except Interrupted as err:
        err.points = err.points or 0                            # also while the first point was read
        raise
    finally:
        if progress is not None:
            progress.close()
    for problem in summary.problems:
        _note(f"adjac: warning: {problem.message}")
    if summary.unexplained:
        _note(f"adjac: warning: {summary.unexplained} more points have non-finite results")
    if summary.failed:
        click.echo("adjac: check failed: the " + ("Hessians" if second else "Jacobians") + " disagree (see above)", err=True)
    if summary.bad_points or summary.failed:
        sys.exit(ExitStatus.NOT_FINITE)


def _propagate(graph: Graph, points: Sequence[PointSpec], o: dict[str, Any], mode: Mode, fmt: str, out: Any,
               style: Style) -> None:
    """Uncertainties: Σ_y = J Σ_x Jᵀ at the one point (docs/uncertainty.md); with --check, a Monte
    Carlo propagation beside it.  Exit 1 if something is not finite or the check finds the
    linearization not adequate."""
    from . import uncertainty as gum

    symbolic = o["u_spec"] is not None and not o["u_spec"].values and o["u_spec"].names is not None
    if not graph.n:
        raise UsageError("the function has no inputs, so nothing to propagate: leave out the uncertainties")
    if symbolic and points:
        raise UsageError(f"{o['u_spec'].text!r} names the uncertain inputs, for formulas; at a point, give the "
                         "numbers: --u " + ",".join(f"{n}=0.1" for n in o["u_spec"].names), option="--u")
    if symbolic:
        _uncertainty_formulas(graph, o["u_spec"].names, mode, fmt, out, style, o)
    if not points:
        raise UsageError("uncertainties are propagated at a point: add --at with values for " + listing(graph.inputs)
                         + " (such as " + ",".join(f"{n}=1±0.1" for n in graph.inputs[:2]) + "), or name the "
                         "uncertain inputs, --u " + ",".join(graph.inputs[:2]) + ", for u_c as a formula")
    spec = points[0]
    x = np.array(resolve(graph, spec), dtype=float)
    u = None
    if spec.uncertainties is not None:
        u = np.array(resolve(graph, spec._replace(values=tuple(v or 0.0 for v in spec.uncertainties))), dtype=float)
        source = "± in --at"
    elif o["u_spec"] is not None:
        spec_u = o["u_spec"]
        u = gum.uncertainties_by_name(graph, spec_u.values, spec_u.names, spec_u.text, "--u")
        source = "--u"
    else:
        source = "--cov"
    inputs = gum.covariance_from(graph, u, o["cov_file"], o["corr_file"], source)
    limits.check_size(graph, 1, mode, None, fmt, False, False)
    if o["verify"] and graph.m * gum.BATCH > 2 * gum.SWEEP:
        raise UsageError(f"the Monte Carlo check keeps {gum.BATCH:,} draws of every output at a time, too many for "
                         f"{graph.m:,} outputs; check at most {2 * gum.SWEEP // gum.BATCH} outputs at once",
                         option="--check")
    result = gum.propagate(graph, x, inputs, mode, o["cover"])
    if o["second_order"]:
        gum.second_order(result)
    finite = bool(np.all(np.isfinite(result.values)) and np.all(np.isfinite(result.covariance)))
    if o["verify"] and finite:
        result.monte_carlo = gum.monte_carlo(result)
    open_sink(fmt, out, graph, mode, None, style).write_uncertainty(result)
    for problem in result.problems:
        _note(f"adjac: warning: {problem.message}")
    for k in np.flatnonzero((result.u == 0) & np.any(inputs.matrix != 0)):
        _note(f"adjac: note: u_c of {graph.labels[k]} is 0: no input with an uncertainty moves it to first order "
              "here; --second-order or --check shows what the linear law leaves out")
    if not finite:
        _note("adjac: warning: a value or an uncertainty is not finite" + (", so there is no Monte Carlo check"
                                                                            if o["verify"] else ""))
        sys.exit(ExitStatus.NOT_FINITE)
    mc = result.monte_carlo
    if mc is not None and not mc.adequate:
        from .outputs.notation import letters

        bad = [f"{letters(graph)[1]}{k + 1} {v}" for k, v in enumerate(mc.verdicts) if v != "adequate"]
        click.echo(f"adjac: check failed: {', '.join(bad)} (Monte Carlo, see above)", err=True)
        sys.exit(ExitStatus.NOT_FINITE)
    sys.exit(ExitStatus.OK)


def _u_columns(path: str) -> bool:
    from .uncertainty import has_u_columns

    return has_u_columns(path)


def _propagate_many(graph: Graph, points_file: str, o: dict[str, Any], mode: Mode, fmt: str, out: Any,
                    style: Style) -> None:
    """--points with uncertainties: the same Σ_x (--u, --cov, --corr) at every point, or each point's
    own u(x) columns; value ± u_c per point, chunk by chunk (exits)."""
    from . import uncertainty as gum

    own = points_file != "-" and gum.has_u_columns(points_file)
    if own and (o["u_spec"] is not None or o["cov_file"] is not None or o["corr_file"] is not None):
        raise UsageError(f"{points_file} has u(x) columns, so the points carry their own uncertainties: leave out "
                         "--u, --cov and --corr", option="--points")
    if fmt not in ("table", "csv", "jsonl") or o["cover"] is not None or o["second_order"]:
        raise UsageError(f"{points_file} has u(x) columns: uncertainties at many points are written as a table, csv or "
                         "jsonl, to first order (no --coverage or --second-order)", option="--points")
    limits.check_size(graph, 1, mode, None, fmt, False, False, points_file=True)
    source: Any
    if own:
        source = gum.UncertainPoints(points_file, graph)
    else:
        if o["u_spec"] is not None and not o["u_spec"].values:
            raise UsageError(f"{o['u_spec'].text!r} names inputs, for formulas; with --points, give the numbers: "
                             "--u " + ",".join(f"{n}=0.1" for n in o["u_spec"].names), option="--u")
        u = (None if o["u_spec"] is None else
             gum.uncertainties_by_name(graph, o["u_spec"].values, o["u_spec"].names, o["u_spec"].text, "--u"))
        S = gum.covariance_from(graph, u, o["cov_file"], o["corr_file"], "--u").matrix
        chunks = Points(points_file, graph, 4096, stdin=sys.stdin.buffer if points_file == "-" else None)
        source = ((X, S) for X in chunks)
    sink = open_sink(fmt, out, graph, mode, None, style)
    offset = bad = traced = 0
    try:
        for X, given in source:
            S_x = given if given.ndim == 2 and given.shape == (graph.n, graph.n) else np.einsum(
                "pi,ij->pij", given**2, np.eye(graph.n))                   # per point: u(x) → diag(u²)
            rows = gum.propagate_many(graph, X, S_x, mode, problems=max(0, 10 - traced))
            rows.problems = [p._replace(point=p.point + offset) for p in rows.problems]
            sink.write_uncertainty_rows(rows, offset)
            for problem in rows.problems:
                _note(f"adjac: warning: {problem.message}")
            offset, bad, traced = offset + len(X), bad + rows.bad_points, traced + len(rows.problems)
    except PointsError:
        sink.close(None)
        out.flush()
        raise
    if not offset:                          # no points at all: the csv header (an empty table) alone
        n, m = graph.n, graph.m
        sink.write_uncertainty_rows(gum.PropagationRows(graph, np.empty((0, n)), np.empty((0, n)), np.empty((0, m)),
                                                        np.empty((0, m, m))), 0)
    sink.close(None)
    if bad:
        _note(f"adjac: warning: {_count(bad, 'point has', 'points have')} a value or an uncertainty that is not finite")
        sys.exit(ExitStatus.NOT_FINITE)
    sys.exit(ExitStatus.OK)


def _uncertainty_formulas(graph: Graph, names: Sequence[str], mode: Mode, fmt: str, out: Any, style: Style,
                          o: dict[str, Any]) -> None:
    """--u NAMES without a point: u_c(y) as formulas in the inputs and their u's (exits)."""
    from . import uncertainty as gum

    unknown = [name for name in names if name not in graph.inputs]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} in {o['u_spec'].text!r} is not an input; the inputs are "
                         f"{listing(graph.inputs)}", option="--u")
    for option, given in (("--coverage", o["cover"] is not None), ("--second-order", o["second_order"]),
                          ("--check", o["verify"])):
        if given:
            raise UsageError(f"{option} needs numbers: give the point with --at and the u's with ± or --u",
                             option=option)
    limits.check_size(graph, 1, mode, None, fmt, False, True)
    try:
        result = gum.formulas(graph, tuple(names), mode)
    except RecursionError:                      # SymPy walks its expressions recursively
        raise UsageError("the expression is nested too deeply for formulas; give a point with --at for numbers") from None
    open_sink(fmt, out, graph, mode, None, style).write_uncertainty_formulas(result)
    for _, _, message in result.problems:
        _note(f"adjac: warning: {message}")
    sys.exit(ExitStatus.NOT_FINITE if result.problems else ExitStatus.OK)


def _tty(stream: Any) -> bool:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return bool(stream.isatty())
    return False


def _note(text: str) -> None:
    """A warning or a note on standard error, unless --quiet (errors are not notes: they always show)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not ctx.params.get("quiet"):
        click.echo(text, err=True)


def _sink(fmt: str, out: Any, graph: Graph, mode: Mode, seed: Any, style: Style, output: str | None) -> Sink:
    """The sink of the chosen format; npy writes its archive to --output (or a pipe)."""
    if fmt != "npy":
        return open_sink(fmt, out, graph, mode, seed, style)
    assert output is not None
    if output == "-":
        return open_sink(fmt, out, graph, mode, seed, style, binary=sys.stdout.buffer)
    target = files.output(output)                              # written whole when the run completes
    return open_sink(fmt, out, graph, mode, seed, style, binary=target.binary, folder=target.folder, name=output)


def _formulas(graph: Graph, mode: Mode, seed: Sequence[float] | None, fmt: str, out: Any, style: Style,
              second: bool = False, hvp: Sequence[float] | None = None, at: Sequence[Sequence[float]] = ()) -> bool:
    """No point (or --symbolic): the same sweeps over symbols; formulas out (beside their values at the
    points ``at``, for --symbolic --at).  True if some are not finite."""
    from . import symbolic

    try:
        report = symbolic.compute_second(graph, seed, hvp) if second else symbolic.compute(graph, mode, seed)
        sink = open_sink(fmt, out, graph, mode, seed, style)
        sink.write_formulas(report, at) if at else sink.write_formulas(report)  # type: ignore[call-arg]
    except RecursionError:                      # SymPy walks its expressions recursively
        raise UsageError("the expression is nested too deeply for formulas; give a point with --at for numbers") from None
    for _, _, message in report.problems:
        _note(f"adjac: warning: {message}")
    if report.budget.skipped:
        skipped = report.budget.skipped
        _note(f"adjac: note: simplifying took too long (over {symbolic.FORMULA_SECONDS:g} s for a formula or "
                   f"{report.budget.seconds:g} s in all), so {skipped} formula{'s are' if skipped > 1 else ' is'} "
                   "shown as the sweeps made them: correct, not simplified")
    return bool(report.problems)


def _batch_options(graph: Graph, expression: str, points: Sequence[PointSpec], points_file: str | None,
                   fmt: str, output: str | None) -> None:
    """Usage errors of --points, --format npy and --output, before anything is written."""
    if points_file is not None and not graph.n:
        raise UsageError("the function has no inputs, so there are no points to read", option="--points")
    if fmt == "npy":
        if output is None or (output == "-" and sys.stdout.isatty()):
            raise UsageError("--format npy writes a binary .npz archive: add --output FILE.npz")
        if output.endswith(".npy"):
            raise UsageError(f"{output!r}: --format npy writes an .npz archive (points, values, jacobian), "
                                     f"so name it {output[:-4]}.npz", option="--output")
        if not points and points_file is None:
            raise UsageError("--format npy needs points: add --at or --points")


def _outputs(output: str | None, graph_out: str | None, points_file: str | None, expression: str,
             program: str | None = None) -> None:
    """Refuse, before anything is computed, an output that cannot be written or would replace an input."""
    reads: list[str | int] = [points_file] if points_file not in (None, "-") else []
    if program is not None:
        reads.append(program)
    if (points_file == "-" or expression == "-") and sys.stdin is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            reads.append(sys.stdin.fileno())
    for path, option in ((output, "--output"), (graph_out, "--graph-out")):
        problem = None if path in (None, "-") else files.problem(path, reads)
        if problem:
            raise UsageError(problem, option=option)
    if output not in (None, "-") and graph_out is not None and files.same_file(output, graph_out):
        raise UsageError(f"--output and --graph-out both name {output!r}; give them different files")


def _second_usage(graph: Graph, seed: Sequence[float] | None, hvp: Sequence[float] | None) -> None:
    """--hessian and --hvp: the seed weighs the outputs (m entries), v is a direction (n entries)."""
    n, m = graph.n, graph.m
    if not n:
        raise UsageError("the function has no inputs, so it has no second derivatives: leave out --hessian and --hvp")
    if seed is not None and len(seed) != m:
        raise UsageError(f"with --hessian or --hvp the seed ȳ weighs the outputs: it needs {_count(m, 'entry', 'entries')}, "
                         f"one per output, not {len(seed)}", option="--seed")
    if hvp is not None and len(hvp) != n:
        raise UsageError(f"v needs {_count(n, 'entry', 'entries')}, one per input ({listing(graph.inputs)}), "
                         f"not {len(hvp)}", option="--hvp")


def _check_usage(graph: Graph, points: Sequence[PointSpec], seed: Any, fmt: str, symbolic: bool,
                 graph_dot: bool) -> None:
    """--check compares numbers at points, for the whole Jacobian, in a format that can show it."""
    if (not points and graph.n) or symbolic:
        raise UsageError("--check needs a point: add --at with values for " + listing(graph.inputs))


def _mode(graph: Graph, mode: str, seed: Sequence[float] | None) -> str:
    """The mode to run; with a seed, its length decides ``auto`` when that is unambiguous."""
    if seed is None:
        return mode
    n, m, size = graph.n, graph.m, len(seed)
    wanted = {"forward": n, "reverse": m}
    if mode == "auto":
        fits = [name for name, count in wanted.items() if count == size]
        if len(fits) == 1:
            return fits[0]
        if not fits:
            raise UsageError(
                f"the seed has {size} entries, but forward mode needs {n} (one per input) "
                f"and reverse mode {m} (one per output)", option="--seed")
        raise UsageError(
            f"--seed with {_count(size, 'entry', 'entries')} fits both modes "
            f"(f has {_count(n, 'input', 'inputs')} and {_count(m, 'output', 'outputs')}): "
            "choose --mode forward for J·v or --mode reverse for vᵀ·J")
    if wanted[mode] != size:
        per = "input" if mode == "forward" else "output"
        raise UsageError(
            f"in {mode} mode the seed needs {wanted[mode]} entries, one per {per}, not {size}", option="--seed")
    return mode


def _plan(graph: Graph, mode: str) -> tuple[Mode, Any]:
    """The direction of a whole Jacobian's passes and the colouring that compresses them (or None)."""
    from .core import colour

    try:
        return colour.plan(graph, mode)
    except colour.TooLarge as err:
        raise UsageError(f"{err}: use --mode forward or reverse", option="--mode") from None


def _sparsity(graph: Graph, mode: str, fmt: str, out: Any, unicode: bool) -> None:
    """--sparsity: the pattern of J, the colourings of its columns and rows, and the passes --mode takes."""
    import json
    import shutil

    from .core import colour
    from .outputs import sparsity

    found: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for direction in ("forward", "reverse"):
        try:
            found[direction] = colour.colouring(graph, direction)  # type: ignore[arg-type]
        except colour.TooLarge as err:
            found[direction], problems[direction] = None, str(err)
    chosen, colouring = _plan(graph, mode)
    if fmt == "json":
        out.write(json.dumps(sparsity.document(graph, found["forward"], found["reverse"], problems, chosen,
                                               colouring)) + "\n")
        return
    width = shutil.get_terminal_size((80, 24)).columns if _tty(out) else 80
    out.write(sparsity.spy_text(graph, found["forward"], found["reverse"], problems, chosen, colouring,
                                unicode, width))


def _count(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def _picture_format(graph_dot: bool, graph_out: str | None, fmt: str) -> str | None:
    """What --graph / --graph-out ask for: "dot" (text only), a dot -T format, or None; checks the file."""
    if graph_out is None:
        return "dot" if graph_dot else None
    from pathlib import Path

    from .outputs import dot

    suffix = Path(graph_out).suffix.lower().lstrip(".")
    if suffix in ("dot", "gv"):
        return "dot"
    if suffix not in dot.FORMATS:
        raise UsageError(f"{graph_out!r} does not end in .svg, .png, .pdf (drawn by Graphviz) or .dot/.gv (text)", option="--graph-out")
    if not Path(graph_out).resolve().parent.is_dir():
        raise UsageError(f"the folder of {graph_out!r} does not exist", option="--graph-out")
    if not dot.dot_program():
        raise UsageError(dot.INSTALL_HINT)
    return suffix


def _picture(graph: Graph, X: Any, mode: Any, seeds: Any, digits: int | None, unicode: bool, ascii_only: bool,
             graph_dot: bool, graph_out: str | None, fmt: str, out: Any) -> None:
    """--graph: DOT on stdout; --graph-out: DOT drawn (or written) to a file.  The first point only."""
    from .outputs import dot

    if X is not None and len(X) > 1:
        _note(f"adjac: note: the graph shows the first of {len(X)} points; give one --at for another")
    x = None if X is None else X[0]
    if graph_dot:
        out.write(dot.to_dot(graph, x, mode, seeds, digits or 6, unicode))
    if graph_out is None:
        return
    text = dot.to_dot(graph, x, mode, seeds, digits or 6, not ascii_only)
    try:
        target = files.output(graph_out)                       # written whole when the run completes
        if fmt == "dot":
            target.text().write(text)
        else:
            if len(graph) >= dot.SLOW:
                _note(f"adjac: note: drawing {len(graph):,} nodes with Graphviz may take a while (it stops after "
                           f"{dot.TIMEOUT:g} s); --graph-out FILE.dot writes the DOT text at once")
            dot.render(text, target.path_for_writer, fmt, name=graph_out)
    except OSError as err:
        raise UsageError(f"cannot write {graph_out!r}: {err.strerror}", option="--graph-out") from None
    _note(f"adjac: drew the graph into {graph_out}")


class Unavailable(click.ClickException):
    """A missing dependency (SymPy): nothing computed, exit status 2."""

    exit_code = 2


class _Stderr:
    """Standard error, whose writes never fail: when a message cannot be written (2>/dev/full,
    a closed terminal), it is lost, but the exit status stays the one of the run (2 for a
    usage error, never 1, which says "results not finite").  After the first failure, the
    descriptor points at /dev/null, so that flushing at exit cannot fail again."""

    buffer = None                 # no binary layer for click to write to behind this one's back

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError:
            self._lost()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._lost()

    def _lost(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()              # what was buffered goes to /dev/null

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:
        return getattr(self._stream, "errors", None)

    @property
    def closed(self) -> bool:
        return bool(getattr(self._stream, "closed", False))


def run() -> None:
    """The console entry point: ``main``, ending quietly when the reader of a pipe goes away.

    SIGPIPE stays ignored (Python's setting), so a write to a closed pipe raises
    BrokenPipeError, the run cleans up (no temporary file left), standard output goes to
    /dev/null as Python's documentation recommends, and then ``adjac ... | head`` ends the way
    ``cat`` does: killed by SIGPIPE (status 141 in the shell), not exit status 1 ("not finite").
    """
    sys.stderr = _Stderr(sys.stderr if sys.stderr is not None else open(os.devnull, "w", encoding="utf-8"))
    try:
        main(prog_name="adjac")
    except SystemExit as done:
        if done.code == ExitStatus.SIGNAL + PIPE and hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
        raise
