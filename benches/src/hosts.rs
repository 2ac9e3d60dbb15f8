//! The hosts the process benchmarks (`e2e`, `soak`) start: built here, started as a
//! browser starts a host, watched through `/proc`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use nmframe::{FrameReader, Limits};

/// A host: how to start it.
pub struct Host {
    /// The row's name in the tables.
    pub name: &'static str,
    /// The command line, without the browser's arguments.
    pub argv: Vec<OsString>,
    /// Set in the host's environment.
    pub env: &'static [(&'static str, &'static str)],
    /// Its replies may be other bytes for the same JSON value, and are compared as
    /// values: Python's `json.dumps` may write a number otherwise than it came. Every
    /// other host must send back the very bytes.
    pub same_value: bool,
}

impl Host {
    /// A reference host made of `cat` (alone, in a row, behind the tap): it gets no
    /// browser argument, which cat would open as a file, and speaks no protocol.
    pub fn is_cat(&self) -> bool {
        self.name.starts_with("cat")
    }
}

/// Builds every host and returns (echo hosts, value hosts); `cat` first.
pub fn build_hosts() -> (Vec<Host>, Vec<Host>) {
    let target = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Two builds: `--bins` alone would skip libnmframe.a, a library target.
    run(Command::new(&cargo)
        .args(["build", "--quiet", "--release", "-p", "libnmframe"])
        .current_dir(&root));
    run(Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "nmframe-cli",
            "-p",
            "nmframe-benches",
            "--bins",
        ])
        .current_dir(&root));
    run(Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "nmframe",
            "--features",
            "tokio",
            "--example",
            "tokio_echo_host",
        ])
        .current_dir(&root));
    let out = target.join("bench-hosts");
    std::fs::create_dir_all(&out).unwrap();
    let lib = target.join("libnmframe.a");
    let include = root.join("ffi/include");
    let cc = |compiler: &str, std: &str, source: &str, name: &str, link_lib: bool| -> PathBuf {
        let exe = out.join(name);
        let mut cmd = Command::new(compiler);
        cmd.args([std, "-O2", "-I"])
            .arg(&include)
            .arg(root.join(source));
        if link_lib {
            cmd.arg(&lib).args(["-lpthread", "-ldl", "-lm"]);
        }
        run(cmd.arg("-o").arg(&exe));
        exe
    };
    let plain = cc(
        "gcc",
        "-std=c11",
        "benches/hosts/plain_echo.c",
        "plain_echo",
        false,
    );
    let c_echo = cc(
        "gcc",
        "-std=c11",
        "ffi/examples/c/echo_host.c",
        "echo_host_c",
        true,
    );
    let cpp_echo = cc(
        "g++",
        "-std=c++17",
        "ffi/examples/cpp/echo_host.cpp",
        "echo_host_cpp",
        true,
    );
    let go_echo = out.join("echo_host_go");
    run(Command::new("go")
        .args(["build", "-tags", "nmframe_nopkgconfig", "-o"])
        .arg(&go_echo)
        .arg("./cmd/echo_host")
        .current_dir(root.join("go"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("CGO_CFLAGS", format!("-O2 -I{}", include.display()))
        .env(
            "CGO_LDFLAGS",
            format!("{} -lpthread -ldl -lm", lib.display()),
        ));
    let exe = |p: PathBuf| vec![p.into_os_string()];
    // The Node peers of js/nmframe-host, pinned by benches/node/package-lock.json.
    let peers = root.join("benches/node");
    if !peers.join("node_modules").is_dir() {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&peers));
    }
    let node = |script: PathBuf| vec!["node".into(), script.into_os_string()];
    // The Python package, installed as users install it (`pip install ./python`), and
    // its peers (benches/python/requirements.txt), in target/py-venv.
    let python = python_env(&root);
    let py = |script: PathBuf| vec![python.clone().into_os_string(), script.into_os_string()];
    // MDN's example host, in the echo and the value tables: the stdlib baseline.
    let mdn = || Host {
        name: "Python, MDN's example (stdlib: struct, json)",
        argv: py(root.join("benches/python/mdn_stdlib_host.py")),
        env: &[],
        same_value: true,
    };
    // `host` behind `nmframe tap`, which logs every frame (to /dev/null, so that the disk
    // does not fill).
    let tapped = |host: Vec<OsString>| {
        let tap = ["tap", "--log", "/dev/null", "--"].map(OsString::from);
        let mut argv = vec![target.join("nmframe").into_os_string()];
        argv.extend(tap);
        argv.extend(host);
        argv
    };
    let mut echo = vec![
        Host {
            name: "cat (no framing: the limit)",
            argv: vec!["cat".into()],
            env: &[],
            same_value: false,
        },
        // Two cats in a row: what any process in the path (a proxy that only copies)
        // costs on this machine, the reference for the tap below.
        Host {
            name: "cat | cat (a copying proxy in the path)",
            argv: vec!["sh".into(), "-c".into(), "cat | cat".into()],
            env: &[],
            same_value: false,
        },
        // The tap's own cost, with nothing but cat behind it.
        Host {
            name: "cat behind nmframe tap",
            argv: tapped(vec!["cat".into()]),
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe echo (Rust)",
            argv: vec![target.join("nmframe").into(), "echo".into()],
            env: &[],
            same_value: false,
        },
        // The same host behind `nmframe tap`: the tap's overhead.
        Host {
            name: "nmframe echo behind nmframe tap",
            argv: tapped(vec![target.join("nmframe").into(), "echo".into()]),
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe echo, one thread",
            argv: vec![target.join("nmframe").into(), "echo".into()],
            env: &[("NMFRAME_ECHO_THREAD", "0")],
            same_value: false,
        },
        Host {
            name: "nmframe async echo (Tokio, writer task)",
            argv: exe(target.join("examples/tokio_echo_host")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "C echo on libnmframe",
            argv: exe(c_echo),
            env: &[],
            same_value: false,
        },
        Host {
            name: "C++ echo on nmframe.hpp",
            argv: exe(cpp_echo),
            env: &[],
            same_value: false,
        },
        Host {
            name: "Go echo on libnmframe",
            argv: exe(go_echo),
            env: &[],
            same_value: false,
        },
        Host {
            name: "plain C, read/writev per frame",
            argv: exe(plain),
            env: &[],
            same_value: false,
        },
        Host {
            name: "Node echo on nmframe-host",
            argv: node(root.join("js/nmframe-host/examples/echo_host.mjs")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "Node, plain (stdin, readUInt32LE, JSON.parse)",
            argv: node(peers.join("plain_echo.mjs")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "Node, chrome-native-messaging 0.2 (its README)",
            argv: node(peers.join("chrome_native_messaging_echo.cjs")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "Node, web-ext-native-msg 8 (its README)",
            argv: node(peers.join("web_ext_native_msg_echo.mjs")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe Python echo (python/examples/echo_host.py)",
            argv: py(root.join("python/examples/echo_host.py")),
            env: &[],
            same_value: false,
        },
        mdn(),
        Host {
            name: "Python, nativemessaging-ng 1.3 (its README)",
            argv: py(root.join("benches/python/nativemessaging_ng_host.py")),
            env: &[],
            same_value: true,
        },
        Host {
            name: "Python, nativemessaging-ng 1.3, raw calls (no JSON read)",
            argv: py(root.join("benches/python/nativemessaging_ng_raw_host.py")),
            env: &[],
            same_value: false,
        },
    ];
    // A build of `nmframe` from another commit, to compare before and after in one run:
    // NMFRAME_E2E_BEFORE=/path/to/nmframe cargo bench -p nmframe-benches --bench e2e
    // Its target folder's async, Go and C echo too, where that build made them (`cargo
    // build --release -p nmframe --features tokio --example tokio_echo_host`; the e2e
    // bench run there, or `go build -o TARGET/release/bench-hosts/echo_host_go` and
    // `cc -o TARGET/release/bench-hosts/echo_host_c`).
    if let Some(before) = std::env::var_os("NMFRAME_E2E_BEFORE") {
        let before = PathBuf::from(before);
        let olds = [
            (
                "nmframe echo, before (NMFRAME_E2E_BEFORE)",
                before.clone(),
                Some("echo"),
            ),
            (
                "Go echo, before (NMFRAME_E2E_BEFORE)",
                before.with_file_name("bench-hosts").join("echo_host_go"),
                None,
            ),
            (
                "nmframe async echo, before (NMFRAME_E2E_BEFORE)",
                before.with_file_name("examples").join("tokio_echo_host"),
                None,
            ),
            (
                "C echo, before (NMFRAME_E2E_BEFORE)",
                before.with_file_name("bench-hosts").join("echo_host_c"),
                None,
            ),
        ];
        for (k, (name, path, arg)) in olds.into_iter().enumerate() {
            if k == 0 || path.is_file() {
                let mut argv = exe(path);
                argv.extend(arg.map(OsString::from));
                echo.insert(
                    2 + k.min(1),
                    Host {
                        name,
                        argv,
                        env: &[],
                        same_value: false,
                    },
                );
            }
        }
    }
    let value = vec![
        Host {
            name: "nmframe (simd-json value, writer thread)",
            argv: exe(target.join("value_nmframe")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe (tape Document, writer thread)",
            argv: vec![
                target.join("value_nmframe").into_os_string(),
                "--document".into(),
            ],
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe async (Tokio, simd-json value, writer task)",
            argv: exe(target.join("value_nmframe_tokio")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "std + serde_json (Value)",
            argv: exe(target.join("value_serde_json")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "native_messaging 0.3 (blocking)",
            argv: exe(target.join("value_native_messaging")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "native_messaging 0.3 event_loop (its README)",
            argv: exe(target.join("value_native_messaging_event_loop")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "chrome_native_messaging 0.3",
            argv: exe(target.join("value_chrome_native_messaging")),
            env: &[],
            same_value: false,
        },
        Host {
            name: "nmframe Python value host (for m in host: host.send(m))",
            argv: py(root.join("benches/python/value_host.py")),
            env: &[],
            same_value: false,
        },
        mdn(),
    ];
    (echo, value)
}

/// The Python of target/py-venv with this checkout's package (scripts/python-env.sh) and
/// the peers of benches/python/requirements.txt.
fn python_env(root: &Path) -> PathBuf {
    let out = Command::new("bash")
        .arg(root.join("scripts/python-env.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/python-env.sh");
    assert!(out.status.success(), "scripts/python-env.sh failed");
    let python = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let have_peers = Command::new(&python)
        .args(["-c", "import nativemessaging"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_peers {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(root.join("benches/python/requirements.txt")));
    }
    python
}

/// Runs a build step; a failure stops the benchmark.
pub fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed");
}

/// Starts `host` as Chromium does: the origin as its argument, pipes for stdin and
/// stdout; its stderr goes to `stderr`.
pub fn spawn(host: &Host, stderr: Stdio) -> Child {
    let mut cmd = Command::new(&host.argv[0]);
    cmd.args(&host.argv[1..]);
    if !host.is_cat() {
        cmd.arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/");
    }
    cmd.envs(host.env.iter().copied());
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", host.name))
}

/// A started host: the process, its stdin, and a reader of its replies. Its stderr is
/// the benchmark's, unless `quiet`.
pub fn connect(host: &Host, quiet: bool) -> (Child, ChildStdin, FrameReader<ChildStdout>) {
    let stderr = if quiet {
        Stdio::null()
    } else {
        Stdio::inherit()
    };
    let mut child = spawn(host, stderr);
    let stdin = child.stdin.take().unwrap();
    let reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    (child, stdin, reader)
}

/// A `kB` field of `/proc/PID/status` (`VmHWM`, `VmRSS`), 0 when unreadable.
fn status_kib(child: &Child, field: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak resident memory of a live process, in KiB.
pub fn peak_rss_kib(child: &Child) -> u64 {
    status_kib(child, "VmHWM")
}

/// Resident memory of a live process now, in KiB.
pub fn rss_kib(child: &Child) -> u64 {
    status_kib(child, "VmRSS")
}

/// Open descriptors of a live process.
pub fn open_fds(child: &Child) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", child.id())).map_or(0, Iterator::count)
}

/// CPU time a live process has spent so far, every thread of it, in nanoseconds
/// (`/proc/PID/task/*/schedstat`: nanosecond resolution, where `/proc/PID/stat` counts
/// 10 ms ticks).
pub fn cpu_ns(child: &Child) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", child.id())) else {
        return 0;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
