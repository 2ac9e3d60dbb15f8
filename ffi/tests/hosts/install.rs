//! What a newcomer does with the C library: install it into a prefix with
//! `ffi/install.sh`, build a host with pkg-config (shared, static, fully static) and with
//! CMake (`find_package(nmframe)`), and start the host the way a browser does: the
//! browser's argv and a clean environment, without the `LD_LIBRARY_PATH` of the shell
//! that built it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{Browser, Under, built, go_stamp, root, run, target_dir};

/// The prefix `ffi/install.sh` installed into (once per test run), from the libraries and
/// the `nmframe` command that `built()` made.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        built();
        let prefix = target_dir().join("ffi-prefix");
        let _ = std::fs::remove_dir_all(&prefix);
        run(Command::new("bash")
            .arg(root().join("ffi/install.sh"))
            .arg(&prefix)
            .args(["--profile", "debug", "--no-build"])
            .env("CARGO_TARGET_DIR", target_dir().parent().unwrap()));
        prefix
    })
}

fn pkg_config(package: &str) -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "--libs", package])
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pkg-config {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Starts `exe` as a browser would from a desktop session, not from the shell that
/// built it: nothing of this process's environment but a plain `PATH`, and the working
/// directory of the host's own directory (what Chromium and Firefox use on Linux). It
/// must answer a request of the calc host's and exit 0 when stdin closes.
fn answers_when_started_like_a_browser(
    exe: &Path,
    request: &str,
    check: impl Fn(&serde_json::Value),
) {
    let mut cmd = Command::new(exe);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(exe.parent().unwrap());
    let mut b = Browser::spawn(cmd, Under::Native);
    check(&b.json(request));
    let (status, stderr) = b.close();
    assert!(
        status.success(),
        "{} exited {status:?}: {stderr}",
        exe.display()
    );
}

fn calc(exe: &Path) {
    answers_when_started_like_a_browser(exe, r#"{"op":"add","a":2,"b":3}"#, |reply| {
        assert_eq!(reply["result"], 5.0, "{reply}");
    });
}

/// The soname libnmframe/build.rs gives: `libnmframe.so.0.MINOR` before 1.0.
fn soname() -> String {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    match major {
        "0" => format!("libnmframe.so.0.{}", env!("CARGO_PKG_VERSION_MINOR")),
        _ => format!("libnmframe.so.{major}"),
    }
}

fn dynamic_section(exe: &Path) -> String {
    let out = Command::new("readelf").arg("-d").arg(exe).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pkg_config_builds_hosts_that_start_without_ld_library_path() {
    let lib = prefix().join("lib");
    let out = target_dir().join("ffi-examples");
    std::fs::create_dir_all(&out).unwrap();
    let builds: [(&str, &str, &[&str]); 3] = [
        ("calc_host_pc_shared", "nmframe", &[]),
        ("calc_host_pc_static", "nmframe-static", &[]),
        ("calc_host_pc_full_static", "nmframe-static", &["-static"]),
    ];
    for (name, package, extra) in builds {
        let exe = out.join(name);
        run(Command::new("gcc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
            .args(extra)
            .arg(root().join("ffi/examples/c/calc_host.c"))
            .args(pkg_config(package))
            .arg("-o")
            .arg(&exe));
        let dynamic = dynamic_section(&exe);
        match name {
            "calc_host_pc_shared" => {
                assert!(
                    dynamic.contains(&format!("Shared library: [{}]", soname())),
                    "{dynamic}"
                );
                assert!(
                    dynamic.contains(&format!("path: [{}]", lib.display())),
                    "the shared flags carry an rpath to the prefix: {dynamic}"
                );
            }
            _ => assert!(
                !dynamic.contains("libnmframe"),
                "{name} needs libnmframe.so: {dynamic}"
            ),
        }
        calc(&exe);
    }
}

#[test]
fn install_lays_out_the_soname_links_and_the_command() {
    let lib = prefix().join("lib");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        std::fs::read_link(lib.join("libnmframe.so")).unwrap(),
        Path::new(&soname())
    );
    assert_eq!(
        std::fs::read_link(lib.join(soname())).unwrap(),
        Path::new(&format!("libnmframe.so.{version}"))
    );
    assert!(
        dynamic_section(&lib.join(format!("libnmframe.so.{version}")))
            .contains(&format!("Library soname: [{}]", soname()))
    );
    let out = Command::new(prefix().join("bin/nmframe"))
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("nmframe {version}\n")
    );
}

#[test]
fn cmake_find_package_builds_shared_and_static_hosts_that_start_after_install() {
    prefix();
    let build = target_dir().join("ffi-cmake-build");
    let dest = target_dir().join("ffi-cmake-install");
    let _ = std::fs::remove_dir_all(&build);
    let _ = std::fs::remove_dir_all(&dest);
    run(Command::new("cmake")
        .arg("-S")
        .arg(root().join("ffi/examples/cmake"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix().display())));
    run(Command::new("cmake").arg("--build").arg(&build));
    run(Command::new("cmake")
        .arg("--install")
        .arg(&build)
        .arg("--prefix")
        .arg(&dest));
    // Installed copies: CMake strips its own build-tree rpath on install, so what is left
    // is the package's.
    let calc_host = dest.join("bin/calc_host");
    assert!(dynamic_section(&calc_host).contains(&format!("Shared library: [{}]", soname())));
    calc(&calc_host);
    let echo_host = dest.join("bin/echo_host_cpp");
    assert!(!dynamic_section(&echo_host).contains("libnmframe"));
    answers_when_started_like_a_browser(&echo_host, r#"{"echo":["é",1]}"#, |reply| {
        assert_eq!(reply, &serde_json::json!({"echo":["é",1]}));
    });
    // A request for a version this one does not satisfy is refused, with both versions.
    let project = target_dir().join("ffi-cmake-newer");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.13)\nproject(newer LANGUAGES C)\nfind_package(nmframe 0.2 REQUIRED)\n",
    )
    .unwrap();
    let refused = Command::new("cmake")
        .arg("-S")
        .arg(&project)
        .arg("-B")
        .arg(project.join("build"))
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("0.2") && stderr.contains(env!("CARGO_PKG_VERSION")),
        "{stderr}"
    );
}

/// The shared library exports the header's functions and nothing else: Rust's own
/// symbols stay hidden, so two libraries built with different Rust versions never clash
/// in one process.
#[test]
fn the_shared_library_exports_exactly_the_header_functions() {
    let header = std::fs::read_to_string(root().join("ffi/include/nmframe.h")).unwrap();
    // Every `nmf_name(` in the header: the declarations, and the calls its comments show.
    let mut declared: Vec<String> = header
        .match_indices("nmf_")
        .filter_map(|(at, _)| {
            let rest = &header[at..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            rest[end..].starts_with('(').then(|| rest[..end].to_owned())
        })
        .collect();
    declared.sort();
    declared.dedup();
    let nm = Command::new("nm")
        .args(["-D", "--defined-only", "--format=posix"])
        .arg(prefix().join("lib/libnmframe.so"))
        .output()
        .unwrap();
    assert!(nm.status.success());
    let mut exported: Vec<String> = String::from_utf8(nm.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    exported.sort();
    assert!(declared.len() > 20, "{declared:?}");
    assert_eq!(exported, declared);
}

/// The README's Go block: the program a newcomer copies.
fn readme_go_block() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    readme
        .split("```go\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("the README has a go block")
        .to_owned()
}

#[test]
fn the_readme_go_block_is_go_cmd_readme_host() {
    let file = std::fs::read_to_string(root().join("go/cmd/readme_host/main.go")).unwrap();
    // The file is the block under its leading comment (what the command is).
    let body: String = file
        .lines()
        .skip_while(|line| line.starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        readme_go_block(),
        body,
        "README.md's Go block and go/cmd/readme_host/main.go differ: edit both"
    );
}

/// A Go host in a module of its own, outside the repository, as the README says to set
/// one up: `require` + `replace` to the clone, a plain `go build` with only
/// `PKG_CONFIG_PATH` set (the package's `#cgo pkg-config` line does the rest).
#[test]
fn a_go_host_builds_outside_the_repository_and_keeps_serving_after_bad_messages() {
    let dir = std::env::temp_dir().join(format!("nmframe-go-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        format!(
            "module example.com/myhost\n\ngo 1.19\n\nrequire nmframe.dev/go v0.0.0\n\nreplace nmframe.dev/go => {}\n",
            root().join("go").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("main.go"), readme_go_block()).unwrap();
    let stamp = go_stamp(&prefix().join("lib/libnmframe.a"));
    let exe = dir.join("myhost");
    run(Command::new("go")
        .args(["build", &stamp, "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(&dir)
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env_remove("CGO_CFLAGS")
        .env_remove("CGO_LDFLAGS"));
    assert!(!dynamic_section(&exe).contains("libnmframe"));

    let mut cmd = Command::new(&exe);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&dir);
    let mut b = Browser::spawn(cmd, Under::Native);
    b.send(r#"{"id":1,"text":"hé"}"#.as_bytes());
    b.send(b"[1,");
    b.send(br#"{"id":"three"}"#);
    b.send(br#"{"id":4,"text":""}"#);
    assert_eq!(b.recv(), br#"{"id":1,"len":3}"#);
    assert_eq!(b.recv(), br#"{"id":4,"len":0}"#);
    let (status, stderr) = b.close();
    assert!(status.success(), "{status:?}: {stderr}");
    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("host: skipped:"))
        .collect();
    assert_eq!(skipped.len(), 2, "{stderr}");
    assert!(skipped[0].contains("a 3-byte message"), "{stderr}");
    assert!(
        skipped[1].contains("a 14-byte message") && skipped[1].contains("uint64"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
