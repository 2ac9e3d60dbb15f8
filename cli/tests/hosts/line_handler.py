#!/usr/bin/env python3
"""A line-based handler for `nmframe bridge`: one JSON line in, one or more lines out."""
import json
import sys

for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("cmd") == "junk":
        print("this is not JSON")
        print('"' + "x" * (1024 * 1024 + 10) + '"')
    print(json.dumps({"got": msg}), flush=True)
