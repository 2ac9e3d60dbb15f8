#!/usr/bin/env python3
"""A host that answers with its command line and working directory."""
import json
import os
import sys

from common import read_message, write_frame

while read_message() is not None:
    write_frame(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}).encode())
