#!/usr/bin/env python3
# A host on nativemessaging-ng 1.3 (PyPI; pinned in requirements.txt) as its README
# shows it (get_message, send_message in a loop), echoing every message. send_message is
# json.dumps with its defaults (", " and ": " separators, non-ASCII escaped): the same
# value in other bytes, compared as values by the benchmark, and at 1 MiB a reply over
# the browsers' limit.
import nativemessaging

while True:
    message = nativemessaging.get_message()
    if message is None:
        break
    nativemessaging.send_message(message)
