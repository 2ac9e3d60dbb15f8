#!/usr/bin/env python3
"""A host whose replies are, in turn: invalid JSON, empty, BOM-prefixed, invalid UTF-8, fine."""
from common import read_message, write_frame

replies = [b'{"a":', b"", b'\xef\xbb\xbf{"bom":true}', b'["caf\xe9"]', b'{"ok":true}']
for reply in replies:
    if read_message() is None:
        break
    write_frame(reply)
