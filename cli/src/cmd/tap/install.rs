//! `nmframe tap install|uninstall`: puts the tap in front of an installed host, and takes
//! it away, without the user writing a wrapper.
//!
//! A manifest's `path` takes no arguments, so the tap goes in as a small script next to
//! the manifest, `NAME.nmframe-tap`, that runs `nmframe tap --log FILE -- HOST "$@"`; the
//! manifest is kept as `NAME.json.nmframe-tap-backup` and put back by `uninstall`.

use std::path::{Path, PathBuf};

use crate::exit::{MISBEHAVED, SETUP, USAGE};
use crate::launch::resolve_host;
use crate::out::problem;
use crate::registration::{Pick, Places, Target};

const BACKUP: &str = "nmframe-tap-backup";
const WRAPPER: &str = "nmframe-tap";

/// The manifests named `name` that the chosen browsers would read (all browsers when none
/// is chosen), user ones before system ones.
fn manifests(
    name: &str,
    browsers: &[Pick],
    user_data_dir: Option<&Path>,
) -> Vec<(Target, PathBuf)> {
    let places = Places::new(None, user_data_dir, None);
    let mut found: Vec<(Target, PathBuf)> = Vec::new();
    for target in places.targets(browsers, true) {
        // Browsers that share a folder find the same manifest: tap it once.
        if let Some(f) = places.find(target, name)
            && !found.iter().any(|(_, p)| *p == f.path)
        {
            found.push((target, f.path));
        }
    }
    found
}

fn backup_of(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(format!(".{BACKUP}"));
    PathBuf::from(name)
}

/// A path as one word of a POSIX shell command.
fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

pub(crate) fn tap_install(
    name: &str,
    browsers: &[Pick],
    user_data_dir: Option<&Path>,
    log: &Path,
    bodies: bool,
) -> u8 {
    if cfg!(windows) {
        problem(
            "tap install writes a shell script in front of the host: not on Windows yet; register `nmframe tap --log FILE -- HOST` in a .bat of your own",
        );
        return USAGE;
    }
    let found = manifests(name, browsers, user_data_dir);
    if found.is_empty() {
        problem(&format!(
            "no browser has a manifest named {name:?} (install it first: nmframe manifest install)"
        ));
        return MISBEHAVED;
    }
    let nmframe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            problem(&format!("cannot tell where this nmframe is: {err}"));
            return SETUP;
        }
    };
    let log = std::path::absolute(log).unwrap_or_else(|_| log.to_path_buf());
    let mut failed = false;
    for (target, path) in found {
        match tap_one(&path, &nmframe, &log, bodies, name, target) {
            Ok(host) => println!(
                "{}: {} now starts the tap, which starts {} and logs to {}",
                target.name(),
                path.display(),
                host.display(),
                log.display()
            ),
            Err(err) => {
                problem(&format!("{}: {}: {err}", target.name(), path.display()));
                failed = true;
            }
        }
    }
    if failed { MISBEHAVED } else { 0 }
}

fn tap_one(
    manifest: &Path,
    nmframe: &Path,
    log: &Path,
    bodies: bool,
    name: &str,
    target: Target,
) -> Result<PathBuf, String> {
    let backup = backup_of(manifest);
    if backup.exists() {
        return Err(format!(
            "already tapped (its original is {}); `nmframe tap uninstall --name {name}` first",
            backup.display()
        ));
    }
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("cannot read it: {e}"))?;
    let mut json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("not a JSON object: {e}"))?;
    let Some(host) = json.get("path").and_then(|p| p.as_str()) else {
        return Err("it has no \"path\"".into());
    };
    let dir = manifest.parent().unwrap_or(Path::new("/"));
    let host = resolve_host(Path::new(host), Some(dir));
    let wrapper = dir.join(format!("{name}.{WRAPPER}"));
    // The manifest's folder says which browser reads it: its rules judge the host, whatever
    // the host's own arguments look like.
    let browser = match target.browser() {
        nmframe::Browser::Firefox => "firefox",
        _ => "chromium",
    };
    let script = format!(
        "#!/bin/sh\n# Written by `nmframe tap install`: `nmframe tap uninstall --name {name}` puts the\n\
         # original manifest back and removes this file.\n\
         exec {} tap --log {} --browser {browser}{} -- {} \"$@\"\n",
        sh_quote(nmframe),
        sh_quote(log),
        if bodies { " --bodies" } else { "" },
        sh_quote(&host)
    );
    std::fs::write(&wrapper, script)
        .map_err(|e| format!("cannot write {}: {e}", wrapper.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", wrapper.display()))?;
    }
    std::fs::copy(manifest, &backup).map_err(|e| format!("cannot keep a copy: {e}"))?;
    json.insert(
        "path".into(),
        serde_json::Value::String(wrapper.display().to_string()),
    );
    let mut text = serde_json::to_string_pretty(&json).expect("a manifest serializes");
    text.push('\n');
    if let Err(e) = std::fs::write(manifest, text) {
        let _ = std::fs::remove_file(&backup);
        let _ = std::fs::remove_file(&wrapper);
        return Err(format!("cannot rewrite it: {e}"));
    }
    Ok(host)
}

pub(crate) fn tap_uninstall(name: &str, browsers: &[Pick], user_data_dir: Option<&Path>) -> u8 {
    let mut restored = 0;
    let mut failed = false;
    for (target, manifest) in manifests(name, browsers, user_data_dir) {
        let backup = backup_of(&manifest);
        if !backup.exists() {
            continue;
        }
        let wrapper = manifest
            .parent()
            .unwrap_or(Path::new("/"))
            .join(format!("{name}.{WRAPPER}"));
        match std::fs::rename(&backup, &manifest) {
            Ok(()) => {
                let _ = std::fs::remove_file(&wrapper);
                println!("{}: restored {}", target.name(), manifest.display());
                restored += 1;
            }
            Err(err) => {
                problem(&format!(
                    "{}: cannot restore {} from {}: {err}",
                    target.name(),
                    manifest.display(),
                    backup.display()
                ));
                failed = true;
            }
        }
    }
    if failed {
        return MISBEHAVED;
    }
    if restored == 0 {
        problem(&format!("no tapped manifest named {name:?}"));
        return MISBEHAVED;
    }
    0
}
