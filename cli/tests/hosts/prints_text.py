#!/usr/bin/env python3
"""A host that prints a log line to stdout before answering (bug #1 in the field)."""
from common import read_message, stdout, write_frame

msg = read_message()
stdout.write(b"/home/user/.config/app loaded\n")
stdout.flush()
write_frame(msg)
