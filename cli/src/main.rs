//! `nmframe`: drive, inspect, bridge and register browser native-messaging hosts. This
//! file is the dispatch: the command line is in `args`, each command lives in `cmd/`.
//!
//! Exit codes: 0 all went well; 1 the host (or the stream) misbehaved; 2 usage error;
//! 3 the session could not be set up (host not found, I/O).

use std::process::ExitCode;

use clap::Parser;

mod args;
mod browser;
mod cmd;
mod exit;
mod launch;
mod out;
mod registration;
mod session;
mod text;
mod tree;

use args::{Cli, Cmd, Direction, TapCmd};
use exit::{MISBEHAVED, USAGE};
use out::problem;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { USAGE } else { 0 });
        }
    };
    let code = match cli.command {
        Cmd::Run(args) => cmd::run::cmd_run(args),
        Cmd::Manifest { action } => cmd::manifest::cmd_manifest(action),
        Cmd::Dump { file, role } => cmd::dump::cmd_dump(file, role),
        Cmd::Bridge { command } => cmd::bridge::cmd_bridge(command),
        Cmd::Echo { .. } => match cmd::echo::echo() {
            Ok(()) => 0,
            Err(err) => {
                problem(&format!("echo: {err}"));
                MISBEHAVED
            }
        },
        Cmd::Demo { hosts } => cmd::demo::cmd_demo(hosts),
        Cmd::Tap {
            action,
            log,
            bodies,
            browser,
            command,
        } => match action {
            None => cmd::tap::cmd_tap(&log.expect("required"), bodies, browser, &command),
            Some(TapCmd::Show {
                file,
                follow,
                messages,
            }) => match messages {
                Some(Direction::ToHost) => {
                    cmd::tap::show::cmd_messages(&file, cmd::tap::Dir::ToHost)
                }
                Some(Direction::ToBrowser) => {
                    cmd::tap::show::cmd_messages(&file, cmd::tap::Dir::ToBrowser)
                }
                None => cmd::tap::show::cmd_show(&file, follow),
            },
            Some(TapCmd::Install { place, log, bodies }) => cmd::tap::install::tap_install(
                &place.name,
                &place.browser,
                place.user_data_dir.as_deref(),
                &log,
                bodies,
            ),
            Some(TapCmd::Uninstall { place }) => cmd::tap::install::tap_uninstall(
                &place.name,
                &place.browser,
                place.user_data_dir.as_deref(),
            ),
        },
    };
    ExitCode::from(code)
}
