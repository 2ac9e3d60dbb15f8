//! Every subcommand, end to end through real processes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{NMFRAME, ORIGIN, host, scratch};

fn nmframe(args: &[&str], stdin: &[u8], home: Option<&Path>) -> Output {
    let mut cmd = Command::new(NMFRAME);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(home) = home {
        cmd.env("HOME", home);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(out: &Output) -> Vec<String> {
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn run_talks_to_the_echo_host() {
    let out = nmframe(
        &[
            "run",
            "-m",
            r#"{"a":1}"#,
            "-m",
            r#"["é",2]"#,
            "--",
            NMFRAME,
            "echo",
        ],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines(&out), [r#"{"a":1}"#, r#"["é",2]"#]);
}

#[test]
fn run_sends_ndjson_from_stdin_and_from_a_file() {
    let input = b"{\"n\":1}\n\n  \n{\"n\":2}\r\n[3]";
    let out = nmframe(&["run", "--", NMFRAME, "echo"], input, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines(&out), [r#"{"n":1}"#, r#"{"n":2}"#, "[3]"]);

    let dir = scratch("run_file");
    let file = dir.join("msgs.ndjson");
    std::fs::write(&file, "[1]\n[2]\n").unwrap();
    let out = nmframe(
        &[
            "run",
            "--file",
            file.to_str().unwrap(),
            "--",
            NMFRAME,
            "echo",
        ],
        b"",
        None,
    );
    assert_eq!(lines(&out), ["[1]", "[2]"]);
}

#[test]
fn echo_answers_a_message_it_cannot_echo_with_its_size_and_checksum() {
    // 1 MiB + 1 byte of JSON: the echo would be refused by the browser.
    let mut big: Vec<u8> = (0..1_048_577).map(|i| b'a' + (i % 26) as u8).collect();
    big[0] = b'"';
    big[1_048_576] = b'"';
    let mut input = big.clone();
    input.extend_from_slice(b"\n[\"still serving\"]\n");
    let out = nmframe(&["run", "--", NMFRAME, "echo"], &input, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    nmframe_test_support::echo::assert_refusal(
        lines[0].as_bytes(),
        &big,
        "exceeds the host → browser limit of 1048576 bytes",
    );
    assert_eq!(lines[1], r#"["still serving"]"#);
}

#[test]
fn run_starts_the_host_as_each_browser_does() {
    let argv = host("argv.py");
    let out = nmframe(&["run", "-m", "1", "--", argv.to_str().unwrap()], b"", None);
    let reply: serde_json::Value = serde_json::from_str(&lines(&out)[0]).unwrap();
    assert_eq!(reply["argv"], serde_json::json!([ORIGIN]));
    assert_eq!(
        reply["cwd"],
        host("").to_str().unwrap().trim_end_matches('/')
    );

    let out = nmframe(
        &[
            "run",
            "--browser",
            "firefox",
            "--extension-id",
            "a@b.org",
            "-m",
            "1",
            "--",
            argv.to_str().unwrap(),
        ],
        b"",
        None,
    );
    let reply: serde_json::Value = serde_json::from_str(&lines(&out)[0]).unwrap();
    let args = reply["argv"].as_array().unwrap();
    assert!(args[0].as_str().unwrap().ends_with(".json"), "{args:?}");
    assert_eq!(args[1], "a@b.org");
}

#[test]
fn run_finds_a_host_given_by_a_relative_path() {
    let out = Command::new(NMFRAME)
        .args(["run", "-m", "[1]", "--", "tests/hosts/argv.py"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reply: serde_json::Value = serde_json::from_str(&lines(&out)[0]).unwrap();
    assert!(
        reply["cwd"].as_str().unwrap().ends_with("cli/tests/hosts"),
        "{reply}"
    );
}

#[test]
fn run_rejects_messages_that_are_not_json() {
    let out = nmframe(&["run", "-m", "{oops", "--", NMFRAME, "echo"], b"", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("message 1 is not valid JSON"),
        "{}",
        text(&out.stderr)
    );
    let out = nmframe(&["run", "-m", "1"], b"", None);
    assert_eq!(out.status.code(), Some(2), "no host is a usage error");
    let out = nmframe(&["run", "-m", "1", "--", "/nonexistent/host"], b"", None);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("cannot start the host /nonexistent/host"));
}

#[test]
fn text_on_stdout_is_diagnosed() {
    let h = host("prints_text.py");
    let out = nmframe(&["run", "-m", "[1]", "--", h.to_str().unwrap()], b"", None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "Chromium would say: \"Error when communicating with the native messaging host.\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("header bytes look like text (\"/hom\"): something wrote to stdout"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2f 68 6f 6d 65"),
        "shows the bytes in hex: {stderr}"
    );
    assert!(lines(&out).is_empty());

    let out = nmframe(
        &[
            "run",
            "--browser",
            "firefox",
            "-m",
            "[1]",
            "--",
            h.to_str().unwrap(),
        ],
        b"",
        None,
    );
    let len = u32::from_ne_bytes(*b"/hom");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "Firefox would say: \"Native application tried to send a message of {len} bytes, which exceeds the limit of 1048576 bytes.\""
        )),
        "{stderr}"
    );
}

#[test]
fn an_oversized_reply_is_diagnosed() {
    let out = nmframe(
        &[
            "run",
            "-m",
            "[1]",
            "--",
            host("big_reply.py").to_str().unwrap(),
        ],
        b"",
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("announces 2097154 bytes, over the host → browser limit of 1048576 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("closes the port and shuts the host down"),
        "{stderr}"
    );
}

#[test]
fn bad_replies_follow_each_browser_rules() {
    let msgs: Vec<&str> = ["-m", "1"].repeat(5);
    let h = host("bad_output.py");
    let mut args = vec!["run"];
    args.extend(&msgs);
    args.extend(["--", h.to_str().unwrap()]);
    // Chromium drops what it cannot use and goes on; the host still misbehaved.
    let out = nmframe(&args, b"", None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("frame at offset 0 is not a valid JSON message"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the 0-byte frame at offset 9 is empty: Chromium drops it silently"),
        "{stderr}"
    );
    assert!(
        stderr.contains("starts with a UTF-8 BOM: Chromium drops it silently"),
        "{stderr}"
    );
    assert!(stderr.contains("not valid UTF-8 at byte 5"), "{stderr}");
    assert_eq!(lines(&out), ["[\"caf\u{fffd}\"]", r#"{"ok":true}"#]);

    // Firefox disconnects at the first bad frame.
    let mut args = vec!["run", "--browser", "firefox"];
    args.extend(&msgs);
    args.extend(["--", h.to_str().unwrap()]);
    let out = nmframe(&args, b"", None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("Firefox would say: \"An unexpected error occurred\""),
        "{stderr}"
    );
    assert!(lines(&out).is_empty());
}

#[test]
fn a_host_that_ignores_eof_is_killed_and_reported() {
    let start = Instant::now();
    let out = nmframe(
        &[
            "run",
            "-m",
            "[1]",
            "--",
            host("never_exits.py").to_str().unwrap(),
        ],
        b"",
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("after its stdin closed: Chromium kills it at 2s"),
        "{stderr}"
    );
    assert_eq!(lines(&out), ["[1]"]);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn one_shot_keeps_the_first_reply_and_disconnects() {
    let out = nmframe(
        &[
            "run",
            "--one-shot",
            "-m",
            "[1]",
            "-m",
            "[2]",
            "--",
            NMFRAME,
            "echo",
        ],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines(&out), ["[1]"]);
}

#[test]
fn timeout_kills_a_silent_host() {
    let start = Instant::now();
    let out = nmframe(
        &[
            "run",
            "--timeout",
            "0.5",
            "-m",
            "[1]",
            "--",
            host("silent.py").to_str().unwrap(),
        ],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("timed out after 500ms"),
        "{}",
        text(&out.stderr)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn manifest_install_check_list_uninstall() {
    let home = scratch("manifest_home");
    let exe = host("argv.py");
    let exe = exe.to_str().unwrap();
    let out = nmframe(
        &[
            "manifest",
            "install",
            "--name",
            "com.example.echo",
            "--path",
            exe,
            "--browser",
            "chromium",
            "--browser",
            "firefox",
            "--origin",
            ORIGIN,
            "--extension-id",
            "echo@example.org",
        ],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let chromium = home.join(".config/chromium/NativeMessagingHosts/com.example.echo.json");
    let firefox = home.join(".mozilla/native-messaging-hosts/com.example.echo.json");
    let written = std::fs::read_to_string(&chromium).unwrap();
    let m: serde_json::Value = serde_json::from_str(&written).unwrap();
    let keys: Vec<&str> = written
        .lines()
        .filter_map(|line| line.strip_prefix("  \"")?.split('"').next())
        .collect();
    assert_eq!(
        keys,
        ["name", "description", "path", "type", "allowed_origins"],
        "one key per line, for people who open it:\n{written}"
    );
    assert_eq!(
        m,
        serde_json::json!({"name":"com.example.echo","description":"A native-messaging host","path":exe,"type":"stdio","allowed_origins":[ORIGIN]})
    );
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&firefox).unwrap()).unwrap();
    assert_eq!(
        m["allowed_extensions"],
        serde_json::json!(["echo@example.org"])
    );
    assert!(m.get("allowed_origins").is_none());

    let out = nmframe(
        &["manifest", "check", "--name", "com.example.echo"],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("chromium: ") && text(&out.stdout).contains(": ok"));

    let out = nmframe(&["manifest", "list"], b"", Some(&home));
    let listing = text(&out.stdout);
    assert!(
        listing.contains("chromium") && listing.contains("firefox") && listing.contains(exe),
        "{listing}"
    );

    // run --manifest resolves the host as the browser would.
    let out = nmframe(
        &["run", "--manifest", "com.example.echo", "-m", "1"],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(lines(&out)[0].contains(ORIGIN));
    let out = nmframe(
        &[
            "run",
            "--manifest",
            "com.example.echo",
            "--origin",
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
            "-m",
            "1",
        ],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Access to the specified native messaging host is forbidden.")
    );

    let out = nmframe(
        &[
            "manifest",
            "uninstall",
            "--name",
            "com.example.echo",
            "--browser",
            "chromium",
        ],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(!chromium.exists() && firefox.exists());

    // --user-data-dir: Chromium's folder inside it.
    let udd = home.join("profile");
    let out = nmframe(
        &[
            "manifest",
            "install",
            "--name",
            "a.b",
            "--path",
            exe,
            "--origin",
            ORIGIN,
            "--user-data-dir",
            udd.to_str().unwrap(),
        ],
        b"",
        Some(&home),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(udd.join("NativeMessagingHosts/a.b.json").exists());
}

#[test]
fn manifest_install_refuses_what_the_browser_would_refuse() {
    let home = scratch("manifest_refuse");
    let exe = host("argv.py");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--name",
                "Bad-Name",
                "--path",
                exe.to_str().unwrap(),
                "--origin",
                ORIGIN,
            ],
            "\"name\" \"Bad-Name\" is not allowed",
        ),
        (
            &["--name", "a", "--path", "relative/host", "--origin", ORIGIN],
            "must be absolute",
        ),
        (
            &[
                "--name",
                "a",
                "--path",
                exe.to_str().unwrap(),
                "--origin",
                "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik",
            ],
            "lacks the trailing \"/\"",
        ),
        (
            &["--name", "a", "--path", exe.to_str().unwrap()],
            "\"allowed_origins\" is empty",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["manifest", "install"];
        all.extend(args);
        let out = nmframe(&all, b"", Some(&home));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(!home.join(".config").exists(), "nothing written");
}

#[test]
fn manifest_check_explains_each_problem() {
    let dir = scratch("manifest_check");
    let not_exec = dir.join("host.sh");
    std::fs::write(&not_exec, "#!/bin/sh\n").unwrap();
    let file = dir.join("wrong.json");
    std::fs::write(
        &file,
        format!(r#"{{"name":"com.x..y","description":"","path":"{}","type":"pipe","allowed_origins":["chrome-extension://abc"],"extra":1}}"#, not_exec.display()),
    )
    .unwrap();
    let out = nmframe(&["manifest", "check", file.to_str().unwrap()], b"", None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    for expected in [
        "error: \"name\" \"com.x..y\" is not allowed",
        "error: the file is named \"wrong.json\" but the browser looks for \"com.x..y.json\"",
        "error: \"description\" is empty",
        "error: \"type\" is \"pipe\"; it must be \"stdio\"",
        "is not executable (chmod +x it)",
        "lacks the trailing \"/\"",
        "warning: unknown key \"extra\"",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    std::fs::write(&file, "{not json").unwrap();
    let out = nmframe(&["manifest", "check", file.to_str().unwrap()], b"", None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is not valid JSON"));
}

#[test]
fn manifest_on_windows_prints_the_registry_command() {
    let dir = scratch("manifest_windows");
    let out = nmframe(
        &[
            "manifest",
            "install",
            "--os",
            "windows",
            "--name",
            "com.example.h",
            "--path",
            r"C:\h\host.exe",
            "--browser",
            "edge",
            "--origin",
            ORIGIN,
            "--manifest-dir",
            dir.to_str().unwrap(),
        ],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(r#"REG ADD "HKCU\SOFTWARE\Microsoft\Edge\NativeMessagingHosts\com.example.h" /ve /t REG_SZ /d"#));
    assert!(dir.join("com.example.h.json").exists());
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn dump_prints_every_good_frame_then_stops_at_the_bad_one() {
    let mut capture = frame(br#"{"a":1}"#);
    capture.extend(frame(b"{\n  \"pretty\": true\n}"));
    capture.extend(frame(b"{\"broken\":"));
    capture.extend(frame(b"[4]"));
    let out = nmframe(&["dump"], &capture, None);
    assert_eq!(out.status.code(), Some(1));
    let got = lines(&out);
    assert_eq!(got[0], r#"{"offset":0,"length":7,"json":{"a":1}}"#);
    assert_eq!(
        got[1],
        r#"{"offset":11,"length":20,"json":{"pretty":true}}"#
    );
    let bad: serde_json::Value = serde_json::from_str(&got[2]).unwrap();
    assert_eq!(bad["offset"], 35);
    assert!(bad["error"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!(got.len(), 3, "stops at the bad frame");
    assert!(text(&out.stderr).contains("frame 3 (offset 35, 10 bytes) is not a valid message"));

    // A 2 MiB frame: too large for the browser, fine for a host.
    let big = frame(&[b"\"".as_slice(), &vec![b'x'; 2 << 20], b"\""].concat());
    let out = nmframe(&["dump", "--role", "browser"], &big, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("over the host → browser limit of 1048576 bytes"));
    let out = nmframe(&["dump", "--role", "host", "-"], &big, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A cut stream: every whole frame, then the truncation.
    let mut cut = frame(b"[1]");
    cut.extend_from_slice(&frame(b"[2,3]")[..6]);
    let out = nmframe(&["dump"], &cut, None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0], r#"{"offset":0,"length":3,"json":[1]}"#);
    assert!(lines(&out)[1].contains("the header announced 5 bytes, 2 arrived"));
}

#[test]
fn bridge_turns_any_line_based_program_into_a_host() {
    let handler = host("line_handler.py");
    let out = nmframe(
        &[
            "run",
            "-m",
            r#"{"cmd":"hi"}"#,
            "-m",
            r#"{"cmd":"junk"}"#,
            "-m",
            r#"{"cmd":"bye","n":[1,2]}"#,
            "--",
            NMFRAME,
            "bridge",
            "--",
            "python3",
            handler.to_str().unwrap(),
        ],
        b"",
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        lines(&out),
        [
            r#"{"got": {"cmd": "hi"}}"#,
            r#"{"got": {"cmd": "junk"}}"#,
            r#"{"got": {"cmd": "bye", "n": [1, 2]}}"#
        ]
    );
    assert!(stderr.contains("line 2 is not JSON, not sent"), "{stderr}");
    assert!(
        stderr.contains("line 3 not sent: message of 1048588 bytes exceeds the host → browser limit of 1048576 bytes"),
        "{stderr}"
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["run", "manifest", "dump", "bridge", "echo", "demo"] {
        let out = nmframe(&[sub, "--help"], b"", None);
        assert_eq!(out.status.code(), Some(0), "{sub}");
        assert!(
            text(&out.stdout).contains("Example: nmframe"),
            "{sub} --help has no example"
        );
    }
    for sub in ["install", "uninstall", "check", "list"] {
        let out = nmframe(&["manifest", sub, "--help"], b"", None);
        assert!(
            text(&out.stdout).contains("Example: nmframe manifest"),
            "manifest {sub}"
        );
    }
    let out = nmframe(&["frobnicate"], b"", None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn manifest_check_list_and_uninstall_refuse_flags_they_would_ignore() {
    // `check` does not install: a --path or --origin it would not look at is a usage
    // error, not a silent "ok".
    for extra in [
        &["--path", "/nonexistent"][..],
        &["--origin", ORIGIN],
        &["--extension-id", "a@b"],
        &["--system"],
    ] {
        let mut args = vec!["manifest", "check", "--name", "com.example.echo"];
        args.extend_from_slice(extra);
        let out = nmframe(&args, b"", None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(extra[0]),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let mut args = vec!["manifest", "list"];
        args.extend_from_slice(extra);
        assert_eq!(nmframe(&args, b"", None).status.code(), Some(2), "{args:?}");
    }
    // `uninstall` removes by name and place: what the manifest would hold is refused.
    for extra in [
        &["--path", "/nonexistent"][..],
        &["--origin", ORIGIN],
        &["--extension-id", "a@b"],
        &["--description", "x"],
    ] {
        let mut args = vec!["manifest", "uninstall", "--name", "com.example.echo"];
        args.extend_from_slice(extra);
        let out = nmframe(&args, b"", None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(extra[0]), "{args:?}");
    }
}

#[test]
fn demo_outside_a_clone_says_how_to_add_hosts_and_drives_the_one_given() {
    // No source tree around the working directory: nothing built from one, and the
    // output says what to do instead. `--host` drives any host.
    // Outside the repository (the target directory is inside it).
    let dir = std::env::temp_dir().join(format!("nmframe-demo-outside-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrapper = dir.join("echo-host.sh");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{NMFRAME}' echo \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = Command::new(NMFRAME)
        .args(["demo", "--host"])
        .arg(&wrapper)
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("the C example host is skipped: run `nmframe demo` inside a clone"),
        "{stdout}"
    );
    assert!(stdout.contains("== nmframe echo (Rust)"), "{stdout}");
    assert!(stdout.contains("== --host: "), "{stdout}");
    assert_eq!(
        stdout.matches("10000 replies (all identical)").count(),
        2,
        "{stdout}"
    );
}

/// A manifest for `host` in `dir`, named as Chromium looks for it.
fn manifest_for(dir: &Path, host: &Path) -> PathBuf {
    let file = dir.join("com.example.start.json");
    std::fs::write(
        &file,
        serde_json::json!({
            "name": "com.example.start",
            "description": "d",
            "path": host,
            "type": "stdio",
            "allowed_origins": [ORIGIN],
        })
        .to_string(),
    )
    .unwrap();
    file
}

fn check_with_env(file: &Path, env: &[(&str, &Path)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(NMFRAME);
    cmd.args(["manifest", "check"]).arg(file);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[test]
fn manifest_check_starts_the_host_as_the_browser_would() {
    let dir = scratch("manifest_start");
    let script = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    };
    // A host that starts and exits at EOF: ok, with the timing.
    let (code, report) = check_with_env(&manifest_for(&dir, &host("argv.py")), &[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(": ok (started as Chromium starts it")
            && report.contains("ms after its stdin closed"),
        "{report}"
    );

    let cases: [(PathBuf, &str); 4] = [
        (
            script("gone_interpreter.sh", "#!/nonexistent/python9\n"),
            r##"its #! line names an interpreter that does not exist ("#!/nonexistent/python9")"##,
        ),
        (
            script("env_127.sh", "#!/bin/sh\nexec no-such-command-anywhere\n"),
            "the host exited 127, a command it runs was not found",
        ),
        (
            host("prints_text.py"),
            "bytes to stdout that are not whole messages",
        ),
        (
            script("not_a_program.bin", "\u{7f}ELF garbage, not a program"),
            "the host cannot start",
        ),
    ];
    for (exe, expected) in cases {
        let (code, report) = check_with_env(&manifest_for(&dir, &exe), &[]);
        assert_eq!(code, Some(1), "{}: {report}", exe.display());
        assert!(report.contains(expected), "{}: {report}", exe.display());
    }

    // A program that finds its library only through the LD_LIBRARY_PATH of the shell
    // running `check`: the browser would not give it that, so neither does `check`.
    std::fs::write(dir.join("gone.c"), "int gone(void) { return 0; }\n").unwrap();
    std::fs::write(
        dir.join("main.c"),
        "int gone(void);\nint main(void) { return gone(); }\n",
    )
    .unwrap();
    let gcc = |args: &[&str]| {
        let status = Command::new("gcc")
            .args(args)
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "gcc {args:?}");
    };
    gcc(&["-shared", "-fPIC", "-o", "libgone.so", "gone.c"]);
    gcc(&["-o", "needs_lib", "main.c", "-L.", "-lgone"]);
    let needs_lib = dir.join("needs_lib");
    let ok = Command::new(&needs_lib)
        .env("LD_LIBRARY_PATH", &dir)
        .status()
        .unwrap();
    assert!(ok.success(), "it runs with LD_LIBRARY_PATH");
    let (code, report) = check_with_env(
        &manifest_for(&dir, &needs_lib),
        &[("LD_LIBRARY_PATH", dir.as_path())],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("the dynamic loader cannot find a library")
            && report.contains("libgone.so")
            && report.contains("rpath"),
        "{report}"
    );
}

#[test]
fn run_raw_sends_exact_bytes_malformed_frames_included() {
    let dir = scratch("run_raw");
    let mut raw = Vec::new();
    for payload in [&br#"{"a":1}"#[..], b"[1,", br#""ok""#] {
        raw.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        raw.extend_from_slice(payload);
    }
    raw.extend_from_slice(&9u32.to_ne_bytes()[..3]); // a header cut short
    let file = dir.join("frames.bin");
    std::fs::write(&file, &raw).unwrap();
    let out = nmframe(
        &[
            "run",
            "--raw",
            file.to_str().unwrap(),
            "--",
            NMFRAME,
            "echo",
        ],
        b"",
        None,
    );
    let replies = lines(&out);
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(replies[0], r#"{"a":1}"#);
    assert!(
        replies[1].starts_with(r#"{"error":"payload is not valid JSON at byte 3"#),
        "the echo host answers the invalid frame and goes on: {replies:?}"
    );
    assert_eq!(replies[2], r#""ok""#);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the raw bytes end at offset 26 inside 3 bytes of a header"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stream ended inside a frame header at offset 26"),
        "the host's own diagnosis comes through: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the host exits 1 on a cut stream"
    );

    // The same bytes from stdin, and flags that make no sense with --raw are refused.
    let out = nmframe(
        &["run", "--raw", "-", "--", NMFRAME, "echo"],
        &raw[..26],
        None,
    );
    assert_eq!(lines(&out).len(), 3);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = nmframe(
        &["run", "--raw", "-", "-m", "{}", "--", NMFRAME, "echo"],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

/// `run --chunked` plays an extension with nmframe-port: the chunked host's 3 MB reply
/// (parts it waits to have acknowledged) comes out whole, and a corrupted transfer is a
/// problem named with its numbers while the next reply still comes.
#[test]
fn run_chunked_reassembles_parts_and_reports_a_corrupted_transfer() {
    let run_chunked = |message: &str, host: &Path| {
        nmframe(
            &[
                "run",
                "--chunked",
                "-m",
                message,
                "-m",
                r#"{"op":"size","id":2}"#,
                "--",
            ]
            .into_iter()
            .chain([host.to_str().unwrap()])
            .collect::<Vec<_>>(),
            b"",
            None,
        )
    };
    let chunked = nmframe_test_support::example("nmframe", "chunked_host", &[]);
    let out = run_chunked(r#"{"op":"make","id":1,"bytes":3000000}"#, &chunked);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let replies = lines(&out);
    assert_eq!(replies.len(), 2, "{}", text(&out.stderr));
    assert_eq!(replies[0].len(), 3_000_000);
    assert!(replies[0].starts_with(r#"{"id":1,"data":""#));
    assert!(replies[1].contains(r#""id":2"#));

    // The fault host answers only its faults: the size request goes unanswered.
    let faults = Path::new(env!("CARGO_MANIFEST_DIR")).join("../browsers/hosts/chunk_faults.py");
    let out = run_chunked(r#"{"fault":"checksum","id":7}"#, &faults);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("a message in parts failed: message 1001: CRC-32")
            && stderr.contains("(checksum)"),
        "{stderr}"
    );
    assert_eq!(lines(&out), [r#"{"id":7,"ok":true}"#]);
}
