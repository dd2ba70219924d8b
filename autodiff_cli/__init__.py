"""adjac: Jacobians by automatic differentiation, from the command line or from Python.

    >>> from autodiff_cli import parse, jacobian
    >>> graph = parse("x1*x2 + sin(x1), exp(x1-x2)")
    >>> y, J = jacobian(graph, [1.0, 2.0], mode="reverse")

The pipeline is parse → Graph (a Wengert list) → linearize → forward or reverse
sweeps → render; see the modules of the same names.
"""

import signal as _signal

# numpy starts its BLAS threads when it is imported.  Started with SIGINT, SIGTERM and SIGHUP
# blocked, they never receive those signals, so the kernel hands each one to the main thread,
# where a read from a pipe (--points -) is interrupted and the handler stops the run at once;
# a signal taken by a BLAS thread would leave that read waiting for input that never comes.
_STOPPING = {_signal.SIGINT, _signal.SIGTERM} | ({_signal.SIGHUP} if hasattr(_signal, "SIGHUP") else set())
_MASK = _signal.pthread_sigmask(_signal.SIG_BLOCK, _STOPPING) if hasattr(_signal, "pthread_sigmask") else None
try:
    import numpy  # noqa: F401
finally:
    if _MASK is not None:
        _signal.pthread_sigmask(_signal.SIG_SETMASK, _MASK)

from .core.ad import differentiate, evaluate, jacobian, jvp, linearize, sweeps, vjp  # noqa: E402
from .core.graph import Const, Graph, Op  # noqa: E402
from .core.parse import parse  # noqa: E402
from .errors import AdjacError, ParseError  # noqa: E402
from .report import Report, compute  # noqa: E402

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
