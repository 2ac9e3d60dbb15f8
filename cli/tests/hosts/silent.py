#!/usr/bin/env python3
"""A host that reads, never answers, and hangs."""
import time

from common import read_message

while read_message() is not None:
    pass
time.sleep(60)
