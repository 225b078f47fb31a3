"""Every file is parsed in a child process whose memory and CPU time are capped.

Checks on the zip directory and on every row refuse the hostile files we know of; the cap
refuses the ones we do not: a forked child (it inherits the catalogue, including kinds a
test declares, and the limits as they stand) parses with its address space limited to the
parent's plus PARSE_MEMORY_BYTES_MAX (``RLIMIT_AS``) and its CPU time to
PARSE_CPU_SECONDS_BASE + PARSE_CPU_SECONDS_PER_MIB(_XLSX) per MiB of file (``RLIMIT_CPU``).
The table comes back as the Arrow IPC file the child wrote; the rest as a small pickle
(our own process's, never a file's). A child past a cap is a file error naming the limit.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import pickle
import resource
import signal
import traceback
from dataclasses import dataclass
from pathlib import Path

from api.files import limits
from api.files.model import RowError
from api.files.parse import Outcome, parse_to

EXIT_OK, EXIT_MEMORY, EXIT_CRASH = 0, 3, 4
OUTCOME_FILE, CRASH_FILE = "outcome.pickle", "crash.txt"
_XLSX = "_XLSX"
_ENOMEM_TEXT = os.strerror(errno.ENOMEM)  # 'Cannot allocate memory'


class ParserCrashed(RuntimeError):
    """Our own parser failed on a file (a bug, not the file's fault): its traceback."""


def cpu_seconds_max(path: Path, size_bytes: int) -> int:
    per_mib = limits.PARSE_CPU_SECONDS_PER_MIB_XLSX if path.suffix.lower() == ".xlsx" \
        else limits.PARSE_CPU_SECONDS_PER_MIB
    return limits.PARSE_CPU_SECONDS_BASE + per_mib * -(-size_bytes // limits.MIB)


@dataclass(frozen=True)
class Child:
    """A parsing child under way: ``finish`` waits for it and reads what it wrote."""

    pid: int
    path: Path
    out: Path
    work: Path
    cpu: int


def start(path: Path, kind: str, out: Path, work: Path,
          amount_max_fen: int | None = None) -> Child:
    """Fork the capped child that parses ``path`` into ``out`` (from the main thread: a
    fork while another thread holds a lock would copy the lock held)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    memory = _address_space_bytes() + limits.PARSE_MEMORY_BYTES_MAX
    cpu = cpu_seconds_max(path, min(size, limits.MAX_FILE_BYTES))
    pid = os.fork()
    if pid == 0:  # the child never returns from here
        _child(path, kind, out, work, amount_max_fen, (memory, cpu))
    return Child(pid, path, out, work, cpu)


def finish(child: Child) -> Outcome:
    """Wait for the child; its outcome, or the error of the limit it hit."""
    status, usage = _wait(child.pid)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_OK:
        with open(child.work / OUTCOME_FILE, "rb") as handle:
            outcome: Outcome = pickle.load(handle)
    else:
        child.out.unlink(missing_ok=True)  # what a child past a cap wrote is no table
        outcome = _failed(child.path, status, usage, child.work, child.cpu)
    outcome.child_peak_rss_bytes = usage.ru_maxrss * 1024
    outcome.child_cpu_seconds = usage.ru_utime + usage.ru_stime
    return outcome


def abandon(child: Child) -> None:
    """Stop a child whose outcome is no longer wanted (the caller failed meanwhile)."""
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(child.pid, signal.SIGKILL)
        os.waitpid(child.pid, 0)


def _wait(pid: int) -> tuple[int, resource.struct_rusage]:
    """The child's status and usage; interrupted (a timer, Ctrl-C), the child goes too."""
    try:
        _, status, usage = os.wait4(pid, 0)
        return status, usage
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise


def _failed(path: Path, status: int, usage: resource.struct_rusage, work: Path,
            cpu: int) -> Outcome:
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_CRASH:
        crash = work / CRASH_FILE
        text = crash.read_text(encoding="utf-8") if crash.exists() else ""
        raise ParserCrashed(f"{path.name}: the parser failed\n{text}")
    signalled = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    spent = usage.ru_utime + usage.ru_stime
    if signalled == signal.SIGXCPU or (signalled == signal.SIGKILL and spent >= cpu):
        reason = (f"reading it takes more than {cpu} CPU seconds (PARSE_CPU_SECONDS_BASE "
                  f"+ PARSE_CPU_SECONDS_PER_MIB{_XLSX if path.suffix.lower() == '.xlsx' else ''}"
                  " per MiB): split the file")
    else:
        reason = (f"reading it needs more than {limits.PARSE_MEMORY_BYTES_MAX // limits.MIB}"
                  " MB of memory (PARSE_MEMORY_BYTES_MAX): split the file or save it as CSV")
    return Outcome(errors=[RowError(path.name, 0, "", reason)])


def _address_space_bytes() -> int:
    """This process's virtual size (what RLIMIT_AS counts), from /proc."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _child(path: Path, kind: str, out: Path, work: Path, amount_max_fen: int | None,
           caps: tuple[int, int]) -> None:
    memory, cpu = caps
    code = EXIT_CRASH
    try:
        gc.freeze()  # the parent's objects are never collected (nor finalised) here
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())  # no arena reserved ahead of use
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        outcome = parse_to(path, kind, out, work, amount_max_fen)
        with open(work / OUTCOME_FILE, "wb") as handle:
            pickle.dump(outcome, handle)
        code = EXIT_OK
    except MemoryError:
        code = EXIT_MEMORY
    except OSError as exc:  # Arrow reports a failed allocation or mapping as an OSError
        code = EXIT_MEMORY if exc.errno == errno.ENOMEM or _ENOMEM_TEXT in str(exc) \
            else _crashed(work)
    except BaseException:  # noqa: B036 - reported to the parent, whatever it was
        code = _crashed(work)
    finally:
        os._exit(code)


def _crashed(work: Path) -> int:
    with contextlib.suppress(BaseException):  # nothing more can be said
        (work / CRASH_FILE).write_text(traceback.format_exc(), encoding="utf-8")
    return EXIT_CRASH
