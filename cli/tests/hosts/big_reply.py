#!/usr/bin/env python3
"""A host that answers with a 2 MiB message, over the browser's 1 MiB limit."""
from common import read_message, write_frame

while read_message() is not None:
    write_frame(b'"' + b"x" * (2 * 1024 * 1024) + b'"')
