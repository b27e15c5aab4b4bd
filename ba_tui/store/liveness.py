"""Whether the process that opened a streaming reply still runs: a reply whose writer is
gone is closed as interrupted when the store opens."""

from __future__ import annotations

import os
import sys


def alive(pid: int | None) -> bool:
    """Whether a process with this pid is running (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _alive_windows(pid: int) -> bool:
    # os.kill(pid, 0) on Windows would send CTRL_C_EVENT; ask the kernel instead. (The
    # platform check is also what lets type checkers elsewhere skip ctypes.windll.)
    if sys.platform != "win32":
        raise OSError("only on Windows")
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
