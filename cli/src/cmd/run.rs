//! `nmframe run`: start a host as a browser does and hold it to that browser's rules.

use std::ffi::OsString;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nmframe::Browser;

use crate::args::RunArgs;
use crate::exit::{MISBEHAVED, SETUP, USAGE};
use crate::launch::Launch;
use crate::out::{problem, warn};
use crate::registration::home;
use crate::registration::{self as manifest, Places, Target};
use crate::session::{self, Messages, RunError, Settings};

pub(crate) fn cmd_run(args: RunArgs) -> u8 {
    let (host, extra_args, manifest_path) = match resolve_run_host(&args) {
        Ok(found) => found,
        Err((code, text)) => {
            problem(&text);
            return code;
        }
    };
    let messages = if !args.messages.is_empty() {
        Messages::List(
            args.messages
                .iter()
                .map(|m| m.clone().into_bytes())
                .collect(),
        )
    } else if let Some(raw) = &args.raw {
        let bytes = if raw.as_os_str() == "-" {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut bytes).map(|_| bytes)
        } else {
            std::fs::read(raw)
        };
        match bytes {
            Ok(bytes) => Messages::Raw(bytes),
            Err(e) => {
                problem(&format!("cannot read {}: {e}", raw.display()));
                return SETUP;
            }
        }
    } else if let Some(file) = &args.file {
        match std::fs::File::open(file) {
            Ok(f) => Messages::Lines(Box::new(io::BufReader::new(f))),
            Err(e) => {
                problem(&format!("cannot open {}: {e}", file.display()));
                return SETUP;
            }
        }
    } else {
        Messages::Lines(Box::new(io::BufReader::new(io::stdin())))
    };
    let launch = Launch {
        browser: args.browser,
        host,
        extra_args,
        origin: args.origin.clone(),
        extension_id: args.extension_id.clone(),
        manifest_path,
    };
    let settings = Settings {
        one_shot: args.one_shot,
        timeout: args.timeout.map(Duration::from_secs_f64),
        human: io::stdout().is_terminal(),
        chunked: args.chunked,
    };
    let mut stdout = io::stdout().lock();
    let outcome = session::run(&launch, &settings, messages, &mut stdout);
    if let Ok(report) = &outcome
        && let Some(status) = report.exit_status.filter(|s| !s.success())
    {
        // The browser does not look at it, but its author wants to know (a panic, a
        // crash, an exit on an error it did not report).
        warn(&format!("the host {}", describe_exit(status)));
    }
    match outcome {
        Ok(report) if report.problems == 0 => 0,
        Ok(report) => {
            problem(&format!(
                "{} problem(s); {} message(s) sent, {} reply(ies)",
                report.problems, report.sent, report.replies
            ));
            MISBEHAVED
        }
        Err(err @ RunError::BadMessage(..)) => {
            problem(&err.to_string());
            USAGE
        }
        Err(err) => {
            problem(&err.to_string());
            SETUP
        }
    }
}

type Found = (PathBuf, Vec<OsString>, PathBuf);

/// The host to start, its extra arguments, and the manifest path Firefox would pass.
pub(crate) fn resolve_run_host(args: &RunArgs) -> Result<Found, (u8, String)> {
    if let Some(name) = &args.manifest {
        let target = match args.browser {
            Browser::Firefox => Target::named("firefox"),
            Browser::Chromium | Browser::Unknown => Target::named("chromium"),
        };
        let places = Places::new(None, args.user_data_dir.as_deref(), None);
        let path = places
            .find(target, name)
            .map(|found| found.path)
            .ok_or_else(|| {
                (
                    SETUP,
                    format!("no manifest named {name:?} where {} looks", target.name()),
                )
            })?;
        let (fields, _) = manifest::read(&path).map_err(|e| (SETUP, e))?;
        let host = fields
            .path
            .clone()
            .ok_or_else(|| (SETUP, format!("{} has no \"path\"", path.display())))?;
        let allowed = match args.browser {
            Browser::Chromium | Browser::Unknown => fields
                .allowed_origins
                .iter()
                .flatten()
                .any(|o| o == &args.origin),
            Browser::Firefox => fields
                .allowed_extensions
                .iter()
                .flatten()
                .any(|o| o == &args.extension_id),
        };
        if !allowed {
            return Err((
                MISBEHAVED,
                format!(
                    "{} does not allow the caller: the browser would refuse with \"Access to the specified native \
                     messaging host is forbidden.\"",
                    path.display()
                ),
            ));
        }
        let host = crate::launch::resolve_host(Path::new(&host), path.parent());
        return Ok((host, args.host.clone(), path));
    }
    let Some((host, extra)) = args.host.split_first() else {
        return Err((
            USAGE,
            "name the host after `--` (nmframe run -- ./my-host), or use --manifest".into(),
        ));
    };
    let host = PathBuf::from(host);
    // Firefox passes the manifest's path; without one, point at where it would be.
    let manifest_path = home().join(".mozilla/native-messaging-hosts/nmframe.run.json");
    Ok((host, extra.to_vec(), manifest_path))
}

/// How a host ended, in words: its exit code, or the signal that killed it.
fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => format!("ended: {status}"),
    }
}
