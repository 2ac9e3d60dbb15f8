#!/usr/bin/env python3
# nativemessaging-ng's other pair of calls, also in its README: get_message_raw and
# send_message_raw, the message's text back as it came, never read as JSON. The fastest
# echo a Python host can make with it, a reference beside the README's loop.
import nativemessaging

while True:
    message = nativemessaging.get_message_raw()
    if message is None:
        break
    nativemessaging.send_message_raw(message)
