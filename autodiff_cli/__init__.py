"""adjac: Jacobians by automatic differentiation, from the command line or from Python.

    >>> from autodiff_cli import parse, jacobian
    >>> graph = parse("x1*x2 + sin(x1), exp(x1-x2)")
    >>> y, J = jacobian(graph, [1.0, 2.0], mode="reverse")

The pipeline is parse → Graph (a Wengert list) → linearize → forward or reverse
sweeps → render; see the modules of the same names.
"""

from .core.ad import differentiate, evaluate, jacobian, jvp, linearize, sweeps, vjp
from .core.graph import Const, Graph, Op
from .core.parse import parse
from .errors import AdjacError, ParseError
from .report import Report, compute

__version__ = "0.1.0"
__all__ = [
    "AdjacError",
    "Const",
    "Graph",
    "Op",
    "ParseError",
    "Report",
    "__version__",
    "compute",
    "differentiate",
    "evaluate",
    "jacobian",
    "jvp",
    "linearize",
    "parse",
    "sweeps",
    "vjp",
]
