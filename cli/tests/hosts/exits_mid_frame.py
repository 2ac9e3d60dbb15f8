#!/usr/bin/env python3
"""A host that answers the first message with a frame cut short, then exits 3."""
import sys

from common import read_message, write_frame

read_message()
write_frame(b'{"cut', length=100)
sys.exit(3)
