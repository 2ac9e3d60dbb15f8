//! `nmframe manifest install|uninstall|check|list`: the orchestration; the browsers'
//! rules are in crate::registration.

use std::io;
use std::path::PathBuf;

use nmframe::Browser;

use crate::out::{problem, warn};
use crate::registration::home;
use crate::registration::{self as manifest, Os, Target, targets};

use crate::args::{InstallPlace, ManifestArgs, ManifestCmd, PlaceArgs};
use crate::exit::{MISBEHAVED, SETUP, USAGE};

mod check;

pub(crate) fn manifest_dir(args: &InstallPlace, target: Target, os: Os) -> Result<PathBuf, String> {
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

pub(crate) fn cmd_manifest(action: ManifestCmd) -> u8 {
    match action {
        ManifestCmd::Install(args) => manifest_install(&args),
        ManifestCmd::Uninstall(args) => manifest_uninstall(&args),
        ManifestCmd::Check { file, name, places } => manifest_check(file, name, &places),
        ManifestCmd::List { places } => manifest_list(&places),
    }
}

pub(crate) fn manifest_install(args: &ManifestArgs) -> u8 {
    let os = args.place.os.unwrap_or_else(Os::current);
    let (Some(name), Some(path)) = (&args.place.name, &args.path) else {
        problem("install needs --name and --path");
        return USAGE;
    };
    let mut failed = false;
    for target in targets(&args.place.browser, false) {
        let manifest = manifest::Manifest {
            name: name.clone(),
            description: args.description.clone(),
            path: path.display().to_string(),
            kind: "stdio".into(),
            allowed_origins: (target.browser() != Browser::Firefox).then(|| args.origin.clone()),
            allowed_extensions: (target.browser() == Browser::Firefox)
                .then(|| args.extension_id.clone()),
        };
        let problems = manifest::validate(&(&manifest).into(), target, os, None);
        for p in &problems {
            if p.fatal {
                problem(&format!("{}: {}", target.name(), p.text));
            } else {
                warn(&format!("{}: {}", target.name(), p.text));
            }
        }
        if problems.iter().any(|p| p.fatal) {
            failed = true;
            continue;
        }
        let dir = match manifest_dir(&args.place, target, os) {
            Ok(dir) => dir,
            Err(e) => {
                problem(&e);
                failed = true;
                continue;
            }
        };
        // The registry needs the manifest's absolute path.
        let file = std::path::absolute(dir.join(format!("{name}.json")))
            .unwrap_or_else(|_| dir.join(format!("{name}.json")));
        // serde_json's layout: simd-json's pretty printer puts most keys on one line.
        let mut text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
        text.push('\n');
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, text)) {
            problem(&format!("cannot write {}: {e}", file.display()));
            failed = true;
            continue;
        }
        println!("{}: wrote {}", target.name(), file.display());
        if os == Os::Windows {
            let key = manifest::registry_key(target, name, args.place.system);
            let value = file.display().to_string();
            if !cfg!(windows) {
                // Written for another machine: the command to run there.
                println!("run: REG ADD \"{key}\" /ve /t REG_SZ /d \"{value}\" /f");
            } else if let Err(e) = crate::registration::registry::set(&key, &value) {
                problem(&format!("{}: {e}", target.name()));
                failed = true;
            } else {
                println!("{}: set {key} to {value}", target.name());
            }
        }
    }
    if failed { MISBEHAVED } else { 0 }
}

pub(crate) fn manifest_uninstall(args: &InstallPlace) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    let Some(name) = &args.name else {
        problem("uninstall needs --name");
        return USAGE;
    };
    let mut code = 0;
    for target in targets(&args.browser, false) {
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
            let key = manifest::registry_key(target, name, args.system);
            if !cfg!(windows) {
                println!("run: REG DELETE \"{key}\" /f");
                continue;
            }
            match crate::registration::registry::delete(&key) {
                Ok(true) => println!("{}: deleted {key}", target.name()),
                Ok(false) => println!("{}: no {key}", target.name()),
                Err(e) => {
                    problem(&format!("{}: {e}", target.name()));
                    code = SETUP;
                }
            }
        }
    }
    code
}

pub(crate) fn manifest_check(file: Option<PathBuf>, name: Option<String>, args: &PlaceArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    let mut checked = Vec::new();
    match (&file, &name) {
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
            checked.push((target, file.clone(), None));
        }
        (None, Some(name)) => {
            for target in targets(&args.browser, true) {
                match manifest::find(target, os, &home(), args.user_data_dir.as_deref(), name) {
                    Some(found) => checked.push((target, found.path, found.key)),
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
    for (target, path, key) in checked {
        // On Windows, which key led there: a browser reads the first of its keys that
        // exists, and a stale one shadows the rest.
        let via = key.map(|k| format!(" (named by {k})")).unwrap_or_default();
        let (fields, mut problems) = match manifest::read(&path) {
            Ok(found) => found,
            Err(e) => {
                let looks_further = if via.is_empty() {
                    ""
                } else {
                    "; the browser stops at the first key it finds and looks no further"
                };
                problem(&format!("{}: {e}{via}{looks_further}", target.name()));
                bad = true;
                continue;
            }
        };
        problems.extend(manifest::validate(&fields, target, os, Some(&path)));
        // A manifest the browser would take gets its host started as the browser would
        // start it; not one for another system, whose host cannot run here.
        let mut note = None;
        if os == Os::current() && !problems.iter().any(|p| p.fatal) {
            let started = check::try_start(&fields, target.browser(), &path);
            problems.extend(started.problems);
            note = started.note;
        }
        if problems.is_empty() {
            let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
            println!("{}: {}{via}: ok{note}", target.name(), path.display());
        }
        for p in &problems {
            let level = if p.fatal { "error" } else { "warning" };
            println!(
                "{}: {}{via}: {level}: {}",
                target.name(),
                path.display(),
                p.text
            );
        }
        bad |= problems.iter().any(|p| p.fatal);
    }
    if bad { MISBEHAVED } else { 0 }
}

pub(crate) fn manifest_list(args: &PlaceArgs) -> u8 {
    let os = args.os.unwrap_or_else(Os::current);
    if os == Os::Windows && cfg!(windows) {
        list_registry(args);
        return 0;
    }
    for target in targets(&args.browser, true) {
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
                let verdict = verdict(&path, target, os);
                println!("{:<9} {}  {verdict}", target.name(), path.display());
            }
        }
    }
    0
}

/// `list` on Windows: the hosts registered under every key each browser reads, each with
/// the manifest the browser would take (the first key in its order) and its verdict.
fn list_registry(args: &PlaceArgs) {
    for target in targets(&args.browser, true) {
        let mut names: Vec<String> = manifest::registry_search(target, "")
            .iter()
            .flat_map(|folder| {
                crate::registration::registry::subkeys(folder.trim_end_matches('\\'))
            })
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let Some(found) = manifest::find(target, Os::Windows, &home(), None, &name) else {
                continue;
            };
            let verdict = verdict(&found.path, target, Os::Windows);
            let key = found.key.unwrap_or_default();
            println!(
                "{:<9} {}  {verdict}  ({key})",
                target.name(),
                found.path.display()
            );
        }
    }
}

/// One line's judgement of a manifest: ok or how many errors, and the host it names.
fn verdict(path: &std::path::Path, target: Target, os: Os) -> String {
    match manifest::read(path) {
        Ok((fields, mut problems)) => {
            problems.extend(manifest::validate(&fields, target, os, Some(path)));
            let errors = problems.iter().filter(|p| p.fatal).count();
            let host = fields.path.unwrap_or_default();
            if errors == 0 {
                format!("ok  {host}")
            } else {
                format!("{errors} error(s)  {host}")
            }
        }
        Err(e) => e,
    }
}
