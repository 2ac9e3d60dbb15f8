//! `nmframe demo`: echo hosts driven under `run` with a built-in set of messages.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::exit::{MISBEHAVED, SETUP};
use crate::launch::Launch;
use crate::out::problem;
use crate::session::{self, Messages, Settings};

/// The built-in messages of the demo, with what each shows.
pub(crate) fn demo_messages() -> Vec<(&'static str, Vec<u8>)> {
    let string_of = |len: usize| {
        let mut s = vec![b'a'; len];
        s[0] = b'"';
        s[len - 1] = b'"';
        s
    };
    vec![
        ("a small command", br#"{"cmd":"ping","id":1}"#.to_vec()),
        (
            "unicode and escapes",
            r#"{"text":"héllo wörld — 日本語 😀","esc":"tab\t nul\u0000"}"#
                .as_bytes()
                .to_vec(),
        ),
        (
            "deep nesting",
            format!("{}1{}", "[".repeat(100), "]".repeat(100)).into_bytes(),
        ),
        ("exactly 1 MiB (allowed)", string_of(1 << 20)),
        ("1 MiB + 1 byte (refused)", string_of((1 << 20) + 1)),
        ("still serving", br#"{"after":"the refusal"}"#.to_vec()),
    ]
}

pub(crate) fn cmd_demo(extra_hosts: Vec<PathBuf>) -> u8 {
    let Ok(exe) = std::env::current_exe() else {
        problem("cannot find this program's path");
        return SETUP;
    };
    let mut hosts: Vec<(String, PathBuf, Vec<OsString>)> =
        vec![("nmframe echo (Rust)".into(), exe, vec!["echo".into()])];
    match c_example_host() {
        Ok(path) => hosts.push(("C example echo host (libnmframe)".into(), path, vec![])),
        Err(why) => println!("(the C example host is skipped: {why})\n"),
    }
    for host in extra_hosts {
        hosts.push(("--host".into(), host, vec![]));
    }
    let mut code = 0;
    for (label, host, extra_args) in hosts {
        println!("== {label}: {}", host.display());
        code = code.max(demo_one(host, extra_args));
        println!();
    }
    code
}

pub(crate) fn demo_one(host: PathBuf, extra_args: Vec<OsString>) -> u8 {
    let launch = Launch {
        browser: nmframe::Browser::Chromium,
        host,
        extra_args,
        origin: "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/".into(),
        extension_id: String::new(),
        manifest_path: PathBuf::new(),
    };
    let settings = Settings {
        one_shot: false,
        timeout: Some(Duration::from_secs(30)),
        human: false,
        chunked: false,
    };
    let messages = demo_messages();
    println!(
        "{:<26} {:>9} {:>9} {:>10}  reply",
        "message", "sent", "received", "session"
    );
    let mut code = 0;
    for (label, msg) in &messages {
        let start = Instant::now();
        let mut out = Vec::new();
        let outcome = session::run(
            &launch,
            &settings,
            Messages::List(vec![msg.clone()]),
            &mut out,
        );
        let took = start.elapsed();
        let reply = out.strip_suffix(b"\n").unwrap_or(&out);
        let shown = if reply.len() > 56 {
            format!("{}…", String::from_utf8_lossy(&reply[..56]))
        } else {
            String::from_utf8_lossy(reply).into_owned()
        };
        println!(
            "{label:<26} {:>9} {:>9} {:>10.2?}  {shown}",
            msg.len(),
            reply.len(),
            took
        );
        match outcome {
            Ok(r) if r.problems == 0 && r.replies == 1 => {}
            Ok(_) => code = MISBEHAVED,
            Err(e) => {
                problem(&e.to_string());
                return SETUP;
            }
        }
    }
    // One session with a burst: every reply verified, throughput and exit time.
    let count = 10_000;
    let msg = br#"{"cmd":"tick","payload":"0123456789abcdef0123456789abcdef"}"#.to_vec();
    let start = Instant::now();
    let mut out = Vec::new();
    match session::run(
        &launch,
        &settings,
        Messages::List(vec![msg.clone(); count]),
        &mut out,
    ) {
        Ok(report) => {
            let took = start.elapsed();
            let all_echoed = out
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .all(|l| l == msg.as_slice());
            println!(
                "one session, {count} messages of {} bytes: {} replies{}, {:.0} messages/s; host exited {:.1?} after its stdin closed",
                msg.len(),
                report.replies,
                if all_echoed {
                    " (all identical)"
                } else {
                    " (MISMATCH)"
                },
                count as f64 / took.as_secs_f64(),
                report.exit_after.unwrap_or_default()
            );
            if report.replies != count || !all_echoed || report.problems > 0 {
                code = MISBEHAVED;
            }
        }
        Err(e) => {
            problem(&e.to_string());
            return SETUP;
        }
    }
    let _ = io::stdout().flush();
    code
}

/// The source tree of nmframe that holds the current directory, if any: the demo builds
/// the C example host from it. Found at run time, so that an installed `nmframe` behaves
/// the same inside a clone and says what to do outside one.
fn source_tree() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|dir| {
            dir.join("ffi/examples/c/echo_host.c").is_file() && dir.join("Cargo.toml").is_file()
        })
        .map(Path::to_path_buf)
}

/// The C example echo host, built with cargo and cc from the source tree around the
/// current directory.
fn c_example_host() -> Result<PathBuf, String> {
    let root = source_tree().ok_or(
        "run `nmframe demo` inside a clone of the nmframe repository to include it, \
         or name any host with --host PATH",
    )?;
    let source = root.join("ffi/examples/c/echo_host.c");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "libnmframe",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building libnmframe failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let exe = target.join("release/echo_host_c");
    let status = std::process::Command::new("cc")
        .args(["-std=c11", "-O2", "-I"])
        .arg(root.join("ffi/include"))
        .arg(&source)
        .arg(target.join("release/libnmframe.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .status()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !status.success() {
        return Err("compiling ffi/examples/c/echo_host.c failed".into());
    }
    Ok(exe)
}
