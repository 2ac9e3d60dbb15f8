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

struct Built {
    rust_echo: PathBuf,
    c_calc: PathBuf,
    nmframe: PathBuf,
    c_echo: PathBuf,
    cpp_echo: PathBuf,
    api_test: PathBuf,
}

fn prefix() -> PathBuf {
    target_dir().parent().unwrap().join("wine-prefix")
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
                .args(["-lws2_32", "-lntdll", "-luserenv", "-ladvapi32"])
                // MinGW's C++ runtime is a DLL by default, which a host started by a
                // browser would not find: link it in.
                .arg("-static")
                .arg("-o")
                .arg(&exe));
            exe
        };
        let built = Built {
            rust_echo: dir.join("examples/echo_host.exe"),
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
    for exe in [&built().c_echo, &built().cpp_echo] {
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

#[test]
fn hostile_inputs_against_the_windows_hosts() {
    for exe in [&built().rust_echo, &built().c_echo, &built().cpp_echo] {
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
    for exe in [&built().rust_echo, &built().c_echo, &built().cpp_echo] {
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
    for exe in [&built().rust_echo, &built().c_echo, &built().cpp_echo] {
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
        assert_eq!(status.code(), Some(0), "{}", exe.display());
    }
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
    let dir = target_dir().join("wine-manifests");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = "com.example.wine_registry";
    let key = format!(r"HKCU\Software\Google\Chrome\NativeMessagingHosts\{name}");
    let manifest = windows_path(&dir.join(format!("{name}.json")));
    let nmframe = |args: &[&str]| {
        let out = wine(&built().nmframe).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
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
    let (code, said) = nmframe(&[
        "manifest",
        "install",
        "--name",
        name,
        "--path",
        &host,
        "--browser",
        "chrome",
        "--origin",
        "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
        "--manifest-dir",
        &manifest_dir,
    ]);
    assert_eq!(code, Some(0), "{said}");
    let value = reg_value().expect("the key exists");
    assert!(value.contains(&manifest), "{value}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    assert_eq!(written["path"], host.as_str());

    let (code, said) = nmframe(&["manifest", "check", "--name", name, "--browser", "chrome"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!("{manifest}: ok (started as Chromium starts it")),
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
