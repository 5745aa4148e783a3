"""CPU time of the processes a notebook benchmark runs on, by role, read from ``/proc`` (Linux).

On a machine of two cores the kernel, the Jupyter server and the browser share the CPU, so a
viewer's wall time depends on what every one of them does, not only on the page. Taking
:func:`cpu_by_role` before and after a measured step says which process spent the time:

- ``kernel``: the notebook kernels the server started (and their children, e.g. decode workers);
- ``server``: the Jupyter server itself;
- ``page``: Chromium's renderer processes (the page's JavaScript, layout, painting, receiving
  websocket messages);
- ``browser``: Chromium's other processes (browser, GPU / display compositor, network service).

Elsewhere than Linux the readings are empty, and so are the differences.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROLES", "cpu_by_role", "cpu_delta"]

ROLES = ("kernel", "server", "page", "browser")

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds so far, command line) of every readable process."""
    out: dict[int, tuple[int, float, str]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        # the command name in parentheses may hold spaces: split after its closing one
        fields = stat.rsplit(")", 1)[1].split()
        parent, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        out[int(entry.name)] = (parent, (utime + stime) / _TICKS, cmdline)
    return out


def cpu_by_role(chromium_pid: int, server_marker: str) -> dict[str, float]:
    """CPU seconds used so far by each role (see the module docstring); empty if ``/proc``
    cannot be read.

    Parameters
    ----------
    chromium_pid
        The browser process that the benchmark started (its descendants count).
    server_marker
        Text found in the Jupyter server's command line and in no other process's, e.g.
        ``"--ServerApp.port=8123"``; its descendants are the kernels.
    """
    procs = _processes()
    if not procs:
        return {}
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in procs.items():
        children.setdefault(parent, []).append(pid)

    def tree(root: int) -> list[int]:
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            if pid in procs:
                found.append(pid)
                todo.extend(children.get(pid, []))
        return found

    totals = dict.fromkeys(ROLES, 0.0)
    for pid in tree(chromium_pid):
        role = "page" if "--type=renderer" in procs[pid][2] else "browser"
        totals[role] += procs[pid][1]
    servers = [pid for pid, (_, _, cmd) in procs.items() if server_marker in cmd]
    for server in servers:
        totals["server"] += procs[server][1]
        for child in children.get(server, []):
            role = "kernel" if "ipykernel" in procs[child][2] else "server"
            for pid in tree(child):
                totals[role] += procs[pid][1]
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """``cpu_<role>_s`` keys: the CPU seconds each role used between two readings, and
    ``cpu_total_s`` (the sum). Empty where ``/proc`` could not be read."""
    if not before or not after:
        return {}
    out = {f"cpu_{role}_s": round(after[role] - before[role], 4) for role in ROLES}
    out["cpu_total_s"] = round(sum(out.values()), 4)
    return out
