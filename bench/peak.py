"""The peak memory a benchmark reports: its own process's, read the same way by every benchmark."""

from __future__ import annotations


def peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM on Linux (its memory since exec). ``ru_maxrss`` also
    holds the parent's resident memory at the fork, which Linux keeps across exec (a benchmark's child started
    after its parent generated a data set reported the parent's 1.1 GB), so it is only the fallback
    (kilobytes, as Linux and the BSDs give it; macOS gives bytes). 0 where neither exists (Windows)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return 0.0
    import sys
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2 ** 20 if sys.platform == "darwin" else kb / 1024
