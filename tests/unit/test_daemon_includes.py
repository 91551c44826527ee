#!/usr/bin/env python3
"""No include cycle among daemon/ files: each module (NAME.c + NAME.h) may
include another's header only if that one does not, directly or through
others, include its own.  A cycle means two modules that cannot be read,
tested or replaced apart (the transport must not know the request path).
Usage: test_daemon_includes.py DAEMON_DIR"""
import glob
import os
import re
import sys

top = sys.argv[1]
graph = {}
for path in glob.glob(os.path.join(top, "*.[ch]")):
    mod = os.path.basename(path).rsplit(".", 1)[0]
    with open(path, encoding="utf-8") as f:
        for inc in re.findall(r'^#include "([^"/]+)\.h"', f.read(), re.M):
            if inc != mod and os.path.exists(os.path.join(top, inc + ".h")):
                graph.setdefault(mod, set()).add(inc)

cycles = set()
state = {}


def visit(mod, stack):
    state[mod] = "open"
    stack.append(mod)
    for dep in sorted(graph.get(mod, ())):
        if state.get(dep) == "open":
            cycles.add(" -> ".join(stack[stack.index(dep):] + [dep]))
        elif dep not in state:
            visit(dep, stack)
    stack.pop()
    state[mod] = "done"


for m in sorted(graph):
    if m not in state:
        visit(m, [])
print(f"{sum(len(v) for v in graph.values())} includes among daemon modules")
for c in sorted(cycles):
    print("include cycle:", c)
sys.exit(1 if cycles else 0)
