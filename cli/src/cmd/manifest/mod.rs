//! `nmframe manifest install|uninstall|check|list|browsers`: the orchestration; the
//! browsers' rules and places are in crate::registration.

use std::io;
use std::path::{Path, PathBuf};

use nmframe::Browser;

use crate::out::{problem, warn};
use crate::registration::sandbox::{self, wrapper_name};
use crate::registration::table::SnapSupport;
use crate::registration::{self as manifest, Os, Places, Sandbox, Target};

use crate::args::{InstallPlace, ManifestArgs, ManifestCmd, PlaceArgs};
use crate::exit::{MISBEHAVED, SETUP, USAGE};

mod browsers;
mod check;

pub(crate) fn manifest_dir(
    args: &InstallPlace,
    target: Target,
    places: &Places,
) -> Result<PathBuf, String> {
    if places.os == Os::Windows {
        return Ok(args
            .manifest_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")));
    }
    if args.system {
        if matches!(target.sandbox, Sandbox::Flatpak(_)) {
            return Err(format!(
                "{}: a Flatpak browser reads only the folder inside its sandbox: install it \
                 without --system",
                target.name()
            ));
        }
        return places
            .system_dirs(target)
            .into_iter()
            .next()
            .ok_or_else(|| {
                format!(
                    "{}: no documented system-wide folder on this OS",
                    target.name()
                )
            });
    }
    places.user_dir(target).ok_or_else(|| match target.sandbox {
        Sandbox::Snap(snap) => match snap.support {
            SnapSupport::None(why) => why.to_owned(),
            SnapSupport::Portal => format!("{}: no folder", target.name()),
        },
        _ => format!(
            "{}: {} does not read manifests on this OS (as far as nmframe knows)",
            target.name(),
            target.entry.title
        ),
    })
}

pub(crate) fn cmd_manifest(action: ManifestCmd) -> u8 {
    match action {
        ManifestCmd::Install(args) => manifest_install(&args),
        ManifestCmd::Uninstall(args) => manifest_uninstall(&args),
        ManifestCmd::Check {
            file,
            name,
            extension_manifest,
            places,
        } => manifest_check(file, name, extension_manifest.as_deref(), &places),
        ManifestCmd::List { places } => manifest_list(&places),
        ManifestCmd::Browsers {
            os,
            sources,
            installed,
        } => browsers::print(&Places::new(os, None, None), sources, installed),
    }
}

fn install_places(args: &InstallPlace) -> Places {
    Places::new(args.os, args.user_data_dir.as_deref(), args.root.as_deref())
}

pub(crate) fn manifest_install(args: &ManifestArgs) -> u8 {
    let places = install_places(&args.place);
    let os = places.os;
    let (Some(name), Some(path)) = (&args.place.name, &args.path) else {
        problem("install needs --name and --path");
        return USAGE;
    };
    let mut failed = false;
    let targets = places.targets(&args.place.browser, false);
    if targets.is_empty() {
        problem("--browser all: no browser of `nmframe manifest browsers` is installed here");
        return MISBEHAVED;
    }
    for target in targets {
        let label = target.name();
        if let Sandbox::Snap(snap) = target.sandbox
            && let SnapSupport::None(why) = snap.support
        {
            problem(&format!("{label}: {why}"));
            failed = true;
            continue;
        }
        let mut manifest = manifest::Manifest {
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
                problem(&format!("{label}: {}", p.text));
            } else {
                warn(&format!("{label}: {}", p.text));
            }
        }
        if problems.iter().any(|p| p.fatal) {
            failed = true;
            continue;
        }
        let dir = match manifest_dir(&args.place, target, &places) {
            Ok(dir) => dir,
            Err(e) => {
                problem(&e);
                failed = true;
                continue;
            }
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            problem(&format!("cannot create {}: {e}", dir.display()));
            failed = true;
            continue;
        }
        if let Sandbox::Flatpak(app) = target.sandbox {
            // The sandbox cannot run the host: the manifest names a wrapper, in the
            // app's own folder (which the sandbox sees at the same path), that asks
            // Flatpak to start it outside.
            let wrapper = dir.join(wrapper_name(name));
            match write_executable(&wrapper, &sandbox::wrapper_script(name, app.id, path)) {
                Ok(()) => {
                    println!(
                        "{label}: wrote {} (starts {} outside the sandbox)",
                        wrapper.display(),
                        path.display()
                    );
                    manifest.path = wrapper.display().to_string();
                }
                Err(e) => {
                    problem(&e);
                    failed = true;
                    continue;
                }
            }
        }
        // The registry needs the manifest's absolute path.
        let file = std::path::absolute(dir.join(format!("{name}.json")))
            .unwrap_or_else(|_| dir.join(format!("{name}.json")));
        // serde_json's layout: simd-json's pretty printer puts most keys on one line.
        let mut text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
        text.push('\n');
        if let Err(e) = std::fs::write(&file, text) {
            problem(&format!("cannot write {}: {e}", file.display()));
            failed = true;
            continue;
        }
        println!("{label}: wrote {}", file.display());
        if os == Os::Windows {
            let Some(key) = manifest::registry_key(target, name, args.place.system) else {
                problem(&format!(
                    "{label}: {} reads no registry key nmframe knows",
                    target.entry.title
                ));
                failed = true;
                continue;
            };
            let value = file.display().to_string();
            if !cfg!(windows) {
                // Written for another machine: the command to run there.
                println!("run: REG ADD \"{key}\" /ve /t REG_SZ /d \"{value}\" /f");
            } else if let Err(e) = crate::registration::registry::set(&key, &value) {
                problem(&format!("{label}: {e}"));
                failed = true;
            } else {
                println!("{label}: set {key} to {value}");
            }
        }
        match target.sandbox {
            Sandbox::Flatpak(app) => {
                failed |= !grant_flatpak(&places, app.id, args.flatpak_override)
            }
            Sandbox::Snap(snap) => println!(
                "{label}: the snap starts hosts through the WebExtensions portal, which asks you \
                 the first time an extension connects; to allow it beforehand: {}",
                sandbox::portal_permission_command(name, snap.name)
            ),
            Sandbox::None => {}
        }
    }
    if failed { MISBEHAVED } else { 0 }
}

/// Says whether Flatpak `app` may already run the wrapper, and grants it (`run`) or
/// prints the command that does. False when running it failed.
fn grant_flatpak(places: &Places, app: &str, run: bool) -> bool {
    let command = sandbox::override_command(app);
    if let Some(file) = sandbox::talk_granted(places, app) {
        println!(
            "flatpak:{app}: may already run hosts outside the sandbox ({})",
            file.display()
        );
        return true;
    }
    if !run {
        println!(
            "flatpak:{app}: the wrapper needs one permission; grant it with: {} \
             (or install again with --flatpak-override)",
            command.join(" ")
        );
        return true;
    }
    match std::process::Command::new(&command[0])
        .args(&command[1..])
        .status()
    {
        Ok(status) if status.success() => {
            println!("flatpak:{app}: ran {}", command.join(" "));
            true
        }
        Ok(status) => {
            problem(&format!("{} failed ({status})", command.join(" ")));
            false
        }
        Err(e) => {
            problem(&format!("cannot run {}: {e}", command[0]));
            false
        }
    }
}

fn write_executable(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok(())
}

pub(crate) fn manifest_uninstall(args: &InstallPlace) -> u8 {
    let places = install_places(args);
    let os = places.os;
    let Some(name) = &args.name else {
        problem("uninstall needs --name");
        return USAGE;
    };
    let mut code = 0;
    for target in places.targets(&args.browser, false) {
        let label = target.name();
        let Ok(dir) = manifest_dir(args, target, &places) else {
            continue;
        };
        let mut files = vec![dir.join(format!("{name}.json"))];
        if matches!(target.sandbox, Sandbox::Flatpak(_)) {
            files.push(dir.join(wrapper_name(name)));
        }
        for file in files {
            match std::fs::remove_file(&file) {
                Ok(()) => println!("{label}: removed {}", file.display()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    println!("{label}: no {}", file.display())
                }
                Err(e) => {
                    problem(&format!("cannot remove {}: {e}", file.display()));
                    code = SETUP;
                }
            }
        }
        if os == Os::Windows {
            let Some(key) = manifest::registry_key(target, name, args.system) else {
                continue;
            };
            if !cfg!(windows) {
                println!("run: REG DELETE \"{key}\" /f");
                continue;
            }
            match crate::registration::registry::delete(&key) {
                Ok(true) => println!("{label}: deleted {key}"),
                Ok(false) => println!("{label}: no {key}"),
                Err(e) => {
                    problem(&format!("{label}: {e}"));
                    code = SETUP;
                }
            }
        }
    }
    code
}

pub(crate) fn manifest_check(
    file: Option<PathBuf>,
    name: Option<String>,
    extension_manifest: Option<&Path>,
    args: &PlaceArgs,
) -> u8 {
    let places = Places::new(args.os, args.user_data_dir.as_deref(), args.root.as_deref());
    let os = places.os;
    let extension = match extension_manifest
        .map(manifest::extension::read)
        .transpose()
    {
        Ok(ext) => ext,
        Err(e) => {
            problem(&e);
            return SETUP;
        }
    };
    let mut checked: Vec<(Target, PathBuf, Option<String>)> = Vec::new();
    match (&file, &name) {
        (Some(file), _) => {
            // A file alone: judge it as the browsers that could read it.
            let target = match places.targets(&args.browser, false).first() {
                Some(t) if !args.browser.is_empty() => *t,
                _ => match manifest::read(file) {
                    Ok((f, _)) if f.allowed_extensions.is_some() && f.allowed_origins.is_none() => {
                        Target::named("firefox")
                    }
                    _ => Target::named("chromium"),
                },
            };
            checked.push((target, file.clone(), None));
        }
        (None, Some(name)) => {
            for target in places.targets(&args.browser, true) {
                match places.find(target, name) {
                    // Browsers that share a folder find the same file: judge it once.
                    Some(found) if checked.iter().any(|(_, p, _)| *p == found.path) => {}
                    Some(found) => checked.push((target, found.path, found.key)),
                    None if !args.browser.is_empty() => {
                        let looked: Vec<String> = places
                            .dirs(target)
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect();
                        let looked = if looked.is_empty() {
                            String::new()
                        } else {
                            format!(" (it looks in {})", looked.join(", "))
                        };
                        problem(&format!(
                            "{}: no manifest named {name:?} where it looks{looked}",
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
        let label = target.name();
        // On Windows, which key led there: a browser reads the first of its keys that
        // exists, and a stale one shadows the rest.
        // A user-level host: in the user's folder, or named from the user's hive.
        let user_level = match &key {
            Some(key) => key.starts_with("HKCU"),
            None => places.user_dir(target).is_some_and(|d| path.starts_with(d)),
        };
        let via = key.map(|k| format!(" (named by {k})")).unwrap_or_default();
        let (mut fields, mut problems) = match manifest::read(&path) {
            Ok(found) => found,
            Err(e) => {
                let looks_further = if via.is_empty() {
                    ""
                } else {
                    "; the browser stops at the first key it finds and looks no further"
                };
                problem(&format!("{label}: {e}{via}{looks_further}"));
                bad = true;
                continue;
            }
        };
        let mut notes = Vec::new();
        // A Flatpak's manifest names the wrapper; the rules apply to the host it starts.
        if let Sandbox::Flatpak(app) = target.sandbox {
            let wrapped = fields
                .path
                .as_deref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|script| sandbox::wrapped_host(&script));
            match wrapped {
                Some(host) => {
                    notes.push(format!(
                        "the wrapper starts {} outside the sandbox",
                        host.display()
                    ));
                    fields.path = Some(host.display().to_string());
                    if sandbox::talk_granted(&places, app.id).is_none() {
                        problems.push(manifest::error(format!(
                            "{} may not run flatpak-spawn --host: grant it with `{}`",
                            app.id,
                            sandbox::override_command(app.id).join(" ")
                        )));
                    }
                }
                None => problems.push(manifest::error(format!(
                    "\"path\" {:?} would run inside the sandbox, which cannot start a host of \
                     the machine: `nmframe manifest install --browser flatpak:{}` writes a \
                     wrapper that starts it with flatpak-spawn --host",
                    fields.path.as_deref().unwrap_or(""),
                    app.id
                ))),
            }
        }
        problems.extend(manifest::validate(&fields, target, os, Some(&path)));
        if let Some(name) = &fields.name
            && target.browser() == Browser::Chromium
            && let Some(why) = manifest::policy::read(&places, target).refuses(name, user_level)
        {
            problems.push(manifest::error(why));
        }
        if let Some(ext) = &extension {
            problems.extend(manifest::check_extension(&fields, target, ext));
        }
        if target.sandbox != Sandbox::None
            && let Some(name) = &fields.name
        {
            notes.push(match sandbox::proxy_finds(&places, target.browser(), name) {
                Ok(found) => format!(
                    "through xdg-native-messaging-proxy a sandboxed browser would find {}",
                    found.display()
                ),
                Err(why) => format!(
                    "through xdg-native-messaging-proxy a sandboxed browser would find nothing: {why}"
                ),
            });
        }
        if let Sandbox::Snap(snap) = target.sandbox
            && let Some(name) = &fields.name
        {
            notes.push(format!(
                "the portal asks the user the first time; to allow it beforehand: {}",
                sandbox::portal_permission_command(name, snap.name)
            ));
        }
        // A manifest the browser would take gets its host started as the browser would
        // start it; not one for another system, whose host cannot run here.
        if os == Os::current() && !problems.iter().any(|p| p.fatal) {
            let started = check::try_start(&fields, target.browser(), &path);
            problems.extend(started.problems);
            notes.extend(started.note);
        }
        if problems.is_empty() {
            let note = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            println!("{label}: {}{via}: ok{note}", path.display());
        } else {
            for note in &notes {
                println!("{label}: {}{via}: note: {note}", path.display());
            }
        }
        for p in &problems {
            let level = if p.fatal { "error" } else { "warning" };
            println!("{label}: {}{via}: {level}: {}", path.display(), p.text);
        }
        bad |= problems.iter().any(|p| p.fatal);
    }
    if bad { MISBEHAVED } else { 0 }
}

pub(crate) fn manifest_list(args: &PlaceArgs) -> u8 {
    let places = Places::new(args.os, args.user_data_dir.as_deref(), args.root.as_deref());
    let os = places.os;
    if os == Os::Windows && cfg!(windows) {
        list_registry(&places, args);
        return 0;
    }
    // Browsers that share a folder: it is listed once, under the first.
    let mut seen: Vec<PathBuf> = Vec::new();
    for target in places.targets(&args.browser, true) {
        for dir in places.dirs(target) {
            if seen.contains(&dir) {
                continue;
            }
            seen.push(dir.clone());
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
fn list_registry(places: &Places, args: &PlaceArgs) {
    // Browsers that read the same keys find the same manifests: each is listed once.
    let mut seen: Vec<PathBuf> = Vec::new();
    for target in places.targets(&args.browser, true) {
        let mut names: Vec<String> = manifest::registry_search(target, "")
            .iter()
            .flat_map(|folder| {
                crate::registration::registry::subkeys(folder.trim_end_matches('\\'))
            })
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let Some(found) = places.find(target, &name) else {
                continue;
            };
            if seen.contains(&found.path) {
                continue;
            }
            seen.push(found.path.clone());
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
