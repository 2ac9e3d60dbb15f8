#!/usr/bin/env python3
"""Checks the layout rules the code is held to (issue 26), so that they stay true:

- no cycle among the modules of core/src and cli/src (a module's `use crate::...`,
  `crate::...` paths and `super::...` paths are its edges; `mod` declarations are not);
- no production file (the lines before its `#[cfg(test)] mod tests`) over 600 lines in
  core/src, cli/src or ffi/src;
- no CLI command (cli/src/cmd/) takes anything from main.rs: the command line is in
  `args`, the exit codes in `exit`.

Prints what breaks a rule and exits 1; prints a one-line summary and exits 0 otherwise.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 600


def modules(src):
    """Module path -> file, for every .rs file under src."""
    found = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            found["::".join(parts)] = path
    return found


def production(text):
    """The text before the file's test module, without comments."""
    cut = re.search(r"^#\[cfg\((?:all\()?test[^\]]*\]\s*\nmod tests", text, re.M)
    if cut:
        text = text[: cut.start()]
    return text


def braced(text, start):
    """The text inside the braces that open at text[start - 1]."""
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def top_level(inner):
    """The comma-separated items of a use group, nested groups kept whole."""
    items, depth, item = [], 0, ""
    for ch in inner:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += ch
    items.append(item)
    return [i.strip() for i in items if i.strip()]


def edges(mods, reexports, name, text):
    """The modules `name` uses, and the root items it takes (for the main.rs rule)."""
    uses, root_items = set(), set()

    def resolve(base, path):
        segments = [s for s in path.split("::") if s]
        for k in range(len(segments), 0, -1):
            candidate = "::".join(base + segments[:k])
            if candidate in mods:
                return candidate
        return None

    def add(base, path):
        target = resolve(base, path)
        if target is None and not base:
            # A name the crate root re-exports (`pub use io::FrameWriter`): its module.
            target = reexports.get(path.split("::")[0])
        if target is None:
            if not base and path:
                root_items.add(path.split("::")[0])
        elif target != name and not name.startswith(target + "::"):
            uses.add(target)

    code = re.sub(r"//[^\n]*", "", text)
    for m in re.finditer(r"\bcrate::(\{|[A-Za-z_][\w:]*)", code):
        if m.group(1) == "{":
            for item in top_level(braced(code, m.end())):
                add([], re.split(r"::\{", item)[0].replace("self", "").strip(":"))
        else:
            add([], m.group(1))
    parent = name.split("::")[:-1]
    for m in re.finditer(r"\bsuper::(\{|[A-Za-z_][\w:]*)", code):
        if m.group(1) == "{":
            for item in top_level(braced(code, m.end())):
                add(parent, re.split(r"::\{", item)[0])
        else:
            add(parent, m.group(1))
    return uses, root_items


def root_reexports(root_file):
    """Name -> module for what the crate root re-exports with `pub use module::...`."""
    with open(root_file, encoding="utf-8") as f:
        text = f.read()
    found = {}
    for m in re.finditer(r"^pub use ([a-z_][\w]*)::(\{[^;]*\}|[A-Za-z_]\w*);", text, re.M):
        names = m.group(2).strip("{}")
        for name in top_level(names):
            found[name.split(" as ")[-1].strip()] = m.group(1)
    return found


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    broken = []
    checked = 0
    for crate in ("core/src", "cli/src", "ffi/src"):
        mods = modules(os.path.join(ROOT, crate))
        reexports = root_reexports(mods[""])
        graph = {}
        for name, path in mods.items():
            with open(path, encoding="utf-8") as f:
                text = production(f.read())
            checked += 1
            lines = text.count("\n")
            if lines > MAX_LINES:
                broken.append(f"{os.path.relpath(path, ROOT)}: {lines} production lines (at most {MAX_LINES})")
            uses, root_items = edges(mods, reexports, name, text)
            graph[name] = uses
            if crate == "cli/src" and name.startswith("cmd") and root_items:
                broken.append(
                    f"{os.path.relpath(path, ROOT)} takes {', '.join(sorted(root_items))} from main.rs"
                )
        if crate != "ffi/src":
            for component in cycles(graph):
                broken.append(f"{crate}: modules in a cycle: {' -> '.join(component)}")
    for line in broken:
        print(f"check-layout: {line}", file=sys.stderr)
    if broken:
        return 1
    print(f"check-layout: {checked} files: no module cycle in core or cli, none over {MAX_LINES} lines, no command takes from main.rs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
