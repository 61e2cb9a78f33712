"""What Linux's ``/proc`` says of a process: alive, its memory, its CPU time, the processes below it.

The query pool (``kg.workers``) watches its workers with these; the tests and benchmarks that check
the server's process tree (memory flat under load, workers gone after a kill) use the same ones.
Without ``/proc`` every answer is "nothing known" (0, empty, not alive).
"""

from __future__ import annotations

import os


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def exited(pid: int) -> bool:
    """Whether a process has died, reaped or not (the fork server reports a death a moment later)."""
    fields = _stat(pid)
    if fields is None:
        return os.path.isdir("/proc/self")  # gone; without /proc at all, the caller's own check decides
    return fields[0] in ("Z", "X")


def alive(pid: int) -> bool:
    """Whether a process exists and has not died (a zombie is dead)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def process_rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, in seconds (0 when it is gone)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (for the server: the fork server and the query workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[0] not in ("Z", "X"):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found
