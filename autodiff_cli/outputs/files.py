"""Where the output goes: a file adjac writes is replaced whole when the run completes, or not at all.

``Output(path)`` is one file to write (``--output``, ``--graph-out``).  Its bytes go to a
temporary file beside the target (``.NAME.adjac-XXXXXXXX.tmp``); ``commit`` flushes and syncs
it, gives it the permissions the target has (or would get) and renames it over the target, so
a reader sees the old file or the new one, never a mix; ``discard`` removes it.  A symbolic
link is followed: the file it points to is replaced and the link stays.  A target that exists
and is not a regular file (/dev/null, /dev/full, a FIFO, a terminal), or any path under /dev
or /proc (/dev/stdout), has nothing to replace: it is written directly, appending.

``Guard`` is the boundary of one run.  Inside it SIGINT, SIGTERM and SIGHUP raise
``Interrupted`` (an exception, so every ``finally`` runs and no temporary file stays behind),
standard output is wrapped so that a failed write raises ``WriteError``, and on the way out
the outputs opened during the run are committed if it completed (no exception, or exit
status 0 or 1) and discarded otherwise.

This module prints nothing and never exits; the command turns ``Interrupted`` and
``WriteError`` into a message and an exit status.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import IO, Any

from ..errors import Interrupted, WriteError

SIGNALS = (signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []))
COMPLETED = (None, 0, 1)                # exit statuses of a run whose results are whole (1: some not finite)
BUFFER = 2**20
STDOUT = "standard output"


class _Checked(io.RawIOBase):
    """The bytes for ``inner``; an OSError on writing becomes a WriteError naming the output.

    After the first failure further bytes are dropped, so that buffers flushed later (on
    close, at exit) do not raise the same error again: it is reported once.
    """

    def __init__(self, inner: Any, name: str, seekable: bool = True):
        super().__init__()
        self.inner, self.name, self._seekable = inner, name, seekable
        self.failed = False
        self.written = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable and self.inner.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def write(self, b: Any) -> int:
        size = len(memoryview(b))
        if self.failed:
            return size
        try:
            n = self.inner.write(b)
            if hasattr(self.inner, "flush"):       # a buffered stdout: pass it on now
                self.inner.flush()
        except OSError as err:
            self.failed = True
            raise WriteError(self.name, err) from None
        n = size if n is None else n
        self.written += n
        return n

    def flush(self) -> None:
        if self.failed or self.closed:
            return
        try:
            self.inner.flush()
        except OSError as err:
            self.failed = True
            raise WriteError(self.name, err) from None


def _direct(path: str) -> bool:
    """Whether ``path`` is written in place: a device, a FIFO, a socket, anything under /dev or /proc."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return os.path.exists(path)
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Output:
    """One file written whole or not at all (see the module's docstring).

    ``binary`` and ``text()`` are the streams to write; ``path_for_writer`` is the name a
    program such as dot writes to instead (the temporary file, or the target when direct).
    Inside a ``Guard`` it belongs to the run from the moment its temporary file exists.
    """

    def __init__(self, path: str):
        self.path, self.direct, self.tmp, self.done = path, _direct(path), "", False
        self.file: io.FileIO | None = None
        self.binary: io.BufferedWriter | None = None
        self._text: io.TextIOWrapper | None = None
        self.target = path if self.direct else os.path.realpath(path)
        self.folder = tempfile.gettempdir() if self.direct else os.path.dirname(self.target)
        if _guard is not None:
            _guard.outputs.append(self)
        try:
            if self.direct:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            else:
                fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(self.target)}.adjac-", suffix=".tmp",
                                                dir=self.folder)
        except OSError as err:
            raise WriteError(path, err) from None
        self.file = io.FileIO(fd, "w")
        self.raw = _Checked(self.file, path, seekable=not self.direct)
        self.binary = io.BufferedWriter(self.raw, BUFFER)

    @property
    def path_for_writer(self) -> str:
        return self.target if self.direct else self.tmp

    def text(self) -> IO[str]:
        """The output as UTF-8 text, lines ending in \\n."""
        assert self.binary is not None
        if self._text is None:
            self._text = io.TextIOWrapper(self.binary, encoding="utf-8", newline="")
        return self._text

    def holds_data(self) -> bool:
        """Whether something was written into the temporary file (by us, or by a program)."""
        if self.direct or self.done or self.binary is None:
            return False
        with contextlib.suppress(Exception):
            if self._text is not None:
                self._text.flush()
            return self.binary.tell() > 0 or os.path.getsize(self.tmp) > 0
        return False

    def commit(self) -> None:
        """Flush and sync the bytes and rename them over the target; WriteError if that fails."""
        if self.done:
            return
        assert self.binary is not None and self.file is not None
        try:
            if self._text is not None:
                self._text.flush()
            self.binary.flush()
            if self.direct:
                self.binary.close()
            else:
                os.fsync(self.file.fileno())
                mode = self._mode()
                self.binary.close()
                os.chmod(self.tmp, mode)
                os.replace(self.tmp, self.target)
                self.done = True
                self._sync_folder()
        except OSError as err:
            self.discard()
            raise WriteError(self.path, err) from None
        except BaseException:
            self.discard()
            raise
        self.done = True

    def discard(self) -> None:
        """Drop what was written; an existing target stays as it was.  Never raises."""
        if self.done:
            return
        self.done = True
        if self.binary is not None:
            self.raw.failed = True              # buffered bytes go nowhere
        for stream in (self._text, self.binary, self.file):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        if self.tmp:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)

    def _mode(self) -> int:
        """The permissions of the file being replaced, or those a new file would get."""
        try:
            return stat.S_IMODE(os.stat(self.target).st_mode)
        except FileNotFoundError:
            return 0o666 & ~_umask()

    def _sync_folder(self) -> None:
        """Make the rename itself durable (some file systems cannot sync a folder: then skip it)."""
        with contextlib.suppress(OSError):
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def problem(path: str, reads: Sequence[str | int] = ()) -> str | None:
    """Why ``path`` cannot be an output of this run, or None; checked before anything is computed.

    ``reads`` are the files the run reads (paths, or descriptors such as 0 for stdin):
    an output that is one of them, by any name, is refused, since it would replace its input.
    """
    if path == "":
        return "the file name is empty"
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as err:
        return f"cannot write {path!r}: {err.strerror}"
    if st is not None and stat.S_ISDIR(st.st_mode):
        return f"{path!r} is a folder"
    if st is not None and stat.S_ISREG(st.st_mode):
        for source in reads:
            try:
                other = os.fstat(source) if isinstance(source, int) else os.stat(source)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                if isinstance(source, int):
                    return f"{path!r} is the file on standard input, which adjac reads; write the results to another file"
                alias = "" if source == path else f" {source!r} by another name"
                return f"{path!r} is the points file{alias}; write the results to another file"
    if _direct(path):
        return None if os.access(path, os.W_OK) else f"cannot write {path!r}: permission denied"
    folder = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(folder):
        return f"cannot write {path!r}: {folder} is not a writable folder (it does not exist)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {path!r}: {folder} is not a writable folder"
    if st is not None and not os.access(path, os.W_OK):
        return f"cannot write {path!r}: permission denied"
    return None


def same_file(a: str, b: str) -> bool:
    """Whether two output names are one file (by its real path, existing or not)."""
    return os.path.realpath(a) == os.path.realpath(b)


_guard: Guard | None = None


def output(path: str) -> Output:
    """Open ``path`` for writing; inside a ``Guard`` it is committed or discarded with the run."""
    return Output(path)


class Guard:
    """One run: outputs committed when it completes, discarded otherwise; signals become
    ``Interrupted``; standard output raises ``WriteError`` when a write to it fails."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.lost: list[str] = []               # files that got output, but not the whole run's
        self.stopping = False
        self.signalled: int | None = None       # the signal that stopped the run, once one came
        self.stdout: _Checked | None = None
        self._saved: dict[int, Any] = {}
        self._stdout: Any = None                # the standard output it replaced, and its replacement
        self._wrapper: _Stdout | None = None
        self._outer: Guard | None = None

    def __enter__(self) -> Guard:
        global _guard
        self._outer, _guard = _guard, self
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                if signal.getsignal(signum) != signal.SIG_IGN:     # nohup, a background job: stay deaf
                    self._saved[signum] = signal.signal(signum, self._interrupt)
        stream = sys.stdout
        if stream is not None and hasattr(stream, "buffer"):
            stream.flush()
            self.stdout = _Checked(stream.buffer, STDOUT)
            self._stdout = stream
            sys.stdout = self._wrapper = _Stdout(stream, io.BufferedWriter(self.stdout, BUFFER))
        return self

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:                       # already on the way out: finish cleaning up
            return
        self.stopping = True
        self.signalled = signum                 # kept: library code may swallow the exception (SymPy has
        raise Interrupted(signum)               # bare excepts), and the run must still not pass for complete

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        global _guard
        if self.signalled is not None and not isinstance(err, Interrupted):   # the Interrupted was swallowed
            kind, err = Interrupted, Interrupted(self.signalled)
        completed = kind is None or (isinstance(err, SystemExit) and err.code in COMPLETED)
        self.stopping = True                    # from here on a signal changes nothing
        if not completed:
            self.lost = [out.path for out in self.outputs if out.holds_data()]
        try:
            self._flush_stdout(report=completed, drop=isinstance(err, Interrupted))
            for out in self.outputs:
                if completed:
                    out.commit()
                else:
                    out.discard()
        finally:
            for out in self.outputs:
                out.discard()                   # after a failed commit: the rest too (a no-op once committed)
            if self._stdout is not None:
                sys.stdout = self._stdout
            for signum, handler in self._saved.items():
                signal.signal(signum, handler)
            _guard = self._outer
        if isinstance(err, Interrupted):
            err.unwritten = [out.path for out in self.outputs if not out.direct]
            err.incomplete = [out.path for out in self.outputs if out.direct]
            if not self.outputs or (self.stdout is not None and self.stdout.written):
                err.incomplete.append(STDOUT)
            if tb is None or err.__traceback__ is None:     # raised here, not passing through
                raise err

    def _flush_stdout(self, report: bool, drop: bool) -> None:
        """Flush what the run printed (after an error too: the rows before a malformed one);
        after an interrupt drop it instead, as a flush to a pipe nobody reads would never end."""
        if self.stdout is None or self._wrapper is None:
            return
        try:
            if drop:
                return
            self._wrapper.flush()
            self.stdout.flush()
        except WriteError:
            if report:
                raise
        finally:
            self.stdout.failed = True           # what is left goes nowhere (nothing, after a flush)


class _Stdout(io.TextIOWrapper):
    """Standard output through ``_Checked``: the same encoding, and a terminal when it is one."""

    def __init__(self, original: Any, buffer: io.BufferedWriter):
        super().__init__(buffer, encoding=original.encoding or "utf-8", errors=original.errors,
                         line_buffering=bool(original.line_buffering))
        self.original = original

    def isatty(self) -> bool:
        return bool(self.original.isatty())


def silence_stdout() -> None:
    """After a failed write to standard output, point it at /dev/null, so that flushing it at
    exit cannot fail again (the recipe of Python's documentation for a broken pipe)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
