//! What nmframe's tests and fuzz targets share, in one crate that each depends on
//! through Cargo: the hostile-input table ([`hostile`]), a counting allocator
//! ([`alloc`]), the fuzz checks and their oracles ([`fuzz`]), the replay of the
//! committed fuzz seeds ([`replay_seeds`]), and waiting for a host process
//! ([`exits_within`]), building an example host ([`example`]), a host process driven
//! as a browser drives it ([`process`]), and the chunked scenarios every binding runs
//! ([`chunked`]). Not published.

pub mod alloc;
pub mod chunked;
pub mod echo;
pub mod fuzz;
pub mod hostile;
pub mod process;

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Waits for `child` to exit, at most `limit`; past it, kills the child and fails.
pub fn exits_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("host still running {limit:?} after its stdin was closed");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

use std::path::Path;

/// The repository's `fuzz/` directory, where the seeds and regressions live.
pub fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz"))
}

/// Runs `check` on every committed seed and regression input of fuzz target `target`
/// (`fuzz/seeds/TARGET/`, `fuzz/regressions/TARGET/`); fails naming the input whose
/// check fails, or when there is none.
pub fn replay_seeds(target: &str, check: fn(&[u8])) {
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            let data = std::fs::read(&path).expect("a readable seed");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no seeds for {target}: run fuzz/gen-seeds.py");
}

/// Builds example `name` of `package` (with `features`) through the cargo that builds the
/// tests, and gives its path: a plain `cargo test` has built it already, `cargo test
/// --test X` has not. Call it from an integration test, whose binary sits in
/// `target/<profile>/deps`.
pub fn example(package: &str, name: &str, features: &[&str]) -> PathBuf {
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", package, "--example", name]);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the {name} example of {package} failed"
    );
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Builds an example as [`example`] does and starts it as a browser starts a host: the
/// caller's origin as its argument, pipes for stdin, stdout and stderr.
pub fn start_example(package: &str, name: &str, features: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    Command::new(example(package, name, features))
        .arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts")
}
