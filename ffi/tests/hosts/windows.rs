//! The Windows builds, run: libnmframe, the Rust, C and C++ echo hosts and the C API test,
//! cross-built for `x86_64-pc-windows-gnu` with MinGW-w64, run under Wine and driven from
//! Linux through real pipes, as the Linux builds are.
//!
//! `scripts/setup.sh` installs Wine, MinGW-w64 and the Rust target. Wine 8.0 (Debian 12)
//! lacks `bcryptprimitives.dll`, which Rust's standard library imports; `windows/
//! bcryptprimitives.c` stands in for it next to the programs (real Windows 10 and later
//! have it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use nmframe::{FrameReader, FrameWriter, Limits};

use super::{
    Browser, Under, calc_host_session, echo_host_session, hostile_table, root, run, target_dir,
};

const TARGET: &str = "x86_64-pc-windows-gnu";
/// What Rust's standard library inside libnmframe.a needs from Windows.
const WINDOWS_LIBS: [&str; 4] = ["-lws2_32", "-lntdll", "-luserenv", "-ladvapi32"];

struct Built {
    rust_echo: PathBuf,
    /// The Rust example on the async (tokio) API.
    tokio_echo: PathBuf,
    /// The C echo host linked to nmframe.dll through its import library, the DLL beside it.
    dll_echo: PathBuf,
    /// The same program in a folder without the DLL.
    dll_missing: PathBuf,
    /// A program that never reads stdin and sleeps for 30 s.
    ignores_eof: PathBuf,
    /// The Go example echo host, cross-built with cgo and MinGW-w64.
    go_echo: PathBuf,
    c_calc: PathBuf,
    nmframe: PathBuf,
    c_echo: PathBuf,
    cpp_echo: PathBuf,
    api_test: PathBuf,
}

fn prefix() -> PathBuf {
    target_dir().parent().unwrap().join("wine-prefix")
}

/// The echo hosts every binding builds for Windows: Rust (blocking and async), C, C++, Go.
fn echo_hosts() -> [&'static PathBuf; 5] {
    let b = built();
    [
        &b.rust_echo,
        &b.tokio_echo,
        &b.c_echo,
        &b.cpp_echo,
        &b.go_echo,
    ]
}

/// `exe` under Wine, in this suite's own Wine prefix, quiet.
pub(super) fn wine(exe: &Path) -> Command {
    let mut cmd = Command::new("wine");
    cmd.arg(exe)
        .env("WINEPREFIX", prefix())
        .env("WINEDEBUG", "-all");
    cmd
}

/// Cross-builds everything once, and sets up the Wine prefix.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = |args: &[&str]| {
            run(Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--target", TARGET])
                .args(args));
        };
        cargo(&["-p", "libnmframe", "-p", "nmframe-cli"]);
        cargo(&["-p", "nmframe", "--example", "echo_host"]);
        cargo(&[
            "-p",
            "nmframe",
            "--example",
            "tokio_echo_host",
            "--features",
            "tokio",
        ]);
        let dir = target_dir().parent().unwrap().join(TARGET).join("debug");
        let mingw = |compiler: &str, args: &[&str], source: &str, out: &str| {
            let exe = dir.join(out);
            run(Command::new(compiler)
                .args(args)
                .arg(root().join(source))
                .arg("-o")
                .arg(&exe));
            exe
        };
        mingw(
            "x86_64-w64-mingw32-gcc",
            &["-shared", "-O2", "-Wall", "-Wextra", "-Werror"],
            "ffi/tests/windows/bcryptprimitives.c",
            "bcryptprimitives.dll",
        );
        // The static library and what Rust's standard library needs from Windows.
        let lib = dir.join("libnmframe.a");
        let host = |compiler: &str, std: &str, source: &str, out: &str| {
            let exe = dir.join(out);
            run(Command::new(compiler)
                .args([std, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O1"])
                .arg("-I")
                .arg(root().join("ffi/include"))
                .arg(root().join(source))
                .arg(&lib)
                .args(WINDOWS_LIBS)
                // MinGW's C++ runtime is a DLL by default, which a host started by a
                // browser would not find: link it in.
                .arg("-static")
                .arg("-o")
                .arg(&exe));
            exe
        };
        // The DLL build: the import library at link time, nmframe.dll (and the stand-in
        // it needs on Wine 8) beside the program at run time.
        let dll_dir = dir.join("dll");
        let missing_dir = dir.join("dll-missing");
        for d in [&dll_dir, &missing_dir] {
            std::fs::create_dir_all(d).unwrap();
        }
        let dll_echo = dll_dir.join("echo_host_dll.exe");
        run(Command::new("x86_64-w64-mingw32-gcc")
            .args([
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Wpedantic",
                "-Werror",
                "-O1",
            ])
            .arg("-I")
            .arg(root().join("ffi/include"))
            .arg(root().join("ffi/examples/c/echo_host.c"))
            .arg(dir.join("libnmframe.dll.a"))
            .arg("-o")
            .arg(&dll_echo));
        for file in ["nmframe.dll", "bcryptprimitives.dll"] {
            std::fs::copy(dir.join(file), dll_dir.join(file)).unwrap();
        }
        let dll_missing = missing_dir.join("echo_host_dll.exe");
        std::fs::copy(&dll_echo, &dll_missing).unwrap();
        let ignores_eof = mingw(
            "x86_64-w64-mingw32-gcc",
            &["-O1", "-Wall", "-Wextra", "-Werror"],
            "ffi/tests/windows/ignores_eof.c",
            "ignores_eof.exe",
        );
        // Go: GOOS=windows with cgo, MinGW-w64 as the C compiler, the static library.
        let go_echo = dir.join("echo_host_go.exe");
        run(Command::new("go")
            .args([
                "build",
                "-tags",
                "nmframe_nopkgconfig",
                &super::go_stamp(&lib),
                "-o",
            ])
            .arg(&go_echo)
            .arg("./cmd/echo_host")
            .current_dir(root().join("go"))
            .env("GOOS", "windows")
            .env("GOARCH", "amd64")
            .env("CGO_ENABLED", "1")
            .env("CC", "x86_64-w64-mingw32-gcc")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env(
                "CGO_CFLAGS",
                format!("-I{}", root().join("ffi/include").display()),
            )
            .env(
                "CGO_LDFLAGS",
                format!("{} {}", lib.display(), WINDOWS_LIBS.join(" ")),
            ));
        let built = Built {
            go_echo,
            ignores_eof,
            dll_echo,
            dll_missing,
            rust_echo: dir.join("examples/echo_host.exe"),
            tokio_echo: dir.join("examples/tokio_echo_host.exe"),
            nmframe: dir.join("nmframe.exe"),
            c_echo: host(
                "x86_64-w64-mingw32-gcc",
                "-std=c11",
                "ffi/examples/c/echo_host.c",
                "echo_host_c.exe",
            ),
            c_calc: host(
                "x86_64-w64-mingw32-gcc",
                "-std=c11",
                "ffi/examples/c/calc_host.c",
                "calc_host_c.exe",
            ),
            cpp_echo: host(
                "x86_64-w64-mingw32-g++",
                "-std=c++17",
                "ffi/examples/cpp/echo_host.cpp",
                "echo_host_cpp.exe",
            ),
            api_test: host(
                "x86_64-w64-mingw32-gcc",
                "-std=c11",
                "ffi/tests/c/api_test.c",
                "api_test.exe",
            ),
        };
        // The Rust example lives one folder down: the stand-in DLL goes there too.
        std::fs::copy(
            dir.join("bcryptprimitives.dll"),
            dir.join("examples/bcryptprimitives.dll"),
        )
        .unwrap();
        if !prefix().join("system.reg").exists() {
            // The first start of a prefix writes its registry and folders (seconds).
            let mut boot = wine(Path::new("wineboot"));
            boot.arg("-i");
            run(&mut boot);
        }
        built
    })
}

#[test]
fn the_c_api_test_passes_under_wine() {
    let out = wine(&built().api_test).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_windows_hosts_echo_like_the_linux_ones() {
    // The C hosts' traffic (their refusal says "frame too large", the Rust example's
    // gives the whole error): the Rust hosts answer the same messages below.
    for exe in [&built().c_echo, &built().cpp_echo, &built().go_echo] {
        echo_host_session(exe, Under::Wine);
    }
    let mut b = Browser::start(&built().rust_echo, Under::Wine);
    for msg in [
        &br#"{"a":[1,"\u00e9 \n"]}"#[..],
        &super::json_string(1 << 20),
    ] {
        assert_eq!(b.roundtrip(msg), msg);
    }
    assert!(b.close().0.success());
    let mut cmd = wine(&built().nmframe);
    cmd.arg("echo");
    let mut b = Browser::spawn(cmd, Under::Wine);
    assert_eq!(
        b.roundtrip(br#"{"nmframe.exe":"echo"}"#),
        br#"{"nmframe.exe":"echo"}"#
    );
    assert!(b.close().0.success());
}

/// libnmframe as a DLL: a C host linked through the import library (`libnmframe.dll.a`)
/// passes the Linux echo traffic with `nmframe.dll` beside it.
#[test]
fn a_host_linked_to_nmframe_dll_echoes_like_the_static_ones() {
    echo_host_session(&built().dll_echo, Under::Wine);
}

#[test]
fn hostile_inputs_against_the_windows_hosts() {
    for exe in echo_hosts() {
        hostile_table(exe, Under::Wine);
    }
}

/// The text-mode trap: a C runtime in text mode turns every `\n` it writes into `\r\n`
/// (and reads `\r\n` as `\n`), which corrupts frames whose length bytes or payloads hold
/// those bytes. Lengths 10, 13, 266 (0x10A) and 3338 (0x0D0A) and payloads with raw line
/// breaks as JSON whitespace must come back byte for byte.
#[test]
fn line_breaks_in_headers_and_payloads_survive_on_windows() {
    let payload = |len: usize| {
        let mut p = b"[\n1,\r\n\"".to_vec();
        p.resize(len - 2, b'x');
        p.extend_from_slice(b"\"]");
        p
    };
    let messages: Vec<Vec<u8>> = [10, 13, 266, 3338, 0x0A0A, 0x0D0D0A]
        .into_iter()
        .map(payload)
        .collect();
    for exe in echo_hosts() {
        let mut b = Browser::start(exe, Under::Wine);
        for msg in &messages {
            assert_eq!(
                b.roundtrip(msg),
                *msg,
                "{} ({} bytes)",
                exe.display(),
                msg.len()
            );
        }
        let (status, stderr) = b.close();
        assert!(status.success(), "{}: {stderr}", exe.display());
    }
}

/// The text-mode messages of the test above, through a `.bat` host started the way
/// Chromium starts every host on Windows: `cmd.exe /d /c` runs the batch file, which runs
/// the C echo host with the browser's arguments; cmd.exe is the process the browser
/// holds. The frames come back byte for byte, and the host exits at end of input.
#[test]
fn a_batch_file_host_through_cmd_exe_keeps_frames_byte_exact() {
    let dir = target_dir().join("wine-batch");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bat = dir.join("host.bat");
    std::fs::write(
        &bat,
        format!("@echo off\r\n\"{}\" %*\r\n", windows_path(&built().c_echo)),
    )
    .unwrap();
    let mut cmd = wine(Path::new("cmd"));
    cmd.args(["/d", "/c"]).arg(windows_path(&bat));
    let mut b = Browser::spawn_with_args(
        cmd,
        &[
            "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
            "--parent-window=0",
        ],
        Under::Wine,
    );
    for len in [10, 13, 266, 3338, 0x0A0A] {
        let mut msg = b"[\n1,\r\n\"".to_vec();
        msg.resize(len - 2, b'x');
        msg.extend_from_slice(b"\"]");
        assert_eq!(b.roundtrip(&msg), msg, "{len} bytes through cmd.exe");
    }
    let (status, stderr) = b.close();
    assert!(status.success(), "{stderr}");
}

/// `nmframe.exe manifest check` on the hosts that fail on Windows: a host whose
/// nmframe.dll is not beside it (the loader's STATUS_DLL_NOT_FOUND, explained), a batch
/// file without `@echo off` (cmd.exe echoes its commands into the stream), and the good
/// ones, named by paths relative to the manifest as Windows allows.
#[test]
fn manifest_check_explains_the_windows_hosts_that_cannot_start() {
    let _turn = registry_turn();
    let dir = target_dir().join("wine-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let echo = windows_path(&built().c_echo);
    std::fs::write(
        dir.join("quiet.bat"),
        format!("@echo off\r\n\"{echo}\" %*\r\n"),
    )
    .unwrap();
    std::fs::write(dir.join("chatty.bat"), format!("\"{echo}\" %*\r\n")).unwrap();
    let check = |name: &str, host: &str| {
        let file = dir.join(format!("{name}.json"));
        let manifest = serde_json::json!({
            "name": format!("com.example.{name}"),
            "description": "a host under Wine",
            "path": host,
            "type": "stdio",
            "allowed_origins": ["chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"],
        });
        std::fs::write(&file, manifest.to_string()).unwrap();
        nmframe(&["manifest", "check", &windows_path(&file)])
    };
    let (code, said) = check("nodll", &windows_path(&built().dll_missing));
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("a DLL it needs was not found (0xC0000135") && said.contains("nmframe.dll"),
        "{said}"
    );
    let (code, said) = check("withdll", &windows_path(&built().dll_echo));
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(": ok (started as Chromium starts it"),
        "{said}"
    );
    let (code, said) = check("quiet", "quiet.bat");
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = check("chatty", "chatty.bat");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("not whole messages") && said.contains("@echo off"),
        "{said}"
    );
    // A host that ignores end of input, behind a batch file: the warning, and nothing
    // left running (the job object takes cmd.exe and the host down together).
    let sleeper = windows_path(&built().ignores_eof);
    std::fs::write(
        dir.join("sleeper.bat"),
        format!("@echo off\r\n\"{sleeper}\" %*\r\n"),
    )
    .unwrap();
    let (code, said) = check("sleeper", "sleeper.bat");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("still running 2 s after its stdin closed") && said.contains("left running"),
        "{said}"
    );
    let running = || {
        Command::new("pgrep")
            .args(["-f", "ignores_eof.exe"])
            .output()
            .unwrap()
            .status
            .success()
    };
    let gone_by = std::time::Instant::now() + Duration::from_secs(10);
    while running() && std::time::Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!running(), "the host behind cmd.exe outlived check");

    let (code, said) = check("nowhere", "missing.exe");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("missing.exe"), "{said}");
}

/// The calc host's traffic, its stray `printf` among it: with the stdout guard (on by
/// default) the text goes to stderr and the stream stays intact, as on Linux.
#[test]
fn the_stdout_guard_keeps_a_stray_printf_out_of_the_stream_on_windows() {
    calc_host_session(&built().c_calc, Under::Wine);
}

/// A browser that goes away mid-reply: the Windows host sees a broken pipe and exits
/// without a crash.
#[test]
fn a_browser_that_goes_away_is_not_a_crash_on_windows() {
    let _turn = registry_turn();
    for exe in echo_hosts() {
        let mut child = wine(exe)
            .arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut to = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
        let from = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
        drop(from);
        // Echoes of these have nowhere to go.
        let msg = super::json_string(1 << 16);
        for _ in 0..50 {
            if to.send(&msg).is_err() {
                break;
            }
        }
        drop(to);
        let status = nmframe_test_support::exits_within(&mut child, Duration::from_secs(10));
        let mut said = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).ok();
        assert_eq!(status.code(), Some(0), "{}: {said}", exe.display());
    }
}

/// Wine's registry is one for every test here, and Chrome's policies written by
/// `forks_and_policies_in_the_registry` (a blocklist of `*`) change what `check` says
/// about every host: the tests that install or check under Wine take turns.
fn registry_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `nmframe.exe ARGS` under Wine: its exit code, and what it printed on stdout and stderr.
fn nmframe(args: &[&str]) -> (Option<i32>, String) {
    let out = wine(&built().nmframe).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// `nmframe.exe manifest install` of the C echo host as `name` for `browser`, the manifest
/// written in `folder`; what it said.
fn install_echo_host(name: &str, browser: &str, folder: &Path, extra: &[&str]) -> String {
    std::fs::create_dir_all(folder).unwrap();
    let host = windows_path(&built().c_echo);
    let folder = windows_path(folder);
    let mut args = vec![
        "manifest",
        "install",
        "--name",
        name,
        "--path",
        &host,
        "--browser",
        browser,
        "--manifest-dir",
        &folder,
    ];
    args.extend_from_slice(extra);
    let (code, said) = nmframe(&args);
    assert_eq!(code, Some(0), "{said}");
    said
}

/// A Linux path as Wine shows it to Windows programs (drive Z: is the root).
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// `nmframe.exe manifest install`, `check` and `uninstall` for Chrome, against Wine's
/// registry: the key Chrome reads names the manifest, `check` finds it there and starts
/// the host as Chrome would, `uninstall` removes both.
#[test]
fn manifest_commands_use_the_registry_on_windows() {
    let _turn = registry_turn();
    let dir = target_dir().join("wine-manifests");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = "com.example.wine_registry";
    let key = format!(r"HKCU\Software\Google\Chrome\NativeMessagingHosts\{name}");
    let manifest = windows_path(&dir.join(format!("{name}.json")));
    let reg_value = || {
        let out = wine(Path::new("reg"))
            .args(["query", &key, "/ve"])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let host = windows_path(&built().c_echo);
    let manifest_dir = windows_path(&dir);
    install_echo_host(
        name,
        "chrome",
        &dir,
        &[
            "--origin",
            "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
        ],
    );
    let value = reg_value().expect("the key exists");
    assert!(value.contains(&manifest), "{value}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    assert_eq!(written["path"], host.as_str());

    let (code, said) = nmframe(&["manifest", "check", "--name", name, "--browser", "chrome"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!(
            r"{manifest} (named by HKCU\SOFTWARE\Google\Chrome\NativeMessagingHosts\{name}): ok (started as Chromium starts it"
        )),
        "{said}"
    );

    let (code, said) = nmframe(&[
        "manifest",
        "uninstall",
        "--name",
        name,
        "--browser",
        "chrome",
        "--manifest-dir",
        &manifest_dir,
    ]);
    assert_eq!(code, Some(0), "{said}");
    assert!(reg_value().is_none(), "the key is gone");
    assert!(!dir.join(format!("{name}.json")).exists());
    let (code, said) = nmframe(&["manifest", "check", "--name", name, "--browser", "chrome"]);
    assert_eq!(code, Some(1), "{said}");
}

/// Each browser's registry search under Wine's registry: Firefox's machine-wide key
/// (`--system`, HKLM), Edge falling back to Chrome's key, the user's hive before the
/// machine's, and a stale key that shadows the rest (the browser reads the first key it
/// finds, and `check` says which key that was).
#[test]
fn each_browser_reads_its_registry_keys_in_its_order() {
    let _turn = registry_turn();
    let dir = target_dir().join("wine-registry-order");
    let _ = std::fs::remove_dir_all(&dir);
    let name = "com.example.wine_order";
    let install = |browser: &str, place: &str, extra: &[&str]| {
        install_echo_host(name, browser, &dir.join(place), extra)
    };
    let check =
        |browser: &str| nmframe(&["manifest", "check", "--name", name, "--browser", browser]);
    let key =
        |hive: &str, vendor: &str| format!(r"{hive}\SOFTWARE\{vendor}\NativeMessagingHosts\{name}");
    let origin = [
        "--origin",
        "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
    ];

    let said = install(
        "firefox",
        "firefox-system",
        &["--extension-id", "order@example.org", "--system"],
    );
    assert!(said.contains(&key("HKLM", "Mozilla")), "{said}");
    let (code, said) = check("firefox");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "(named by {}): ok (started as Firefox starts it",
            key("HKLM", "Mozilla")
        )),
        "{said}"
    );

    // Edge reads Chrome's key when its own is missing.
    install("chrome", "chrome-user", &origin);
    let (code, said) = check("edge");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!("(named by {})", key("HKCU", r"Google\Chrome"))),
        "{said}"
    );
    // Edge's own key, machine-wide: the user's hive still comes first.
    let mut system = origin.to_vec();
    system.push("--system");
    let said = install("edge", "edge-system", &system);
    assert!(said.contains(&key("HKLM", r"Microsoft\Edge")), "{said}");
    let (_, said) = check("edge");
    assert!(
        said.contains(&format!("(named by {})", key("HKCU", r"Google\Chrome"))),
        "{said}"
    );
    let (_, listed) = nmframe(&["manifest", "list", "--browser", "edge"]);
    assert!(
        listed.contains(&key("HKCU", r"Google\Chrome")) && listed.contains(" ok "),
        "{listed}"
    );

    // A stale Chromium key, naming a file that is gone: Chromium and Edge read it before
    // Chrome's and stop there; Chrome does not read it.
    let gone = windows_path(&dir.join("gone.json"));
    let stale = key("HKCU", "Chromium");
    run(wine(Path::new("reg")).args(["add", &stale, "/ve", "/t", "REG_SZ", "/d", &gone, "/f"]));
    for browser in ["chromium", "edge"] {
        let (code, said) = check(browser);
        assert_eq!(code, Some(1), "{browser}: {said}");
        assert!(
            said.contains(&format!(
                "(named by {stale}); the browser stops at the first key"
            )),
            "{browser}: {said}"
        );
    }
    let (code, said) = check("chrome");
    assert_eq!(code, Some(0), "{said}");

    run(wine(Path::new("reg")).args(["delete", &stale, "/f"]));
    for (browser, place, system) in [
        ("chrome", "chrome-user", false),
        ("edge", "edge-system", true),
        ("firefox", "firefox-system", true),
    ] {
        let folder = windows_path(&dir.join(place));
        let mut args = vec![
            "manifest",
            "uninstall",
            "--name",
            name,
            "--browser",
            browser,
            "--manifest-dir",
            &folder,
        ];
        if system {
            args.push("--system");
        }
        let (code, said) = nmframe(&args);
        assert_eq!(code, Some(0), "{said}");
        assert!(said.contains("deleted HK"), "{said}");
    }
    for browser in ["chrome", "edge", "firefox"] {
        let (code, said) = check(browser);
        assert_eq!(code, Some(1), "{browser} still finds a manifest: {said}");
    }
}

/// Forks that read another vendor's key (Vivaldi reads Chrome's, LibreWolf Mozilla's),
/// and Chrome's enterprise policies in the registry as `check` reads them: a blocklist
/// of `*`, an allowlist that lets the host through, user-level hosts switched off.
#[test]
fn forks_and_policies_in_the_registry() {
    let _turn = registry_turn();
    let dir = target_dir().join("wine-forks");
    let _ = std::fs::remove_dir_all(&dir);
    let name = "com.example.wine_forks";
    let origin = [
        "--origin",
        "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
    ];
    let reg = |args: &[&str]| {
        let out = wine(Path::new("reg")).args(args).output().unwrap();
        assert!(out.status.success(), "reg {args:?}: {:?}", out);
    };
    let policies = r"HKCU\Software\Policies\Google\Chrome";
    // A list policy: a subkey whose value `1` holds the one entry.
    let policy_list = |list: &str, entry: &str| {
        let key = format!(r"{policies}\{list}");
        reg(&["add", &key, "/v", "1", "/t", "REG_SZ", "/d", entry, "/f"]);
    };
    let _ = wine(Path::new("reg"))
        .args(["delete", policies, "/f"])
        .output();

    let said = install_echo_host(name, "vivaldi", &dir.join("vivaldi"), &origin);
    assert!(
        said.contains(&format!(
            r"HKCU\SOFTWARE\Google\Chrome\NativeMessagingHosts\{name}"
        )),
        "{said}"
    );
    let said = install_echo_host(
        name,
        "librewolf",
        &dir.join("librewolf"),
        &["--extension-id", "forks@example.org"],
    );
    assert!(
        said.contains(&format!(
            r"HKCU\SOFTWARE\Mozilla\NativeMessagingHosts\{name}"
        )),
        "{said}"
    );
    let check =
        |browser: &str| nmframe(&["manifest", "check", "--name", name, "--browser", browser]);
    let (code, said) = check("chrome");
    assert_eq!(code, Some(0), "{said}");

    policy_list("NativeMessagingBlocklist", "*");
    let (code, said) = check("chrome");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains(r"policy NativeMessagingBlocklist (HKCU\SOFTWARE\Policies\Google\Chrome)"),
        "{said}"
    );
    // Vivaldi reads Chrome's key but not Chrome's policies.
    let (code, said) = check("vivaldi");
    assert_eq!(code, Some(0), "{said}");
    policy_list("NativeMessagingAllowlist", name);
    let (code, said) = check("chrome");
    assert_eq!(code, Some(0), "{said}");
    reg(&[
        "add",
        policies,
        "/v",
        "NativeMessagingUserLevelHosts",
        "/t",
        "REG_DWORD",
        "/d",
        "0",
        "/f",
    ]);
    let (code, said) = check("chrome");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("NativeMessagingUserLevelHosts is false"),
        "{said}"
    );
    reg(&["delete", policies, "/f"]);

    for browser in ["vivaldi", "librewolf"] {
        let (code, said) = nmframe(&[
            "manifest",
            "uninstall",
            "--name",
            name,
            "--browser",
            browser,
            "--manifest-dir",
            &windows_path(&dir.join(browser)),
        ]);
        assert_eq!(code, Some(0), "{said}");
    }
}
