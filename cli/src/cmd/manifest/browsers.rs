//! `nmframe manifest browsers`: the table of browsers, for this machine.

use std::fmt::Write as _;
use std::io::Write as _;

use nmframe::Browser;

use crate::registration::table::{self, SnapSupport, Unix, Windows};
use crate::registration::{Os, Places, Sandbox, Target, registry_search};

/// Prints each browser: whether it is installed, the manifest flavour it reads, and where
/// it looks; then the Flatpak and snap browsers (Linux).
pub(crate) fn print(places: &Places, sources: bool, installed_only: bool) -> u8 {
    let text = table_text(places, sources, installed_only);
    // Written at once, and a reader that stopped early (`| head`) is no error.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

fn table_text(places: &Places, sources: bool, installed_only: bool) -> String {
    let mut out = String::new();
    let os = places.os;
    let _ = writeln!(
        out,
        "{:<26} {:<10} {:<19} where it looks ({})",
        "browser",
        "installed",
        "reads",
        match os {
            Os::Linux => "Linux",
            Os::Macos => "macOS",
            Os::Windows => "Windows: the first key that exists names the manifest",
        }
    );
    for entry in table::browsers() {
        let target = Target {
            entry,
            sandbox: Sandbox::None,
        };
        let installed = places.installed(target);
        if installed_only && !installed {
            continue;
        }
        let own = match os {
            Os::Linux => matches!(entry.linux, Unix::Own { .. }),
            Os::Macos => matches!(entry.macos, Unix::Own { .. }),
            Os::Windows => matches!(entry.windows, Windows::Keys(_)),
        };
        let shares = match os {
            Os::Linux | Os::Macos => {
                let (from, _) = table::unix_of(entry, os == Os::Macos);
                (from.name != entry.name).then_some(from.name)
            }
            Os::Windows => {
                let (from, _) = table::windows_of(entry);
                (from.name != entry.name).then_some(from.name)
            }
        };
        let places_text: Vec<String> = if let Some(from) = shares.filter(|_| !own) {
            let what = if os == Os::Windows { "keys" } else { "folders" };
            vec![format!("the same {what} as {from}")]
        } else if os == Os::Windows {
            let keys = registry_search(target, "<name>");
            if keys.is_empty() {
                vec!["(not known on Windows)".into()]
            } else {
                keys
            }
        } else {
            let dirs = places.dirs(target);
            if dirs.is_empty() {
                vec!["(not made for this OS, or no folder known)".into()]
            } else {
                dirs.iter().map(|d| d.display().to_string()).collect()
            }
        };
        let _ = writeln!(
            out,
            "{:<26} {:<10} {:<19} {}",
            entry.name,
            if installed { "yes" } else { "-" },
            flavour(entry.family),
            places_text[0]
        );
        for more in &places_text[1..] {
            let _ = writeln!(out, "{:<57} {more}", "");
        }
        if sources {
            let _ = writeln!(out, "{:<57} source: {}", "", entry.source);
        }
    }
    if os == Os::Linux {
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<45} {:<10} where it looks",
            "sandboxed (--browser flatpak:APP_ID | snap:NAME)", "installed"
        );
        for app in table::FLATPAKS {
            let target = Target {
                entry: table::by_name(app.browser).expect("a browser of the table"),
                sandbox: Sandbox::Flatpak(app),
            };
            let installed = places.installed(target);
            if installed_only && !installed {
                continue;
            }
            let dir = places
                .user_dir(target)
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<45} {:<10} {dir}  (manifest names a flatpak-spawn --host wrapper)",
                target.name(),
                if installed { "yes" } else { "-" }
            );
        }
        for snap in table::SNAPS {
            let target = Target {
                entry: table::by_name(snap.browser).expect("a browser of the table"),
                sandbox: Sandbox::Snap(snap),
            };
            let installed = places.installed(target);
            if installed_only && !installed {
                continue;
            }
            let how = match snap.support {
                SnapSupport::Portal => format!(
                    "{}  (through the WebExtensions portal, outside the sandbox)",
                    places
                        .user_dir(target)
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                ),
                SnapSupport::None(_) => "cannot start hosts".into(),
            };
            let _ = writeln!(
                out,
                "{:<45} {:<10} {how}",
                target.name(),
                if installed { "yes" } else { "-" }
            );
        }
    }
    out
}

fn flavour(family: Browser) -> &'static str {
    match family {
        Browser::Firefox => "allowed_extensions",
        Browser::Chromium | Browser::Unknown => "allowed_origins",
    }
}
