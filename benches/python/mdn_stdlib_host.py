#!/usr/bin/env python3
# A Python host as MDN's native-messaging example writes it (the standard library:
# sys.stdin.buffer.read, struct '@I', json.loads, json.dumps with separators (',', ':'),
# a flush per message), echoing every message: the stdlib baseline for the nmframe
# package in the end-to-end benchmark, in its echo and value tables. One change:
# ensure_ascii=False. As MDN writes it, json.dumps escapes every non-ASCII character
# (é becomes \u00e9, six bytes for two), so the echo of a 1 MiB message with any
# non-ASCII text is over the browsers' 1 MiB limit and the port would be closed; the
# benchmark's messages have some.
# https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_messaging
import json
import struct
import sys


# Read a message from stdin and decode it.
def getMessage():
    rawLength = sys.stdin.buffer.read(4)
    if len(rawLength) == 0:
        sys.exit(0)
    messageLength = struct.unpack('@I', rawLength)[0]
    message = sys.stdin.buffer.read(messageLength).decode('utf-8')
    return json.loads(message)


# Encode a message for transmission, given its content.
def encodeMessage(messageContent):
    # https://docs.python.org/3/library/json.html#basic-usage
    # To get the most compact JSON representation, you should specify
    # (',', ':') to eliminate whitespace.
    # We want the most compact representation because the browser rejects
    # messages that exceed 1 MB.
    encodedContent = json.dumps(messageContent, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    encodedLength = struct.pack('@I', len(encodedContent))
    return {'length': encodedLength, 'content': encodedContent}


# Send an encoded message to stdout
def sendMessage(encodedMessage):
    sys.stdout.buffer.write(encodedMessage['length'])
    sys.stdout.buffer.write(encodedMessage['content'])
    sys.stdout.buffer.flush()


while True:
    receivedMessage = getMessage()
    sendMessage(encodeMessage(receivedMessage))
