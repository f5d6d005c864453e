#!/usr/bin/env python3
"""Run a command and report its wall time and peak memory, both kinds.

    tools/peak_memory.py OUT.json -- COMMAND [ARGS...]

Peak RSS (VmHWM, what /usr/bin/time reports) counts the pages of memory-mapped files the
process touched, such as the store read through SQLite's memory map, which the kernel can
drop at any time; peak anonymous memory (the largest RssAnon seen, sampled every 50 ms) is
what the process itself holds. Writes {"seconds", "peak_rss_kb", "peak_anon_kb", "status"}.
The command's output goes to this script's output.
"""
import json, subprocess, sys, time

out = sys.argv[1]
command = sys.argv[sys.argv.index("--") + 1:]
start = time.monotonic()
process = subprocess.Popen(command)
peak_anon = peak_rss = 0


def sample():
    global peak_anon, peak_rss
    try:
        with open(f"/proc/{process.pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    peak_anon = max(peak_anon, int(line.split()[1]))
                elif line.startswith("VmHWM:"):
                    peak_rss = max(peak_rss, int(line.split()[1]))
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass


while process.poll() is None:
    sample()
    time.sleep(0.05)
seconds = time.monotonic() - start
json.dump({"seconds": seconds, "peak_rss_kb": peak_rss, "peak_anon_kb": peak_anon, "status": process.returncode}, open(out, "w"))
sys.exit(process.returncode)
