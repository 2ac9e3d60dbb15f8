//! The README's table of what each binding offers and its defaults, kept true.
//!
//! The same probe program exists in every binding (test-support's `binding-probe`,
//! `ffi/tests/probe/probe.c` and `probe.cpp`, `go/internal/probe`). Each starts a host
//! with its binding's defaults, prints a stray line the way its language does, and
//! answers `{"text": T}` with the caller's identity, whether T is valid JSON (the
//! binding's validator, T read through its JSON access) and the error a 1 MiB + 1 reply
//! gets. Every binding must give the same answers; the process-wide set-up (pipe size,
//! `SIGPIPE`) is read from outside. A second test checks that each wrapper names every
//! status, caller field and host/document call of the C header.

use std::os::fd::AsRawFd;

use serde_json::json;

use super::*;

const EXTENSION_ID: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";
const MANIFEST: &str = "/home/u/.mozilla/native-messaging-hosts/probe.json";
const ADDON: &str = "probe@example.org";

/// What `/proc/<pid>/status` says of `SIGPIPE` (13) in the process's ignored set.
fn ignores_sigpipe(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    mask & (1 << (13 - 1)) != 0
}

/// The capacity of the pipe on the host's stdin, read at the test's end of it.
fn stdin_pipe_size(b: &mut Browser) -> i32 {
    let fd = b.writer().get_ref().as_raw_fd();
    // SAFETY: F_GETPIPE_SZ on a descriptor this process owns; no memory is passed.
    unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) }
}

fn probe_session(name: &str, exe: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut b = Browser::spawn_with_args(Command::new(exe), args, Under::Native);
    let replies = vec![
        b.json(r#"{"text":"[1,{\"a\":null},\"\\u00e9\"]"}"#),
        b.json(r#"{"text":"[1,"}"#),
    ];
    // Stdout guarded by default: the stray line went to stderr, and the replies above
    // were read intact after it.
    b.expect_stderr(&format!("stray line from {name}"));
    assert!(ignores_sigpipe(b.child.id()), "{name}: SIGPIPE not ignored");
    assert_eq!(
        stdin_pipe_size(&mut b),
        1 << 20,
        "{name}: stdin pipe not enlarged"
    );
    let (status, stderr) = b.close();
    assert!(status.success(), "{name}: {status}\n{stderr}");
    replies
}

#[test]
fn every_binding_has_the_same_defaults_and_answers_alike() {
    let mut seen = Vec::new();
    for (name, exe) in &built().probes {
        let chromium = probe_session(name, exe, &[ORIGIN, "--parent-window=4242"]);
        let firefox = probe_session(name, exe, &[MANIFEST, ADDON]);
        let mut expected = Vec::new();
        for valid in [true, false] {
            expected.push(json!({
                "binding": name, "browser": "chromium", "origin": ORIGIN,
                "manifest_path": null, "extension_id": EXTENSION_ID,
                "parent_window": 4242, "valid": valid,
            }));
        }
        for valid in [true, false] {
            expected.push(json!({
                "binding": name, "browser": "firefox", "origin": null,
                "manifest_path": MANIFEST, "extension_id": ADDON,
                "parent_window": 0, "valid": valid,
            }));
        }
        let mut replies: Vec<_> = chromium.into_iter().chain(firefox).collect();
        for reply in &mut replies {
            let error = reply.as_object_mut().unwrap().remove("too_large").unwrap();
            let error = error.as_str().unwrap();
            assert!(
                error.contains("1048577") && error.contains("1048576"),
                "{name}: {error:?}"
            );
            seen.push((name, error.to_owned()));
        }
        assert_eq!(replies, expected, "{name}");
    }
    assert_eq!(seen.len(), 4 * built().probes.len());
    // One wording of the error in every binding: the core's.
    let (_, first) = &seen[0];
    for (name, error) in &seen {
        assert_eq!(error, first, "{name}");
    }
}

/// The names a C header declares in `typedef enum|struct NAME { ... } NAME;`.
fn members(header: &str, kind: &str, name: &str) -> Vec<String> {
    let start = header
        .find(&format!("typedef {kind} {name} {{"))
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    let body = &header[start..];
    let body = &body[..body.find(&format!("}} {name};")).unwrap()];
    body.lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('/') && !l.starts_with('*'))
        .map(|l| {
            let l = l.trim_end_matches([',', ';']);
            let l = l.split(" = ").next().unwrap();
            l.rsplit([' ', '*']).next().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn each_wrapper_names_every_status_caller_field_and_call() {
    let header = std::fs::read_to_string(root().join("ffi/include/nmframe.h")).unwrap();
    let cpp = std::fs::read_to_string(root().join("ffi/include/nmframe.hpp")).unwrap();
    let go = std::fs::read_to_string(root().join("go/nmframe/nmframe.go")).unwrap();

    let statuses = members(&header, "enum", "nmf_status");
    assert!(statuses.len() >= 16, "{statuses:?}");
    for status in &statuses {
        assert!(
            go.contains(&format!("C.{status}\n")),
            "Go names no Status for {status}"
        );
    }
    // C++ reports every status through nmframe::Error::status(), as the C enum.

    let fields = members(&header, "struct", "nmf_caller");
    assert_eq!(
        fields,
        [
            "browser",
            "origin",
            "manifest_path",
            "extension_id",
            "parent_window"
        ]
    );
    for field in &fields {
        assert!(cpp.contains(&format!("c.{field}")), "C++ drops {field}");
        assert!(go.contains(&format!("c.{field}")), "Go drops {field}");
    }

    let mut calls: Vec<&str> = header
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("nmf_host_") || w.starts_with("nmf_doc_"))
        .filter(|w| header.contains(&format!("{w}(")))
        .chain(["nmf_json_validate"])
        .collect();
    calls.sort_unstable();
    calls.dedup();
    // new, free, caller, recv, recv_batch, send, queue, queue_view, flush, has_message,
    // last_error, set_chunking, set_chunk_budget for hosts; new, free, parse, get,
    // last_error for documents; and the validator.
    assert_eq!(calls.len(), 19, "{calls:?}");
    // Receiving one message per call or a batch per call are two ways to the same
    // thing: a wrapper uses the one that suits its cost per call (C++ calls cost
    // nothing; Go's cgo calls do), and must use one.
    // Go calls a function either from Go (`C.nmf_...(`) or from a C wrapper in its cgo
    // preamble that takes the host as an integer (`nmf_...((struct nmf_host *)`).
    let go_calls = |call: &str| {
        go.contains(&format!("C.{call}(")) || go.contains(&format!("{call}((struct nmf_host *)"))
    };
    let either = ["nmf_host_recv", "nmf_host_recv_batch"];
    assert!(
        either.iter().any(|call| cpp.contains(&format!("{call}("))),
        "C++ receives through neither of {either:?}"
    );
    assert!(
        either.iter().any(|call| go_calls(call)),
        "Go receives through neither of {either:?}"
    );
    for call in calls.into_iter().filter(|c| !either.contains(c)) {
        assert!(
            cpp.contains(&format!("{call}(")),
            "C++ does not wrap {call}"
        );
        assert!(go_calls(call), "Go does not wrap {call}");
    }
}
