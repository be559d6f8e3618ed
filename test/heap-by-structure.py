#!/usr/bin/env python3
"""test/heap-by-structure.py: where a gateway's live heap goes, by the code that allocated it (issue 14).

    python3 test/heap-by-structure.py BINARY HEAP.pb.gz [TOP=25]

Reads the in-use heap profile (from [status] pprof = true: /debug/pprof/heap?gc=1; test/bench-scale.sh
saves one per profile) through `go tool pprof -traces` and attributes each sampled allocation to the
code that allocated it (not to what keeps it alive: a heap profile has no retainers; read those from the
code): the innermost frame of svgateway's own code on the allocation's stack, grouped as model columns
(model.columnWriter, newColumn: the readings), model structure and alarms (the rest of model), OPC UA
(opcua, opcua/uaserver), SNMP tables and agent (snmp), the sync (smartview/...: the client, the poller
and the sources it keeps), the status listener and wiring (cmd/...), or outside svgateway (no svgateway
frame: runtime, libraries' init). Prints markdown: owners in MB, then the TOP svgateway functions that
hold the most. A Go heap profile records allocation sites, not types: whether bytes are strings, maps or
slices is read from the function (and its code), not from the profile. The figures are the heap live at
the last GC, sampled (runtime.MemProfileRate, 512 KiB); RSS is larger by the garbage not yet collected
(GOGC: up to the live heap again) and heap the runtime has not returned to the OS.
"""
import collections
import re
import subprocess
import sys

OWN = "github.com/svgateway/svgateway/"


def owner(frame):
    f = frame[len(OWN):]
    if f.startswith("model.") and re.search(r"column|Column", f):
        return "model columns"
    if f.startswith("model"):
        return "model structure and alarms"
    if f.startswith("opcua"):
        return "OPC UA nodes and server"
    if f.startswith("snmp"):
        return "SNMP tables and agent"
    if f.startswith("smartview"):
        return "sync (smartview client, poll, ingest)"
    if f.startswith("cmd/"):
        return "status listener and wiring (cmd)"
    return f.split(".")[0]


def parse_size(s):
    m = re.fullmatch(r"([0-9.]+)([kMG]?B)?", s)
    if not m:
        return 0.0
    n = float(m.group(1))
    return n * {"B": 1, None: 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]


def main():
    binary, prof = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    text = subprocess.run(["go", "tool", "pprof", "-sample_index=inuse_space", "-traces", binary, prof],
                          check=True, capture_output=True, text=True).stdout
    cells = collections.Counter()
    funcs = collections.Counter()
    total = 0.0
    for block in text.split("-----------+-------------------------------------------------------")[1:]:
        lines = [l for l in block.splitlines() if l.strip() and not l.strip().startswith("bytes:")]
        if not lines:
            continue
        first = re.match(r"\s*(\S+)\s+(.*)", lines[0])
        size = parse_size(first.group(1)) if first else 0
        if size == 0:
            continue
        frames = [first.group(2).strip()] + [l.strip() for l in lines[1:]]
        own = next((f for f in frames if f.startswith(OWN)), None)
        o = owner(own) if own else "outside svgateway (runtime, libraries)"
        cells[o] += size
        if own:
            funcs[own[len(OWN):]] += size
        total += size
    mb = lambda v: f"{v / (1 << 20):,.1f}"
    print(f"Live heap {mb(total)} MB (sampled, at the last GC), by owner:")
    print()
    print("| owner | MB | share |")
    print("|---|---|---|")
    for o, v in cells.most_common():
        print(f"| {o} | {mb(v)} | {100 * v / total:.0f} % |")
    print()
    print(f"The {top} svgateway functions holding the most (innermost svgateway frame of the allocation):")
    print()
    print("| function | MB |")
    print("|---|---|")
    for f, v in funcs.most_common(top):
        f = re.sub(r"\[go\.shape\.struct \{.*?model\.v github.com/svgateway/svgateway/model\.(\w+);.*?\}\]", r"[\1]", f)
        f = re.sub(r"\[go\.shape\..*?\]\)", "[…])", f)
        print(f"| `{f}` | {mb(v)} |")

if __name__ == "__main__":
    main()
