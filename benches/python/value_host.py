#!/usr/bin/env python3
# The value host on the nmframe package: every message decoded into Python objects
# and sent back from them (what a host does that reads its requests), against the
# MDN stdlib host in the end-to-end benchmark's value table.
import nmframe

host = nmframe.Host()
for message in host:
    host.send(message)
