//! Every browser nmframe knows, as data: where each reads host manifests on Linux, macOS
//! and Windows, which flavour of manifest it reads, how to tell it is installed, and
//! where those facts come from. Browsers that read another's folders say so
//! ([`Unix::Shares`], [`Windows::Shares`]) rather than repeat them.
//!
//! Linux folders are written with the prefix they are relative to: `~/` (the home
//! folder), `$XDG_CONFIG_HOME/` (Chromium builds: `~/.config` unless the variable is set)
//! or `$XDG_DATA_HOME/` (`~/.local/share`).

use nmframe::Browser;

/// One browser product.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name `--browser` takes.
    pub name: &'static str,
    /// Other spellings `--browser` accepts.
    pub aliases: &'static [&'static str],
    pub title: &'static str,
    /// Whose rules it follows: Chromium's manifests (`allowed_origins`) or Firefox's
    /// (`allowed_extensions`).
    pub family: Browser,
    pub linux: Unix,
    pub macos: Unix,
    pub windows: Windows,
    /// Linux: the folders whose `managed` and `recommended` JSON files hold its
    /// enterprise policies (Chromium builds).
    pub linux_policies: &'static str,
    /// Windows: the registry key under `HKLM\SOFTWARE\Policies` (and HKCU's) holding its
    /// policies.
    pub windows_policies: &'static str,
    /// What shows it is installed: a command on PATH (a bare name) or a path (`~/`,
    /// `$XDG_CONFIG_HOME/`, `%LOCALAPPDATA%\` … expanded), per OS.
    pub detect: Detect,
    /// Where the folders and keys above come from.
    pub source: &'static str,
}

/// Where a browser reads manifests on Linux or macOS.
#[derive(Debug, PartialEq, Eq)]
pub enum Unix {
    /// Its own per-user folder, and the system-wide ones it reads after it.
    Own {
        user: &'static str,
        system: &'static [&'static str],
    },
    /// The folders of the entry of that name.
    Shares(&'static str),
    /// Not made for this OS, or no manifest folder known.
    Absent,
}

/// Where a browser reads manifest paths on Windows: the vendor keys under
/// `SOFTWARE\…\NativeMessagingHosts`, in the order it reads them.
#[derive(Debug, PartialEq, Eq)]
pub enum Windows {
    Keys(&'static [&'static str]),
    Shares(&'static str),
    Absent,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Detect {
    pub linux: &'static [&'static str],
    pub macos: &'static [&'static str],
    pub windows: &'static [&'static str],
}

mod chromium;
mod gecko;

/// Every browser of the table: the Chromium builds, then the Gecko ones.
pub fn browsers() -> impl Iterator<Item = &'static Entry> {
    chromium::CHROMIUM.iter().chain(gecko::GECKO)
}

/// The entry named `name` (or one of its aliases).
pub fn by_name(name: &str) -> Option<&'static Entry> {
    browsers().find(|e| e.name == name || e.aliases.contains(&name))
}

/// The entry `entry` reads its Linux or macOS folders from: itself, or the one it shares
/// them with.
pub fn unix_of(entry: &'static Entry, macos: bool) -> (&'static Entry, &'static Unix) {
    let own = if macos { &entry.macos } else { &entry.linux };
    match own {
        Unix::Shares(other) => {
            let other = by_name(other).expect("a shared entry exists");
            (other, if macos { &other.macos } else { &other.linux })
        }
        _ => (entry, own),
    }
}

/// The vendor keys `entry` reads on Windows, in order, and the entry they belong to.
pub fn windows_of(entry: &'static Entry) -> (&'static Entry, &'static [&'static str]) {
    match entry.windows {
        Windows::Keys(keys) => (entry, keys),
        Windows::Shares(other) => windows_of(by_name(other).expect("a shared entry exists")),
        Windows::Absent => (entry, &[]),
    }
}

/// A browser packaged as a Flatpak: its application id, and the browser inside.
#[derive(Debug, PartialEq, Eq)]
pub struct FlatpakApp {
    pub id: &'static str,
    /// The [`Entry`] whose Linux folders the sandbox holds (under `~/.var/app/ID`).
    pub browser: &'static str,
}

/// The Flatpaks of the browsers above, from Flathub.
pub static FLATPAKS: &[FlatpakApp] = &[
    FlatpakApp {
        id: "org.mozilla.firefox",
        browser: "firefox",
    },
    FlatpakApp {
        id: "org.mozilla.Thunderbird",
        browser: "thunderbird",
    },
    FlatpakApp {
        id: "io.gitlab.librewolf-community",
        browser: "librewolf",
    },
    FlatpakApp {
        id: "net.waterfox.waterfox",
        browser: "waterfox",
    },
    FlatpakApp {
        id: "one.ablaze.floorp",
        browser: "floorp",
    },
    FlatpakApp {
        id: "app.zen_browser.zen",
        browser: "zen",
    },
    FlatpakApp {
        id: "org.torproject.torbrowser-launcher",
        browser: "tor-browser",
    },
    FlatpakApp {
        id: "org.chromium.Chromium",
        browser: "chromium",
    },
    FlatpakApp {
        id: "io.github.ungoogled_software.ungoogled_chromium",
        browser: "ungoogled-chromium",
    },
    FlatpakApp {
        id: "com.google.Chrome",
        browser: "chrome",
    },
    FlatpakApp {
        id: "com.google.ChromeDev",
        browser: "chrome-dev",
    },
    FlatpakApp {
        id: "com.microsoft.Edge",
        browser: "edge",
    },
    FlatpakApp {
        id: "com.brave.Browser",
        browser: "brave",
    },
    FlatpakApp {
        id: "com.vivaldi.Vivaldi",
        browser: "vivaldi",
    },
    FlatpakApp {
        id: "com.opera.Opera",
        browser: "opera",
    },
];

/// A browser packaged as a snap.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapApp {
    pub name: &'static str,
    pub browser: &'static str,
    /// How it starts hosts, or why it cannot.
    pub support: SnapSupport,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SnapSupport {
    /// Through the WebExtensions portal of xdg-desktop-portal (Ubuntu's): the manifest is
    /// read outside the sandbox, from the browser's usual folders, and the portal starts
    /// the host once the user (or the permission store) allows it.
    Portal,
    /// Not at all: why.
    None(&'static str),
}

pub static SNAPS: &[SnapApp] = &[
    SnapApp {
        name: "firefox",
        browser: "firefox",
        support: SnapSupport::Portal,
    },
    SnapApp {
        name: "chromium",
        browser: "chromium",
        support: SnapSupport::None(
            "the Chromium snap cannot start native-messaging hosts: snapd gives it no \
             interface for them and it has no portal support (Launchpad bug 1741074); use \
             Chromium from your distribution's packages or its Flatpak \
             (--browser flatpak:org.chromium.Chromium)",
        ),
    },
    SnapApp {
        name: "brave",
        browser: "brave",
        support: SnapSupport::None(
            "the Brave snap cannot start native-messaging hosts (strict confinement, no \
             portal support); use Brave's .deb/.rpm or its Flatpak (--browser \
             flatpak:com.brave.Browser)",
        ),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_every_share_resolves() {
        let mut names: Vec<&str> = browsers()
            .flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied()))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name is used twice");
        for e in browsers() {
            for unix in [&e.linux, &e.macos] {
                if let Unix::Shares(other) = unix {
                    let other = by_name(other).unwrap();
                    assert!(
                        matches!(other.linux, Unix::Own { .. }),
                        "{} → {}",
                        e.name,
                        other.name
                    );
                    assert_eq!(other.family, e.family, "{}", e.name);
                }
            }
            assert!(
                !windows_of(e).1.is_empty() || e.windows == Windows::Absent,
                "{}",
                e.name
            );
            assert!(!e.source.is_empty());
        }
        for f in FLATPAKS {
            assert!(by_name(f.browser).is_some(), "{}", f.id);
        }
        for s in SNAPS {
            assert!(by_name(s.browser).is_some(), "{}", s.name);
        }
    }
}
