"""The golden matrix: real `adjac` invocations whose whole output is pinned (issue 12).

Each case: a short id (its record is expected/<id>.json), a one-line purpose, the argv
after `adjac`, and optionally stdin, input files written into the scratch directory first,
and runner="process" where the case needs a real process (pipes on stdin, files drawn by
Graphviz, the encoding of a real stdout).  Add a case here, then `python tests/golden/record.py ID`.
"""

from __future__ import annotations

import io

import numpy as np

from .harness import Case


def npy(rows: list[list[float]]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array(rows, dtype=float), allow_pickle=False)
    return buffer.getvalue()


EX = "x1*x2 + sin(x1), exp(x1-x2)"               # the worked example, f: R² → R²
TR = "sin(x1) + x1*x2, exp(x1-x2)"               # the trace example
EX3 = "x1*x2 + x1*x3, ln(x1+x2)"                 # the exercise, f: R³ → R², with a structural zero
POINTS_CSV = "# x2 first: columns are matched by name\nx2, x1\n2, 1\n3, 4   # a comment\n\n0.5 -1\n"
POINTS_WS = "1 2\n  3\t4\n\n-1.5   0.25\n"
X_NPY = npy([[1.0, 2.0], [0.0, 0.0], [-1.5, 0.25]])
BAD_NPY = npy([[1.0, 2.0], [float("nan"), 1.0]])

CASES: list[Case] = [
    # ---- table (the default format)
    Case("table-worked", "the README's first example: auto picks forward for a square J",
         (EX, "--at", "1,2")),
    Case("table-reverse", "--mode reverse: same numbers, the header says reverse",
         (EX, "--at", "1,2", "--mode", "reverse")),
    Case("table-forward-wide", "n=3 > m=2 with --mode forward: three passes",
         (EX3, "--at", "1,2,3", "--mode", "forward")),
    Case("table-structural-zero", "auto picks reverse for n > m; a structural zero prints as ·",
         (EX3, "--at", "1,2,3")),
    Case("table-two-points", "two --at points: one table each, separated by a blank line",
         (EX, "--at", "1,2", "--at", "0,0")),
    Case("table-digits-3", "--digits 3 in the table", (EX, "--at", "1,2", "--digits", "3")),
    Case("table-digits-17", "--digits 17: full double precision in the table", (EX, "--at", "1,2", "--digits", "17")),
    Case("table-ascii", "--ascii: d/dx headers and . for a structural zero", (EX3, "--at", "1,2,3", "--ascii")),
    Case("table-named-point", "--at by name, in another order than the inputs", (EX, "--at", "x2=2,x1=1")),
    Case("table-header", "a header f(x, y) = declares the inputs; point by name", ("f(x, y) = x^2*y", "--at", "x=3,y=-1")),
    Case("table-header-order", "the header's order wins over natural sort", ("g(b, a) = a - b, a*b", "--at", "1,2")),
    Case("table-vars-order", "--vars y,x orders the columns", ("x*y^2", "--vars", "y,x", "--at", "2,3")),
    Case("table-vars-unused", "--vars may name an unused input: its column is zero",
         ("x*y", "--vars", "x,y,z", "--at", "1,2,3")),
    Case("table-natural-sort", "inputs sort naturally: x2 before x10", ("x10 + 2*x2 + 3*x1", "--at", "1,2,3")),
    Case("table-minus-expression", "an expression that starts with a minus sign", ("-x^2", "--at", "3")),
    Case("table-dashdash", "the same after --", ("--at", "3", "--", "-x^2")),
    Case("table-constant", "a function with no inputs needs no point", ("2^10, pi",)),
    Case("table-cse", "identical subexpressions are one node; constants folded", ("x*x + x*x + 2*3", "--at", "1.5")),
    Case("table-all-functions", "every function of the language at one point",
         ("sin(x)+cos(x)+tan(x)+exp(x)+log(x)+ln(x)+sqrt(x)+abs(x)+sinh(x)+cosh(x)+tanh(x)+asin(x/2)+acos(x/2)"
          "+atan(x)+log2(x)+log10(x)+cbrt(x)+asinh(x)+acosh(x+1)+atanh(x/2)+sigmoid(x)+sign(x)", "--at", "0.5")),
    Case("table-pow-conventions", "x^2 at a negative base, 0^y, x^y", ("x^2, y^x, x^y", "--at", "-3,0")),
    Case("table-stdin-expression", "EXPRESSION - reads the text from a pipe",
         ("-", "--at", "0.5"), stdin="sin(x)^2 + cos(x)^2\n", runner="process"),
    Case("table-process-worked", "the worked example end to end in a real process, reverse mode",
         (EX, "--at", "1,2", "--mode", "reverse"), runner="process"),
    Case("table-ascii-encoding", "stdout that is not UTF-8 switches to ASCII notation by itself",
         (TR, "--at", "1,2", "--trace"), runner="process", env={"PYTHONIOENCODING": "ascii"}),
    Case("table-multiline-expression", "newlines and tabs in the expression are whitespace",
         ("x1 *\n\tx2,\n  x1 + x2", "--at", "2,3")),

    # ---- json, jsonl, csv
    Case("json-worked", "the JSON document: variables, outputs, mode, passes, sparsity, results",
         (EX, "--at", "1,2", "--format", "json")),
    Case("json-two-points", "json with two points", (EX, "--at", "1,2", "--at", "0,0", "--format", "json")),
    Case("json-header", "json keeps the header's input order", ("f(y, x) = x^2*y", "--at", "x=3,y=-1", "--format", "json")),
    Case("json-constant", "json for a function with no inputs", ("2, pi", "--format", "json")),
    Case("jsonl-two-points", "jsonl: one object per point, each with its warnings",
         (EX, "--at", "1,2", "--at", "0,0", "--format", "jsonl")),
    Case("csv-two-points", "csv: full precision, d(y)/d(x) headers", (EX, "--at", "1,2", "--at", "0,0", "--format", "csv")),
    Case("csv-digits", "csv with --digits 4", (EX, "--at", "1,2", "--format", "csv", "--digits", "4")),

    # ---- LaTeX
    Case("latex-fragment", "--format latex: a pmatrix fragment", (TR, "--at", "1,2", "--format", "latex")),
    Case("latex-standalone", "--latex-standalone implies latex: a whole document", (TR, "--at", "1,2", "--latex-standalone")),
    Case("latex-escapes", "TeX specials in names are escaped; 1e-7 is 10^{-7}",
         ("x_1^2 + 1e-7*y_2", "--at", "1,2", "--format", "latex")),
    Case("latex-seed", "latex of a seeded product J·v", (EX, "--at", "1,2", "--seed", "1,0", "--mode", "forward",
                                                      "--format", "latex")),
    Case("latex-two-points", "latex with two points and --digits 3",
         (EX, "--at", "1,2", "--at", "0,0", "--format", "latex", "--digits", "3")),

    # ---- --trace
    Case("trace-forward", "--trace: evaluation trace, one table per forward pass", (TR, "--at", "1,2", "--trace")),
    Case("trace-reverse", "--trace --mode reverse: adjoints, one term per use", (TR, "--at", "1,2", "--trace", "--mode", "reverse")),
    Case("trace-json-reverse", "--trace in json: nodes and passes with their rows",
         (TR, "--at", "1,2", "--trace", "--mode", "reverse", "--format", "json")),
    Case("trace-jsonl-forward", "--trace in jsonl", (TR, "--at", "1,2", "--trace", "--format", "jsonl")),
    Case("trace-latex-reverse", "--trace in latex: booktabs tables, entries of J in bold",
         (TR, "--at", "1,2", "--trace", "--mode", "reverse", "--format", "latex")),
    Case("trace-latex-standalone", "--trace with --latex-standalone", (TR, "--at", "1,2", "--trace", "--latex-standalone")),
    Case("trace-seed-forward", "--trace of a single J·v pass", (EX3, "--at", "1,2,3", "--seed", "1,0,0", "--trace")),
    Case("trace-seed-reverse", "--trace of a single vᵀ·J pass", (EX3, "--at", "1,2,3", "--seed", "1,1", "--trace")),
    Case("trace-ascii-digits", "--trace --ascii --digits 3", (TR, "--at", "1,2", "--trace", "--ascii", "--digits", "3")),
    Case("trace-two-points", "--trace with two points: one trace per point", ("x*y", "--at", "1,2", "--at", "3,4", "--trace")),
    Case("trace-nonfinite", "--trace where a derivative is inf: exit 1 and a warning", ("sqrt(x) + y", "--at", "0,1", "--trace")),
    Case("trace-w-bar1", "an input named w_bar1 is typeset as a name, never as the adjoint w̄1 (issue 12 decision 4)",
         ("w_bar1 + x", "--at", "1,2", "--trace", "--format", "latex")),
    Case("trace-constant-exponent", "the rule of a constant exponent and of a repeated input",
         ("x^3 + x*x", "--at", "2", "--trace", "--mode", "reverse")),

    # ---- --seed
    Case("seed-jvp", "--seed with n entries: auto picks forward, J·v", (EX3, "--at", "1,2,3", "--seed", "1,0,0")),
    Case("seed-vjp", "--seed with m entries: auto picks reverse, vᵀ·J", (EX3, "--at", "1,2,3", "--seed", "1,1")),
    Case("seed-forward-square", "square J: --mode forward decides", (EX, "--at", "1,2", "--seed", "1,-1", "--mode", "forward")),
    Case("seed-json-jvp", "json of a JVP: seed and jvp keys", (EX3, "--at", "1,2,3", "--seed", "0.5,0,2", "--format", "json")),
    Case("seed-json-vjp", "json of a VJP", (EX3, "--at", "1,2,3", "--seed", "1,-2", "--format", "json")),
    Case("seed-csv-vjp", "csv of a VJP at two points", (EX3, "--at", "1,2,3", "--at", "0,1,0", "--seed", "1,1", "--format", "csv")),
    Case("seed-jsonl-jvp", "jsonl of a JVP", (EX3, "--at", "1,2,3", "--seed", "1,0,0", "--format", "jsonl")),
    Case("seed-ambiguous", "square J and a seed without --mode: usage error, exit 2", (EX, "--at", "1,2", "--seed", "1,0")),
    Case("seed-wrong-length", "a seed that fits neither mode: exit 2", (EX3, "--at", "1,2,3", "--seed", "1,2,3,4")),
    Case("seed-wrong-length-mode", "a seed of the wrong length for the chosen mode: exit 2",
         (EX3, "--at", "1,2,3", "--seed", "1,2", "--mode", "forward")),
    Case("seed-not-numbers", "a seed that is not a list of numbers: exit 2", (EX, "--at", "1,2", "--seed", "1,a")),

    # ---- --check
    Case("check-pass", "--check: PASS with both distances", (EX, "--at", "1,2", "--check")),
    Case("check-pass-json", "--check in json: the check object", (EX, "--at", "1,2", "--check", "--format", "json")),
    Case("check-jsonl", "--check in jsonl", (EX, "--at", "1,2", "--at", "0.5,0.5", "--check", "--format", "jsonl")),
    Case("check-csv", "--check in csv: a check column", (EX, "--at", "1,2", "--at", "0,0", "--check", "--format", "csv")),
    Case("check-trace", "--check with --trace: the trace, the table, then the verdict", ("x*y", "--at", "2,3", "--check",
                                                                                       "--trace")),
    Case("check-inconclusive-kink", "INCONCLUSIVE: the steps cross the kink of abs",
         ("abs(x1 - 1)*x2 + sqrt(x2)", "--at", "1.000001,4", "--check")),
    Case("check-inconclusive-edge-json", "INCONCLUSIVE in json: a probe leaves sqrt's domain",
         ("sqrt(x)", "--at", "1e-8", "--check", "--format", "json")),
    Case("check-inconclusive-rounding", "INCONCLUSIVE: the quotient's rounding exceeds the tolerance", ("1e10 + x", "--at", "1", "--check")),
    Case("check-inconclusive-pole", "INCONCLUSIVE: the steps cross a pole of tan", ("tan(x)", "--at", "1.5707963", "--check")),
    Case("check-nonfinite", "--check where the derivative is inf: exit 1", ("cbrt(x)", "--at", "0", "--check")),
    Case("check-with-seed", "--check with --seed: usage error", (EX, "--at", "1,2", "--check", "--seed", "1,0", "--mode", "forward")),
    Case("check-no-point", "--check without --at: usage error", (EX, "--check")),
    Case("check-latex", "--check with latex: usage error", (EX, "--at", "1,2", "--check", "--format", "latex")),

    # ---- symbolic (no point, or --symbolic)
    Case("symbolic-default", "no --at: formulas, and a note on stderr", (EX,)),
    Case("symbolic-flag", "--symbolic: formulas, no note", (EX, "--symbolic")),
    Case("symbolic-trace-reverse", "symbolic --trace in reverse mode", (EX3, "--trace", "--mode", "reverse")),
    Case("symbolic-json", "symbolic json: formulas as strings, wengert", (EX, "--symbolic", "--format", "json")),
    Case("symbolic-json-trace", "symbolic json with the trace", ("x*y, x+y", "--symbolic", "--trace", "--format", "json")),
    Case("symbolic-jsonl", "symbolic jsonl", (EX, "--symbolic", "--format", "jsonl")),
    Case("symbolic-latex", "symbolic latex fragment", (EX, "--symbolic", "--format", "latex")),
    Case("symbolic-latex-standalone-trace", "symbolic --trace --latex-standalone", ("x*y, x+y", "--symbolic", "--trace",
                                                                                     "--latex-standalone")),
    Case("symbolic-seed", "symbolic J·v", (EX3, "--symbolic", "--seed", "1,0,0")),
    Case("symbolic-ascii", "symbolic with --ascii", (EX, "--symbolic", "--ascii", "--trace")),
    Case("symbolic-header", "formulas with a header's input order", ("f(y, x) = x^2*y + sin(y)",)),
    Case("symbolic-nonfinite", "a formula not finite anywhere: (1/0), warning, exit 1", ("1/(x-x) + y", "--symbolic")),
    Case("symbolic-constants", "exact constants in formulas: ln(2), pi, 1/3", ("2^x + pi*x/3", "--symbolic", "--format", "json")),
    Case("symbolic-csv", "csv needs numbers: usage error", (EX, "--format", "csv")),
    Case("symbolic-with-at", "--symbolic and --at together: usage error", (EX, "--symbolic", "--at", "1,2")),

    # ---- --points
    Case("points-csv-header", "--points: a header row matched by name, comments, blank lines, spaces",
         (EX, "--points", "points.csv", "--format", "csv"), files={"points.csv": POINTS_CSV}),
    Case("points-whitespace-table", "--points with whitespace-separated columns, table output",
         (EX, "--points", "pts.txt"), files={"pts.txt": POINTS_WS}),
    Case("points-json", "--points into one json document", (EX, "--points", "pts.txt", "--format", "json"),
         files={"pts.txt": POINTS_WS}),
    Case("points-npy", "--points from an .npy array, jsonl", (EX, "--points", "X.npy", "--format", "jsonl"),
         files={"X.npy": X_NPY}),
    Case("points-seed-csv", "--points with --seed: one VJP per point", (EX3, "--points", "p3.txt", "--seed", "1,1",
                                                                      "--format", "csv"), files={"p3.txt": "1,2,3\n0,1,0\n"}),
    Case("points-stdin-bad-row", "--points - from a pipe; row 3 is bad: earlier rows written, exit 2",
         (EX, "--points", "-", "--format", "jsonl"), stdin="1,2\n3,4\n5,x\n", runner="process"),
    Case("points-stdin-npy", "--points - with an .npy array on stdin", (EX, "--points", "-", "--format", "csv"),
         stdin=X_NPY, runner="process"),
    Case("points-json-bad-row", "a bad row under --format json: the document is still closed, exit 2",
         (EX, "--points", "p.txt", "--format", "json"), files={"p.txt": "1,2\n3,4\n5,x\n"}),
    Case("points-nonfinite-jsonl", "--points jsonl with non-finite results: warnings on their lines, exit 1",
         ("log(x1) + x2", "--points", "p.txt", "--format", "jsonl"), files={"p.txt": "1,1\n-1,1\n"}),
    Case("points-header-only", "a points file with a header and no rows", (EX, "--points", "p.txt", "--format", "csv"),
         files={"p.txt": "x1,x2\n"}),
    Case("points-no-inputs", "--points for a function without inputs: exit 2", ("2, pi", "--points", "p.txt"),
         files={"p.txt": "1\n"}),
    Case("points-npy-nan", "a nan in an .npy file is an error, with its row", (EX, "--points", "bad.npy"),
         files={"bad.npy": BAD_NPY}),
    Case("points-nonfinite", "--points where some results are not finite: warnings, exit 1",
         ("log(x1) + x2", "--points", "p.txt", "--format", "csv"), files={"p.txt": "1,1\n-1,1\n0,2\n2,2\n"}),
    Case("points-wrong-count", "a row with the wrong number of values", (EX, "--points", "p.txt"), files={"p.txt": "1,2\n1,2,3\n"}),
    Case("points-unknown-header", "a header naming an unknown input", (EX, "--points", "p.txt"), files={"p.txt": "x1,z\n1,2\n"}),
    Case("points-and-at", "--points and --at together: usage error", (EX, "--points", "p.txt", "--at", "1,2"),
         files={"p.txt": "1,2\n"}),
    Case("points-missing-file", "--points FILE that does not exist", (EX, "--points", "nope.csv")),
    Case("points-with-trace", "--points with --trace: usage error", (EX, "--points", "p.txt", "--trace"), files={"p.txt": "1,2\n"}),

    # ---- --output and --format npy
    Case("output-csv", "-o FILE: csv written to the file, nothing on stdout", (EX, "--at", "1,2", "--format", "csv", "-o", "J.csv")),
    Case("output-json-points", "--output with --points and json", (EX, "--points", "pts.txt", "--format", "json", "--output",
                                                                   "J.json"), files={"pts.txt": POINTS_WS}),
    Case("output-overwrite", "-o FILE replaces an existing file", (EX, "--at", "1,2", "--format", "csv", "-o", "J.csv"),
         files={"J.csv": "old contents\n"}),
    Case("output-table", "the table can go to a file too", (EX, "--at", "1,2", "-o", "J.txt")),
    Case("output-latex-trace", "latex with --trace to a file", (TR, "--at", "1,2", "--trace", "--format", "latex", "-o", "J.tex")),
    Case("output-dash", "-o - is stdout", (EX, "--at", "1,2", "--format", "jsonl", "-o", "-")),
    Case("npz-at", "--format npy -o J.npz with --at: the archive's arrays", (EX, "--at", "1,2", "--at", "0,0",
                                                                             "--format", "npy", "-o", "J.npz")),
    Case("npz-points-seed", "--format npy from an .npy file with --seed: seed and jvp arrays",
         (EX3, "--points", "X3.npy", "--seed", "1,0,0", "--format", "npy", "-o", "S.npz"),
         files={"X3.npy": npy([[1, 2, 3], [0, 1, 0]])}),
    Case("npz-nonfinite", "--format npy with a non-finite result: archive written, exit 1",
         ("sqrt(x)", "--at", "0", "--at", "4", "--format", "npy", "-o", "r.npz")),
    Case("npz-stdout", "--format npy -o - writes the archive to a (non-terminal) stdout",
         ("x*y", "--at", "1,2", "--format", "npy", "-o", "-")),
    Case("npz-no-output", "--format npy without --output: usage error", (EX, "--at", "1,2", "--format", "npy")),
    Case("npz-named-npy", "--format npy -o J.npy: says to name it .npz", (EX, "--at", "1,2", "--format", "npy", "-o", "J.npy")),
    Case("output-missing-folder", "-o into a folder that does not exist", (EX, "--at", "1,2", "-o", "nope/J.csv")),

    # ---- --graph, --graph-out
    Case("graph-dot", "--graph: DOT text instead of the results", (TR, "--at", "1,2", "--graph")),
    Case("graph-reverse", "--graph --mode reverse: adjoints on the nodes", (TR, "--at", "1,2", "--graph", "--mode", "reverse")),
    Case("graph-seed-ascii", "--graph with a seed and --ascii", (EX, "--at", "1,2", "--graph", "--seed", "1,0",
                                                                 "--mode", "forward", "--ascii")),
    Case("graph-no-point", "--graph without --at: structure and rules only", (TR, "--graph")),
    Case("graph-two-points", "--graph with two points: the first, and a note", ("x*y", "--at", "1,2", "--at", "3,4", "--graph")),
    Case("graph-out-dot", "--graph-out g.dot: the table on stdout, DOT text in the file",
         (TR, "--at", "1,2", "--mode", "reverse", "--graph-out", "g.dot"), runner="process"),
    Case("graph-out-svg", "--graph-out g.svg: drawn by Graphviz (only its kind is pinned)",
         (TR, "--at", "1,2", "--graph-out", "g.svg"), runner="process", needs=("dot",)),
    Case("graph-out-symbolic", "--graph-out with formulas (no point)", ("x*y", "--graph-out", "g.gv")),
    Case("graph-out-missing-folder", "--graph-out into a folder that does not exist", (TR, "--at", "1,2", "--graph-out",
                                                                                       "nope/g.dot")),
    Case("graph-json", "--graph with --format json: usage error", (TR, "--at", "1,2", "--graph", "--format", "json")),
    Case("graph-out-bad-suffix", "--graph-out g.txt: usage error", (TR, "--at", "1,2", "--graph-out", "g.txt")),

    # ---- non-finite results (exit 1)
    Case("nonfinite-table", "inf value and derivatives: printed, two warnings, exit 1", ("sqrt(x) + 1/y", "--at", "0,0")),
    Case("nonfinite-json", "not finite in json: null and warning objects, exit 1",
         ("log(x1-x2), x1*x2", "--at", "1,2", "--format", "json")),
    Case("nonfinite-csv", "not finite in csv", ("asin(x), 0/x", "--at", "2", "--at", "0", "--format", "csv")),
    Case("nonfinite-overflow", "overflow to inf (no big integers)", ("9**9**9**9 * x + 2^2^2^2^2^2", "--at", "1")),

    # ---- errors in the expression (exit 2, caret under the problem)
    Case("error-unknown-function", "a syntax error is found before a name is looked up (the program is read whole)",
         ("sinn(x1) + 2x1", "--at", "1")),
    Case("error-unknown-function-alone", "unknown function: caret and did-you-mean", ("sinn(x1) + 2*x1", "--at", "1")),
    Case("program-polar", "a program: intermediates named in the trace", ("r = sqrt(x^2 + y^2); t = atan2(y, x)\n"
         "r*cos(2*t), r*sin(2*t)", "--at", "1,2", "--trace", "--mode", "reverse")),
    Case("program-broyden", "x[1..n], a comprehension, if on constants", ("n = 4; f(x[1..n]) = [(3 - 2*x[i])*x[i] - "
         "if(i > 1, x[i-1], 0) - 2*if(i < n, x[i+1], 0) + 1 for i = 1..n]", "--at", "0.5,1,1.5,2", "--format", "json")),
    Case("program-error", "an error points into a program", ("t = [1, 2]\nf(x) = x*t[3]", "--at", "1")),
    Case("error-implicit-multiplication", "2x suggests 2*x", ("2x + 1", "--at", "1")),
    Case("error-unbalanced", "an unclosed parenthesis", ("sin(x + 1", "--at", "1")),
    Case("error-stray-character", "a character that is not in the language", ("x $ y", "--at", "1,2")),
    Case("error-multiline-caret", "the caret names line and column in a multi-line expression", ("x +\n  * y", "--at", "1,2")),
    Case("error-long-line", "a long line is cut to a window around the caret",
         (" + ".join(f"x{k}" for k in range(40)) + " + )", "--at", "1")),
    Case("error-empty-expression", "an empty expression", ("", "--at", "1")),
    Case("error-blank-expression", "an expression of blanks", ("   ", "--at", "1")),
    Case("error-undeclared-name", "a name the header does not declare", ("f(x) = x*y", "--at", "1")),
    Case("error-python-text", "Python is not evaluated", ("__import__('os').system('true')", "--at", "1")),

    # ---- errors on the command line (exit 2)
    Case("error-at-not-number", "--at with a word", (EX, "--at", "1,a")),
    Case("error-at-nan", "--at nan is refused", (EX, "--at", "nan,1")),
    Case("error-at-trailing-comma", "--at 1, ends with a comma", ("x", "--at", "1,")),
    Case("error-at-mixed", "--at mixes positions and names", (EX, "--at", "1,x2=2")),
    Case("error-at-empty", "--at with nothing in it", (EX, "--at", "")),
    Case("error-at-hex", "--at with a hexadecimal number", ("x", "--at", "0x10")),
    Case("error-at-overflow", "--at with a number too large for a double", ("x", "--at", "1e999")),
    Case("error-at-count", "wrong number of values at a point", (EX, "--at", "1,2,3")),
    Case("error-at-decimal-comma", "one input and two values: hint about the decimal point", ("x^2", "--at", "1,5")),
    Case("error-at-unknown-name", "--at names an input that does not exist", (EX, "--at", "x1=1,x3=2")),
    Case("error-at-missing-name", "--at by name leaves one out", (EX, "--at", "x1=1")),
    Case("error-vars-bad", "--vars with a name that is not a name", ("x*y", "--vars", "x,2y", "--at", "1,2")),
    Case("error-vars-missing-input", "--vars that leaves out an input of the expression", ("x*y", "--vars", "x", "--at", "1")),
    Case("error-unknown-option", "an unknown option", (EX, "--at", "1,2", "--frobnicate")),
    Case("error-bad-format", "--format that is not a choice", (EX, "--at", "1,2", "--format", "xml")),
    Case("error-digits-range", "--digits out of range", (EX, "--at", "1,2", "--digits", "0")),
    Case("error-trace-csv", "--trace has no csv form", (EX, "--at", "1,2", "--trace", "--format", "csv")),
    Case("error-standalone-json", "--latex-standalone with --format json", (EX, "--at", "1,2", "--latex-standalone",
                                                                          "--format", "json")),
    Case("error-no-expression", "no EXPRESSION at all", ("--at", "1,2")),
    Case("error-stdin-twice", "expression and points both from stdin", ("-", "--points", "-"), stdin="x*y\n"),

    # ---- help and version
    Case("help", "--help: options and examples (a process: CliRunner forces click's help width to 80)",
         ("--help",), runner="process"),
    Case("version", "--version", ("--version",)),
]
