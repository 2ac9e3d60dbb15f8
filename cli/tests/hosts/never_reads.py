#!/usr/bin/env python3
"""A host that never reads its stdin: whatever the browser writes piles up in the pipe."""
import time

time.sleep(60)
