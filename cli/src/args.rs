//! The command line: every command, its arguments and its help text, parsed by clap.
//! `main` dispatches on [`Cmd`]; each command's code lives in `cmd/`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::registration::{Os, Pick, Target};

/// Drive, inspect, bridge and register browser native-messaging hosts.
#[derive(Parser)]
#[command(name = "nmframe", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
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
        #[arg(long, default_value = "browser", value_parser = role_parser())]
        role: nmframe::Role,
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
    /// See every frame between a real browser and a real host: a transparent proxy that
    /// the browser starts in the host's place.
    ///
    /// It starts HOST with the arguments it was given (the browser's, from a wrapper) in
    /// the host's directory, forwards both directions unchanged, and appends one JSON line
    /// per event to the log: each frame with its verdict under the browser's rules, the
    /// host's stderr lines, the ends of both streams, the host's exit. It exits with the
    /// host's code. `tap install` puts it in front of an installed host; `tap show`
    /// reads a log.
    ///
    /// Example: nmframe tap install --name com.example.host --log /tmp/host.log
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Tap {
        #[command(subcommand)]
        action: Option<TapCmd>,
        /// Where to append the log, one JSON line per event.
        #[arg(long, value_name = "FILE", required = true)]
        log: Option<PathBuf>,
        /// Log every payload whole (default: the first 64 bytes of each).
        #[arg(long)]
        bodies: bool,
        /// Whose rules to judge the host's output by (default: told by the arguments, as
        /// nmframe::Caller reads them).
        #[arg(long, value_parser = browser_parser())]
        browser: Option<nmframe::Browser>,
        /// The host and its arguments (after `--`).
        #[arg(last = true, value_name = "HOST", required = true)]
        command: Vec<OsString>,
    },
    /// Runs the echo host under `run` with a built-in set of messages, and prints a
    /// transcript with timings. Inside a clone of the nmframe repository it also builds
    /// and runs the C example host; --host adds any other.
    ///
    /// Example: nmframe demo --host ./my-host
    Demo {
        /// Also drive this host (repeatable), started as Chromium starts one.
        #[arg(long = "host", value_name = "PATH")]
        hosts: Vec<PathBuf>,
    },
}

/// `host` or `browser`, read by the core's own parser (one vocabulary for roles).
fn role_parser() -> impl clap::builder::TypedValueParser<Value = nmframe::Role> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["host", "browser"])
        .try_map(|name| name.parse::<nmframe::Role>())
}

/// `chromium` or `firefox`, read by the core's own parser (one vocabulary for browsers).
fn browser_parser() -> impl clap::builder::TypedValueParser<Value = nmframe::Browser> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["chromium", "firefox"])
        .try_map(|name| name.parse::<nmframe::Browser>())
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// The browser to imitate: chromium or firefox.
    #[arg(long, default_value = "chromium", value_parser = browser_parser())]
    pub(crate) browser: nmframe::Browser,
    /// Chromium: the calling extension's origin.
    #[arg(
        long,
        default_value = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"
    )]
    pub(crate) origin: String,
    /// Firefox: the calling add-on's id.
    #[arg(long, default_value = "nmframe@example.org")]
    pub(crate) extension_id: String,
    /// Resolve the host from this installed manifest, as the browser would.
    #[arg(long, value_name = "NAME")]
    pub(crate) manifest: Option<String>,
    /// Chromium's --user-data-dir, for --manifest.
    #[arg(long, value_name = "DIR")]
    pub(crate) user_data_dir: Option<PathBuf>,
    /// A message to send (JSON); repeatable.
    #[arg(short, long = "message", value_name = "JSON")]
    pub(crate) messages: Vec<String>,
    /// Send the messages in this NDJSON file.
    #[arg(long, value_name = "FILE", conflicts_with = "messages")]
    pub(crate) file: Option<PathBuf>,
    /// Send this file's bytes to the host exactly as they are, headers included: frames
    /// built by hand to test a host's error paths (a header over the limit, a frame cut
    /// short, a payload that is not JSON). `-` reads them from stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["messages", "file", "one_shot"])]
    pub(crate) raw: Option<PathBuf>,
    /// Like sendNativeMessage: send the first message, keep the first reply, disconnect.
    #[arg(long)]
    pub(crate) one_shot: bool,
    /// Read the host's replies as an extension with nmframe-port does (docs/CHUNKING.md):
    /// messages in parts are acknowledged, reassembled, checked and printed whole, and
    /// the port stays open until the host has been quiet for 2 s.
    #[arg(long, conflicts_with_all = ["raw", "one_shot"])]
    pub(crate) chunked: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<f64>,
    /// The host and its arguments (after `--`).
    #[arg(last = true, value_name = "HOST")]
    pub(crate) host: Vec<OsString>,
}

#[derive(Subcommand)]
pub(crate) enum TapCmd {
    /// A tap log as a timeline, with the diagnosis of what went wrong.
    ///
    /// Example: nmframe tap show /tmp/host.log --follow
    Show {
        /// The log `nmframe tap --log` writes.
        file: PathBuf,
        /// Keep showing lines as the tap writes them, until the host's session ends.
        #[arg(long, conflicts_with = "messages")]
        follow: bool,
        /// Instead: print the messages of one direction as NDJSON (needs a log written
        /// with --bodies), to replay with `nmframe run --file`.
        #[arg(long, value_enum, value_name = "DIRECTION")]
        messages: Option<Direction>,
    },
    /// Put the tap in front of an installed host: its manifest then starts a wrapper that
    /// runs `nmframe tap`; `tap uninstall` restores the manifest.
    ///
    /// Example: nmframe tap install --name com.example.host --log /tmp/host.log
    Install {
        #[command(flatten)]
        place: TapPlace,
        /// Where the tap appends its log.
        #[arg(long, value_name = "FILE")]
        log: PathBuf,
        /// Log every payload whole.
        #[arg(long)]
        bodies: bool,
    },
    /// Take the tap away: restore the manifests `tap install` changed.
    ///
    /// Example: nmframe tap uninstall --name com.example.host
    Uninstall {
        #[command(flatten)]
        place: TapPlace,
    },
}

/// Which installed manifests `tap install` and `uninstall` change.
#[derive(Args, Clone)]
pub(crate) struct TapPlace {
    /// The host's name, e.g. com.example.host.
    #[arg(long)]
    pub(crate) name: String,
    /// The browser(s) whose manifest to change; repeatable (`nmframe manifest browsers`
    /// lists the names). Default: every one that has a manifest of that name.
    #[arg(long, value_parser = Target::parse, value_name = "BROWSER")]
    pub(crate) browser: Vec<Pick>,
    /// Chromium's --user-data-dir: look in its NativeMessagingHosts folder too.
    #[arg(long, value_name = "DIR")]
    pub(crate) user_data_dir: Option<PathBuf>,
}

/// A direction of the stream, for `tap show --messages`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Direction {
    /// Browser → host.
    ToHost,
    /// Host → browser.
    ToBrowser,
}

#[derive(Subcommand)]
pub(crate) enum ManifestCmd {
    /// Write a manifest where the browser looks for it (Windows: print the registry command).
    ///
    /// Example: nmframe manifest install --name com.example.host --path /opt/host
    /// --browser firefox --extension-id host@example.org
    Install(ManifestArgs),
    /// Remove a manifest written by install.
    ///
    /// Example: nmframe manifest uninstall --name com.example.host --browser chromium
    Uninstall(InstallPlace),
    /// Explain every problem in a manifest, then start its host as the browser would (its
    /// argv and directory, a desktop session's environment without your LD_LIBRARY_PATH),
    /// close its stdin, and report a host that cannot start or does not exit, with the fix.
    ///
    /// Example: nmframe manifest check --name com.example.host --browser chrome
    Check {
        /// A manifest file; or find it by --name and --browser.
        file: Option<PathBuf>,
        /// The host's name, e.g. com.example.host.
        #[arg(long)]
        name: Option<String>,
        /// The extension's manifest.json (or its folder): check that the host manifest
        /// lets in the id it will have (Chromium: from its "key", or from the folder's
        /// path when it has none; Firefox: browser_specific_settings.gecko.id).
        #[arg(long, value_name = "PATH")]
        extension_manifest: Option<PathBuf>,
        #[command(flatten)]
        places: PlaceArgs,
    },
    /// Print every browser nmframe knows, for this machine: which are installed, the
    /// manifest flavour each reads, and where it looks (folders, registry keys), with
    /// Flatpak and snap browsers.
    ///
    /// Example: nmframe manifest browsers --os macos
    Browsers {
        /// Whose conventions to follow (default: this machine's).
        #[arg(long, value_enum)]
        os: Option<Os>,
        /// Also print where each browser's folders and keys come from.
        #[arg(long)]
        sources: bool,
        /// Only the installed browsers.
        #[arg(long)]
        installed: bool,
    },
    /// List the manifests each browser would find.
    ///
    /// Example: nmframe manifest list --browser firefox
    List {
        #[command(flatten)]
        places: PlaceArgs,
    },
}

/// Where `check` and `list` look: only the flags they use, so that any other is refused
/// rather than silently ignored.
#[derive(Args, Clone)]
pub(crate) struct PlaceArgs {
    /// The browser(s) to look for; repeatable: a name of `nmframe manifest browsers`,
    /// flatpak:APP_ID, snap:NAME, or all (every installed one). Default: every browser.
    #[arg(long, value_parser = Target::parse, value_name = "BROWSER")]
    pub(crate) browser: Vec<Pick>,
    /// Chromium's --user-data-dir: look in its NativeMessagingHosts folder too.
    #[arg(long, value_name = "DIR")]
    pub(crate) user_data_dir: Option<PathBuf>,
    /// Whose conventions to follow (default: this machine's).
    #[arg(long, value_enum)]
    pub(crate) os: Option<Os>,
    /// Read system folders (/etc, /usr/lib, policies) under this folder instead of /: a
    /// mounted image, a container's root.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
}

/// What `install` writes: where (as for `uninstall`), and the manifest's contents.
#[derive(Args, Clone)]
pub(crate) struct ManifestArgs {
    #[command(flatten)]
    pub(crate) place: InstallPlace,
    /// The host executable (absolute path).
    #[arg(long)]
    pub(crate) path: Option<PathBuf>,
    /// Chromium: an allowed origin, chrome-extension://<id>/; repeatable.
    #[arg(long)]
    pub(crate) origin: Vec<String>,
    /// Firefox: an allowed add-on id; repeatable.
    #[arg(long)]
    pub(crate) extension_id: Vec<String>,
    /// The manifest's description.
    #[arg(long, default_value = "A native-messaging host")]
    pub(crate) description: String,
    /// Flatpak browsers: grant the permission the wrapper needs (runs `flatpak override
    /// --user --talk-name=org.freedesktop.Flatpak APP_ID`) instead of printing the command.
    #[arg(long)]
    pub(crate) flatpak_override: bool,
}

/// Which manifest `install` writes and `uninstall` removes, and where.
#[derive(Args, Clone)]
pub(crate) struct InstallPlace {
    /// The host's name, e.g. com.example.host.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The browser(s) the manifest is for; repeatable: a name of `nmframe manifest
    /// browsers`, flatpak:APP_ID, snap:NAME, or all (every installed one). Default:
    /// chromium.
    #[arg(long, value_parser = Target::parse, value_name = "BROWSER")]
    pub(crate) browser: Vec<Pick>,
    /// Chromium's --user-data-dir: use its NativeMessagingHosts folder.
    #[arg(long, value_name = "DIR")]
    pub(crate) user_data_dir: Option<PathBuf>,
    /// The system-wide location instead of the user's.
    #[arg(long)]
    pub(crate) system: bool,
    /// Whose conventions to follow (default: this machine's).
    #[arg(long, value_enum)]
    pub(crate) os: Option<Os>,
    /// Windows: where to write the manifest file the registry points to.
    #[arg(long, value_name = "DIR")]
    pub(crate) manifest_dir: Option<PathBuf>,
    /// With --system: write under this folder instead of / (a package's staging
    /// folder, DESTDIR).
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
}
