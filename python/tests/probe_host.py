"""The binding probe, Python edition: the same program in every binding (test-support's
binding-probe, ffi/tests/probe/probe.c and probe.cpp, go/internal/probe), run by
ffi/tests/hosts/bindings.rs to keep the README's table of what each binding offers, and
its defaults, true.

It starts a host with the package's defaults, prints a stray line the way Python does,
and answers each message {"text": T} with what the binding says: the caller's identity,
whether T is valid JSON, and the error a 1 MiB + 1 reply gets.
"""

import sys

import nmframe


def main() -> int:
    host = nmframe.Host()
    print("stray line from python")
    caller = host.caller
    big = b'"' + b"a" * (nmframe.MAX_HOST_TO_BROWSER - 1) + b'"'
    for message in host:
        text = message["text"]
        try:
            nmframe.validate(text)
            valid = True
        except nmframe.InvalidMessage:
            valid = False
        try:
            host.send_bytes(big)
            too_large = ""
        except nmframe.MessageTooLarge as err:
            too_large = str(err)
        host.send(
            {
                "binding": "python",
                "browser": caller.browser,
                "origin": caller.origin,
                "manifest_path": caller.manifest_path,
                "extension_id": caller.extension_id,
                "parent_window": caller.parent_window or 0,
                "valid": valid,
                "too_large": too_large,
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
