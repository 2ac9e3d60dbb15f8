#!/usr/bin/env python3
"""A host that ignores the end of its stdin and keeps running (bug #6 in the field)."""
import time

from common import read_message, write_frame

while True:
    msg = read_message()
    if msg is None:
        time.sleep(60)
    write_frame(msg)
