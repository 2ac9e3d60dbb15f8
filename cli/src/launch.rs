//! How a browser starts a host: its command line, its directory, and the host's stderr
//! (which the browser logs).

use std::ffi::OsString;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nmframe::Browser;

/// How to start the host.
#[derive(Clone, Debug)]
pub(crate) struct Launch {
    /// The browser to imitate: its command line for the host and its rules for the
    /// host's output. The command line refuses `Unknown`; Chromium's rules would apply.
    pub browser: Browser,
    pub host: PathBuf,
    /// Arguments before the browser's own, e.g. the script for an interpreter.
    pub extra_args: Vec<OsString>,
    /// Chromium: `chrome-extension://<id>/`.
    pub origin: String,
    /// Firefox: the add-on id.
    pub extension_id: String,
    /// Firefox: the manifest path passed as `argv[1]`.
    pub manifest_path: PathBuf,
}

impl Launch {
    /// The host's command line and environment, as the browser sets them up.
    pub(crate) fn command(&self) -> Command {
        // A relative path with a folder in it would be looked up after the move into
        // the host's directory (below): anchor it here first. A bare name is searched
        // in PATH as usual.
        let host = if self.host.components().count() > 1 {
            std::path::absolute(&self.host).unwrap_or_else(|_| self.host.clone())
        } else {
            self.host.clone()
        };
        // The user's own arguments first: `run -- python3 host.py` is then started as
        // the kernel starts a `#!` script the browser launches.
        let mut args = self.extra_args.clone();
        match self.browser {
            Browser::Chromium | Browser::Unknown => {
                args.push(self.origin.clone().into());
                if cfg!(windows) {
                    // A service worker's port: there is no window.
                    args.push("--parent-window=0".into());
                }
            }
            Browser::Firefox => {
                args.push(self.manifest_path.clone().into());
                args.push(self.extension_id.clone().into());
            }
        }
        let mut cmd = self.program(&host, &args);
        // Both browsers start the host in its own directory.
        if let Some(dir) = host.parent().filter(|d| !d.as_os_str().is_empty()) {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[cfg(not(windows))]
    fn program(&self, host: &Path, args: &[OsString]) -> Command {
        let mut cmd = Command::new(host);
        cmd.args(args);
        cmd
    }

    /// Chromium on Windows starts every host through the command interpreter, as
    /// `%COMSPEC% /d /s /c "HOST ARGS" < pipe > pipe` (unless the policy
    /// NativeHostsExecutablesLaunchDirectly is set): `.bat` hosts run, `cmd.exe` is the
    /// process the browser watches and kills, and the host is its child. Firefox starts
    /// a program directly (the standard library runs a `.bat` through `cmd.exe` too).
    #[cfg(windows)]
    fn program(&self, host: &Path, args: &[OsString]) -> Command {
        use std::os::windows::process::CommandExt;
        if self.browser == Browser::Firefox {
            let mut cmd = Command::new(host);
            cmd.args(args);
            return cmd;
        }
        let comspec = std::env::var_os("COMSPEC").unwrap_or_else(|| "cmd.exe".into());
        let mut line = quote_arg(host.as_os_str());
        for arg in args {
            line.push(' ');
            line.push_str(&quote_arg(arg));
        }
        let mut cmd = Command::new(comspec);
        // cmd.exe parses its own command line: `/s /c "..."` strips the outer quotes
        // and runs the rest as typed.
        cmd.raw_arg(format!("/d /s /c \"{line}\""));
        cmd
    }
}

/// `arg` quoted for a Windows command line where it needs it (the C runtime's rules:
/// backslashes before a quote are doubled, a quote is escaped).
#[cfg(any(windows, test))]
fn quote_arg(arg: &std::ffi::OsStr) -> String {
    let arg = arg.to_string_lossy();
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.into_owned();
    }
    let mut out = String::from('"');
    let mut backslashes = 0;
    for c in arg.chars() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        // Backslashes count as escapes only before a quote.
        let escapes = if c == '"' {
            backslashes * 2 + 1
        } else {
            backslashes
        };
        out.extend(std::iter::repeat_n('\\', escapes));
        backslashes = 0;
        out.push(c);
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// Reads the host's stderr to its end, handing each line (its newline included) to
/// `line`: `run` prints them, the tap prints and logs them. The browser logs them too.
pub(crate) fn relay_stderr(stderr: impl Read, mut line: impl FnMut(&[u8])) {
    let mut reader = io::BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => line(&buf),
        }
    }
}

/// The directory a relative host path is resolved in: the manifest's, as browsers do.
pub(crate) fn resolve_host(host: &Path, base: Option<&Path>) -> PathBuf {
    match base {
        Some(base) if host.is_relative() => base.join(host),
        _ => host.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::quote_arg;

    #[test]
    fn windows_arguments_are_quoted_as_the_c_runtime_reads_them() {
        let q = |s: &str| quote_arg(std::ffi::OsStr::new(s));
        assert_eq!(q("chrome-extension://abc/"), "chrome-extension://abc/");
        assert_eq!(
            q(r"C:\Program Files\host.exe"),
            r#""C:\Program Files\host.exe""#
        );
        assert_eq!(q(""), r#""""#);
        assert_eq!(q(r#"a "b""#), r#""a \"b\"""#);
        assert_eq!(q(r"dir with space\"), r#""dir with space\\""#);
        assert_eq!(q(r#"x\"y z"#), r#""x\\\"y z""#);
    }
}
