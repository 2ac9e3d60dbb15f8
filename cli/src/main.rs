//! `nmframe`: drive, inspect, bridge and register browser native-messaging hosts.
//!
//! Exit codes: 0 all went well; 1 the host (or the stream) misbehaved; 2 usage error;
//! 3 the session could not be set up (host not found, I/O).

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use nmframe::Role;

mod manifest;
mod run;
mod text;
mod tools;

use manifest::{Os, Target};
use run::{Flavor, Launch, Messages, Settings, problem};

const MISBEHAVED: u8 = 1;
const USAGE: u8 = 2;
const SETUP: u8 = 3;

/// Drive, inspect, bridge and register browser native-messaging hosts.
#[derive(Parser)]
#[command(name = "nmframe", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a host exactly as a browser does, send it messages, print its replies.
    ///
    /// Messages come from --message (repeatable), --file, or NDJSON on stdin. Each reply
    /// is printed as one JSON line. The host's output is held to the browser's rules
    /// (1 MiB cap, no empty frames, valid UTF-8 JSON) with a precise diagnosis.
    ///
    /// Example: nmframe run -m '{"cmd":"ping"}' -- ./my-host
    Run(RunArgs),
    /// Install, remove, check or list host manifests.
    ///
    /// Example: nmframe manifest install --name com.example.host --path /opt/host
    /// --browser chromium --origin chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/
    Manifest {
        #[command(subcommand)]
        action: ManifestCmd,
    },
    /// Decode a captured byte stream into one JSON line per frame.
    ///
    /// Stops with a diagnosis at the first bad frame, after printing every good one.
    ///
    /// Example: nmframe dump capture.bin --role browser
    Dump {
        /// The capture; `-` or nothing for stdin.
        file: Option<PathBuf>,
        /// Who read the stream: `browser` (a host's output, 1 MiB cap) or `host`.
        #[arg(long, value_enum, default_value = "browser")]
        role: RoleArg,
    },
    /// Be a host that turns each browser message into a JSON line on CMD's stdin, and
    /// each line CMD prints into a message. Any program becomes a host.
    ///
    /// Example: nmframe bridge -- python3 handler.py
    Bridge {
        /// The command and its arguments.
        #[arg(required = true, last = true)]
        command: Vec<OsString>,
    },
    /// The reference echo host: validates each message with simd-json and sends the
    /// same bytes back (tests and benchmarks use it).
    ///
    /// Example: nmframe run -m '[1]' -- nmframe echo
    Echo {
        /// Ignored: what the browser passes on the command line.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        _browser_args: Vec<OsString>,
    },
    /// Runs the echo host (and the C example host when it can be built) under `run`
    /// with a built-in set of messages, and prints a transcript with timings.
    ///
    /// Example: nmframe demo
    Demo,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Host,
    Browser,
}

#[derive(Args)]
struct RunArgs {
    /// The browser to imitate.
    #[arg(long, value_enum, default_value = "chromium")]
    browser: Flavor,
    /// Chromium: the calling extension's origin.
    #[arg(
        long,
        default_value = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"
    )]
    origin: String,
    /// Firefox: the calling add-on's id.
    #[arg(long, default_value = "nmframe@example.org")]
    extension_id: String,
    /// Resolve the host from this installed manifest, as the browser would.
    #[arg(long, value_name = "NAME")]
    manifest: Option<String>,
    /// Chromium's --user-data-dir, for --manifest.
    #[arg(long, value_name = "DIR")]
    user_data_dir: Option<PathBuf>,
    /// A message to send (JSON); repeatable.
    #[arg(short, long = "message", value_name = "JSON")]
    messages: Vec<String>,
    /// Send the messages in this NDJSON file.
    #[arg(long, value_name = "FILE", conflicts_with = "messages")]
    file: Option<PathBuf>,
    /// Like sendNativeMessage: send the first message, keep the first reply, disconnect.
    #[arg(long)]
    one_shot: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// The host and its arguments (after `--`).
    #[arg(last = true, value_name = "HOST")]
    host: Vec<OsString>,
}

#[derive(Subcommand)]
enum ManifestCmd {
    /// Write a manifest where the browser looks for it (Windows: print the registry command).
    ///
    /// Example: nmframe manifest install --name com.example.host --path /opt/host
    /// --browser firefox --extension-id host@example.org
    Install(ManifestArgs),
    /// Remove a manifest written by install.
    ///
    /// Example: nmframe manifest uninstall --name com.example.host --browser chromium
    Uninstall(ManifestArgs),
    /// Explain every problem in a manifest, and whether its host is executable.
    ///
    /// Example: nmframe manifest check --name com.example.host --browser chrome
    Check {
        /// A manifest file; or find it by --name and --browser.
        file: Option<PathBuf>,
        #[command(flatten)]
        args: ManifestArgs,
    },
    /// List the manifests each browser would find.
    ///
    /// Example: nmframe manifest list --browser firefox
    List {
        #[command(flatten)]
        args: ManifestArgs,
    },
}

#[derive(Args, Clone)]
struct ManifestArgs {
    /// The host's name, e.g. com.example.host.
    #[arg(long)]
    name: Option<String>,
    /// The host executable (absolute path).
    #[arg(long)]
    path: Option<PathBuf>,
    /// The browser(s) the manifest is for; repeatable. Default: all (list), chromium (others).
    #[arg(long, value_enum)]
    browser: Vec<Target>,
    /// Chromium: an allowed origin, chrome-extension://<id>/; repeatable.
    #[arg(long)]
    origin: Vec<String>,
    /// Firefox: an allowed add-on id; repeatable.
    #[arg(long)]
    extension_id: Vec<String>,
    /// The manifest's description.
    #[arg(long, default_value = "A native-messaging host")]
    description: String,
    /// Chromium's --user-data-dir: use its NativeMessagingHosts folder.
    #[arg(long, value_name = "DIR")]
    user_data_dir: Option<PathBuf>,
    /// The system-wide location instead of the user's.
    #[arg(long)]
    system: bool,
    /// Whose conventions to follow (default: this machine's).
    #[arg(long, value_enum)]
    os: Option<Os>,
    /// Windows: where to write the manifest file the registry points to.
    #[arg(long, value_name = "DIR")]
    manifest_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { USAGE } else { 0 });
        }
    };
    let code = match cli.command {
        Cmd::Run(args) => cmd_run(args),
        Cmd::Manifest { action } => cmd_manifest(action),
        Cmd::Dump { file, role } => cmd_dump(file, role),
        Cmd::Bridge { command } => cmd_bridge(command),
        Cmd::Echo { .. } => match tools::echo() {
            Ok(()) => 0,
            Err(err) => {
                problem(&format!("echo: {err}"));
                MISBEHAVED
            }
        },
        Cmd::Demo => cmd_demo(),
    };
    ExitCode::from(code)
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cmd_run(args: RunArgs) -> u8 {
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
        flavor: args.browser,
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
    };
    let mut stdout = io::stdout().lock();
    match run::run(&launch, &settings, messages, &mut stdout) {
        Ok(report) if report.problems == 0 => 0,
        Ok(report) => {
            problem(&format!(
                "{} problem(s); {} message(s) sent, {} reply(ies)",
                report.problems, report.sent, report.replies
            ));
            MISBEHAVED
        }
        Err(err @ run::RunError::BadMessage(..)) => {
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
fn resolve_run_host(args: &RunArgs) -> Result<Found, (u8, String)> {
    if let Some(name) = &args.manifest {
        let target = match args.browser {
            Flavor::Chromium => Target::Chromium,
            Flavor::Firefox => Target::Firefox,
        };
        let os = Os::current();
        let path = manifest::find(target, os, &home(), args.user_data_dir.as_deref(), name)
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
            Flavor::Chromium => fields
                .allowed_origins
                .iter()
                .flatten()
                .any(|o| o == &args.origin),
            Flavor::Firefox => fields
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
        let host = run::resolve_host(Path::new(&host), path.parent());
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

fn targets(args: &ManifestArgs, default_all: bool) -> Vec<Target> {
    if !args.browser.is_empty() {
        args.browser.clone()
    } else if default_all {
        Target::ALL.to_vec()
    } else {
        vec![Target::Chromium]
    }
}

fn manifest_dir(args: &ManifestArgs, target: Target, os: Os) -> Result<PathBuf, String> {
    if os == Os::Windows {
        return Ok(args
            .manifest_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")));
    }
    let dir = if args.system {
        manifest::system_dir(target, os)
    } else {
        manifest::user_dir(target, os, &home(), args.user_data_dir.as_deref())
    };
    dir.ok_or_else(|| {
        format!(
            "no documented system-wide folder for {} on this OS",
            target.name()
        )
    })
}

fn cmd_manifest(action: ManifestCmd) -> u8 {
    match action {
        ManifestCmd::Install(args) => manifest_install(&args),
        ManifestCmd::Uninstall(args) => manifest_uninstall(&args),
        ManifestCmd::Check { file, args } => manifest_check(file, &args),
        ManifestCmd::List { args } => manifest_list(&args),
    }
}

fn manifest_install(args: &ManifestArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    let (Some(name), Some(path)) = (&args.name, &args.path) else {
        problem("install needs --name and --path");
        return USAGE;
    };
    let mut failed = false;
    for target in targets(args, false) {
        let manifest = manifest::Manifest {
            name: name.clone(),
            description: args.description.clone(),
            path: path.display().to_string(),
            kind: "stdio".into(),
            allowed_origins: (!target.is_firefox()).then(|| args.origin.clone()),
            allowed_extensions: target.is_firefox().then(|| args.extension_id.clone()),
        };
        let problems = manifest::validate(&(&manifest).into(), target, os, None);
        for p in &problems {
            if p.fatal {
                problem(&format!("{}: {}", target.name(), p.text));
            } else {
                run::warn(&format!("{}: {}", target.name(), p.text));
            }
        }
        if problems.iter().any(|p| p.fatal) {
            failed = true;
            continue;
        }
        let dir = match manifest_dir(args, target, os) {
            Ok(dir) => dir,
            Err(e) => {
                problem(&e);
                failed = true;
                continue;
            }
        };
        let file = dir.join(format!("{name}.json"));
        let mut text =
            nmframe::simd_json::to_string_pretty(&manifest).expect("a manifest serializes");
        text.push('\n');
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, text)) {
            problem(&format!("cannot write {}: {e}", file.display()));
            failed = true;
            continue;
        }
        println!("{}: wrote {}", target.name(), file.display());
        if os == Os::Windows {
            let key = manifest::registry_key(target, name, args.system);
            println!(
                "run: REG ADD \"{key}\" /ve /t REG_SZ /d \"{}\" /f",
                file.display()
            );
        }
    }
    if failed { MISBEHAVED } else { 0 }
}

fn manifest_uninstall(args: &ManifestArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    let Some(name) = &args.name else {
        problem("uninstall needs --name");
        return USAGE;
    };
    let mut code = 0;
    for target in targets(args, false) {
        let Ok(dir) = manifest_dir(args, target, os) else {
            continue;
        };
        let file = dir.join(format!("{name}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => println!("{}: removed {}", target.name(), file.display()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                println!("{}: no {}", target.name(), file.display())
            }
            Err(e) => {
                problem(&format!("cannot remove {}: {e}", file.display()));
                code = SETUP;
            }
        }
        if os == Os::Windows {
            println!(
                "run: REG DELETE \"{}\" /f",
                manifest::registry_key(target, name, args.system)
            );
        }
    }
    code
}

fn manifest_check(file: Option<PathBuf>, args: &ManifestArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    let mut checked = Vec::new();
    match (&file, &args.name) {
        (Some(file), _) => {
            // A file alone: judge it as the browsers that could read it.
            let target =
                args.browser
                    .first()
                    .copied()
                    .unwrap_or_else(|| match manifest::read(file) {
                        Ok((f, _))
                            if f.allowed_extensions.is_some() && f.allowed_origins.is_none() =>
                        {
                            Target::Firefox
                        }
                        _ => Target::Chromium,
                    });
            checked.push((target, file.clone()));
        }
        (None, Some(name)) => {
            for target in targets(args, true) {
                match manifest::find(target, os, &home(), args.user_data_dir.as_deref(), name) {
                    Some(path) => checked.push((target, path)),
                    None if !args.browser.is_empty() => {
                        problem(&format!(
                            "{}: no manifest named {name:?} where it looks",
                            target.name()
                        ));
                        return MISBEHAVED;
                    }
                    None => {}
                }
            }
            if checked.is_empty() {
                problem(&format!("no browser has a manifest named {name:?}"));
                return MISBEHAVED;
            }
        }
        (None, None) => {
            problem("check needs a FILE or --name");
            return USAGE;
        }
    }
    let mut bad = false;
    for (target, path) in checked {
        let (fields, mut problems) = match manifest::read(&path) {
            Ok(found) => found,
            Err(e) => {
                problem(&format!("{}: {e}", target.name()));
                bad = true;
                continue;
            }
        };
        let file_name = path.file_name().and_then(|f| f.to_str());
        problems.extend(manifest::validate(&fields, target, os, file_name));
        if problems.is_empty() {
            println!("{}: {}: ok", target.name(), path.display());
        }
        for p in &problems {
            let level = if p.fatal { "error" } else { "warning" };
            println!("{}: {}: {level}: {}", target.name(), path.display(), p.text);
        }
        bad |= problems.iter().any(|p| p.fatal);
    }
    if bad { MISBEHAVED } else { 0 }
}

fn manifest_list(args: &ManifestArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    for target in targets(args, true) {
        let dirs = [
            manifest::user_dir(target, os, &home(), args.user_data_dir.as_deref()),
            manifest::system_dir(target, os),
        ];
        for dir in dirs.into_iter().flatten() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for path in files {
                let verdict = match manifest::read(&path) {
                    Ok((fields, mut problems)) => {
                        problems.extend(manifest::validate(
                            &fields,
                            target,
                            os,
                            path.file_name().and_then(|f| f.to_str()),
                        ));
                        let errors = problems.iter().filter(|p| p.fatal).count();
                        let host = fields.path.unwrap_or_default();
                        if errors == 0 {
                            format!("ok  {host}")
                        } else {
                            format!("{errors} error(s)  {host}")
                        }
                    }
                    Err(e) => e,
                };
                println!("{:<9} {}  {verdict}", target.name(), path.display());
            }
        }
    }
    0
}

fn cmd_dump(file: Option<PathBuf>, role: RoleArg) -> u8 {
    let role = match role {
        RoleArg::Host => Role::Host,
        RoleArg::Browser => Role::Browser,
    };
    let mut input: Box<dyn io::Read> = match file.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(io::stdin().lock()),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                problem(&format!("cannot open {}: {e}", p.display()));
                return SETUP;
            }
        },
    };
    let mut out = io::stdout().lock();
    match tools::dump(&mut input, role, &mut out) {
        Ok(true) => 0,
        Ok(false) => MISBEHAVED,
        Err(e) => {
            problem(&format!("dump: {e}"));
            SETUP
        }
    }
}

fn cmd_bridge(command: Vec<OsString>) -> u8 {
    let (program, args) = command.split_first().expect("clap requires a command");
    match tools::bridge(std::process::Command::new(program).args(args)) {
        Ok(0) => 0,
        Ok(code) => {
            problem(&format!("bridge: the command exited with {code}"));
            MISBEHAVED
        }
        Err(e) => {
            problem(&format!(
                "bridge: cannot run {}: {e}",
                program.to_string_lossy()
            ));
            SETUP
        }
    }
}

/// The built-in messages of the demo, with what each shows.
fn demo_messages() -> Vec<(&'static str, Vec<u8>)> {
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

fn cmd_demo() -> u8 {
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
    let mut code = 0;
    for (label, host, extra_args) in hosts {
        println!("== {label}: {}", host.display());
        code = code.max(demo_one(host, extra_args));
        println!();
    }
    code
}

fn demo_one(host: PathBuf, extra_args: Vec<OsString>) -> u8 {
    let launch = Launch {
        flavor: Flavor::Chromium,
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
        let outcome = run::run(
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
    match run::run(
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

/// The C example echo host, built from this source tree when gcc is here.
fn c_example_host() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no source tree")?
        .to_path_buf();
    let source = root.join("ffi/examples/c/echo_host.c");
    if !source.exists() {
        return Err("no source tree next to this binary".into());
    }
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
