//! Where a browser looks: `--browser` names resolved against the table, and the folders
//! and registry keys each target reads on each OS, for this user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nmframe::Browser;

use super::table::{self, Entry, FLATPAKS, FlatpakApp, SNAPS, SnapApp, SnapSupport, Unix};

/// The operating system whose conventions apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }
}

/// How the browser is packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sandbox {
    None,
    Flatpak(&'static FlatpakApp),
    Snap(&'static SnapApp),
}

/// One browser as `--browser` names it: a table entry, perhaps inside a sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub entry: &'static Entry,
    pub sandbox: Sandbox,
}

/// What one `--browser` names: a target, or `all` (every installed one).
#[derive(Clone, Copy, Debug)]
pub enum Pick {
    All,
    One(Target),
}

impl Target {
    /// The table entry called `name`, unsandboxed.
    pub fn named(name: &str) -> Target {
        Target {
            entry: table::by_name(name).expect("a browser of the table"),
            sandbox: Sandbox::None,
        }
    }

    pub fn browser(self) -> Browser {
        self.entry.family
    }

    /// The name `--browser` takes for it.
    pub fn name(self) -> String {
        match self.sandbox {
            Sandbox::None => self.entry.name.to_owned(),
            Sandbox::Flatpak(app) => format!("flatpak:{}", app.id),
            Sandbox::Snap(snap) => format!("snap:{}", snap.name),
        }
    }

    /// `--browser`'s parser: a name of the table (or an alias), `flatpak:APP_ID`,
    /// `snap:NAME`, or `all`.
    pub fn parse(text: &str) -> Result<Pick, String> {
        if text == "all" {
            return Ok(Pick::All);
        }
        if let Some(id) = text.strip_prefix("flatpak:") {
            let app = FLATPAKS.iter().find(|a| a.id == id).ok_or_else(|| {
                let known: Vec<&str> = FLATPAKS.iter().map(|a| a.id).collect();
                format!(
                    "no browser Flatpak {id:?} in nmframe's table; known: {}",
                    known.join(", ")
                )
            })?;
            return Ok(Pick::One(Target {
                entry: table::by_name(app.browser).expect("a browser of the table"),
                sandbox: Sandbox::Flatpak(app),
            }));
        }
        if let Some(name) = text.strip_prefix("snap:") {
            let snap = SNAPS.iter().find(|s| s.name == name).ok_or_else(|| {
                let known: Vec<&str> = SNAPS.iter().map(|s| s.name).collect();
                format!(
                    "no browser snap {name:?} in nmframe's table; known: {}",
                    known.join(", ")
                )
            })?;
            return Ok(Pick::One(Target {
                entry: table::by_name(snap.browser).expect("a browser of the table"),
                sandbox: Sandbox::Snap(snap),
            }));
        }
        match table::by_name(text) {
            Some(entry) => Ok(Pick::One(Target {
                entry,
                sandbox: Sandbox::None,
            })),
            None => {
                let known: Vec<&str> = table::browsers().map(|e| e.name).collect();
                Err(format!(
                    "unknown browser {text:?}; known: {}, flatpak:APP_ID, snap:NAME, all \
                     (`nmframe manifest browsers` shows where each looks)",
                    known.join(", ")
                ))
            }
        }
    }
}

/// The user's home folder, where the per-user manifest folders are.
pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The places a command looks in: the OS whose conventions apply, this user's home,
/// Chromium's `--user-data-dir`, and the folder that stands for `/` (a packager's staging
/// folder, a mounted image; `/` itself by default).
#[derive(Debug, Clone)]
pub struct Places {
    pub os: Os,
    pub home: PathBuf,
    pub user_data_dir: Option<PathBuf>,
    pub root: Option<PathBuf>,
}

impl Places {
    pub fn new(os: Option<Os>, user_data_dir: Option<&Path>, root: Option<&Path>) -> Places {
        Places {
            os: os.unwrap_or_else(Os::current),
            home: home(),
            user_data_dir: user_data_dir.map(Path::to_path_buf),
            root: root.map(Path::to_path_buf),
        }
    }

    /// A system path (`/etc/…`) as seen under `root`.
    pub fn system(&self, path: &str) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }

    /// A table path with its prefix expanded; inside a Flatpak's own folder when `app` is
    /// given (its `~` is persisted to `~/.var/app/ID`, its XDG folders live there).
    pub fn expand(&self, path: &str, app: Option<&str>) -> Option<PathBuf> {
        let app_root = app.map(|id| self.home.join(".var/app").join(id));
        let xdg = |var: &str, fallback: &str, in_app: &str| -> PathBuf {
            if let Some(root) = &app_root {
                return root.join(in_app);
            }
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| self.home.join(fallback))
        };
        if let Some(rest) = path.strip_prefix("~/") {
            Some(app_root.as_ref().unwrap_or(&self.home).join(rest))
        } else if let Some(rest) = path.strip_prefix("$XDG_CONFIG_HOME/") {
            Some(xdg("XDG_CONFIG_HOME", ".config", "config").join(rest))
        } else if let Some(rest) = path.strip_prefix("$XDG_DATA_HOME/") {
            Some(xdg("XDG_DATA_HOME", ".local/share", "data").join(rest))
        } else if let Some(rest) = path.strip_prefix('%') {
            let (var, rest) = rest.split_once("%\\")?;
            let base = std::env::var_os(var)?;
            Some(PathBuf::from(base).join(rest))
        } else if path.starts_with('/') {
            Some(self.system(path))
        } else {
            None
        }
    }

    /// Where `target` reads per-user manifests (`None` on Windows: the registry points to
    /// them; `None` where it reads none). Chromium's `--user-data-dir` replaces the
    /// default with its own `NativeMessagingHosts`.
    pub fn user_dir(&self, target: Target) -> Option<PathBuf> {
        if let Some(dir) = self
            .user_data_dir
            .as_ref()
            .filter(|_| target.browser() != Browser::Firefox && target.sandbox == Sandbox::None)
        {
            return Some(dir.join("NativeMessagingHosts"));
        }
        if self.os == Os::Windows {
            return None;
        }
        let app = match target.sandbox {
            Sandbox::Flatpak(app) if self.os == Os::Linux => Some(app.id),
            Sandbox::Flatpak(_) => return None,
            Sandbox::Snap(snap) if matches!(snap.support, SnapSupport::None(_)) => return None,
            Sandbox::Snap(_) | Sandbox::None => None,
        };
        match table::unix_of(target.entry, self.os == Os::Macos).1 {
            Unix::Own { user, .. } => self.expand(user, app),
            Unix::Shares(_) | Unix::Absent => None,
        }
    }

    /// Where `target` reads system-wide manifests, in its order. A Flatpak sees its
    /// runtime's `/usr` and `/etc`, not the machine's: none.
    pub fn system_dirs(&self, target: Target) -> Vec<PathBuf> {
        if self.os == Os::Windows || matches!(target.sandbox, Sandbox::Flatpak(_)) {
            return Vec::new();
        }
        match table::unix_of(target.entry, self.os == Os::Macos).1 {
            Unix::Own { system, .. } => system.iter().map(|s| self.system(s)).collect(),
            Unix::Shares(_) | Unix::Absent => Vec::new(),
        }
    }

    /// Whether `target` seems installed here: a command on PATH, an application bundle,
    /// its profile folder, or (sandboxed) the Flatpak or snap.
    pub fn installed(&self, target: Target) -> bool {
        match target.sandbox {
            Sandbox::Flatpak(app) => return flatpak_installed(self, app.id),
            Sandbox::Snap(snap) => return snap_installed(self, snap.name),
            Sandbox::None => {}
        }
        let e = target.entry;
        let detect = match self.os {
            Os::Linux => e.detect.linux,
            Os::Macos => e.detect.macos,
            Os::Windows => e.detect.windows,
        };
        let found = detect.iter().any(|d| {
            if d.contains('/') || d.contains('\\') {
                self.expand(d, None).is_some_and(|p| p.exists())
            } else {
                self.os == Os::current() && on_path(d)
            }
        });
        // A profile of its own (not one it shares) says it has run here.
        found
            || self.os != Os::Windows
                && matches!(
                    if self.os == Os::Macos {
                        &e.macos
                    } else {
                        &e.linux
                    },
                    Unix::Own { .. }
                )
                && self
                    .user_dir(target)
                    .and_then(|d| d.parent().map(Path::to_path_buf))
                    .is_some_and(|profile| profile.is_dir())
    }

    /// The targets a command acts on: those named; none named means every browser of
    /// the table and every installed Flatpak (`every`), or Chromium alone; `all` means
    /// every installed one.
    pub fn targets(&self, picks: &[Pick], every: bool) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        let mut push = |t: Target| {
            if !out.contains(&t) {
                out.push(t);
            }
        };
        if picks.is_empty() {
            if !every {
                push(Target::named("chromium"));
            } else {
                for t in self.everything() {
                    if t.sandbox == Sandbox::None || self.installed(t) {
                        push(t);
                    }
                }
            }
        }
        for pick in picks {
            match pick {
                Pick::One(t) => push(*t),
                Pick::All => {
                    for t in self.everything() {
                        if self.installed(t) {
                            push(t);
                        }
                    }
                }
            }
        }
        out
    }

    /// Every target of the table: each browser, each Flatpak, each snap.
    pub fn everything(&self) -> Vec<Target> {
        let plain = table::browsers().map(|entry| Target {
            entry,
            sandbox: Sandbox::None,
        });
        let flatpaks = FLATPAKS.iter().map(|app| Target {
            entry: table::by_name(app.browser).expect("a browser of the table"),
            sandbox: Sandbox::Flatpak(app),
        });
        let snaps = SNAPS.iter().map(|snap| Target {
            entry: table::by_name(snap.browser).expect("a browser of the table"),
            sandbox: Sandbox::Snap(snap),
        });
        if self.os == Os::Linux {
            plain.chain(flatpaks).chain(snaps).collect()
        } else {
            plain.collect()
        }
    }
}

/// Whether the Flatpak `app` is installed: `flatpak list` says so, or (without the
/// `flatpak` command) its folder under `~/.var/app` exists.
pub fn flatpak_installed(places: &Places, app: &str) -> bool {
    // Asked once per run: a command looks at every Flatpak of the table.
    static LIST: OnceLock<Option<Vec<String>>> = OnceLock::new();
    let list = LIST.get_or_init(|| listed("flatpak", &["list", "--app", "--columns=application"]));
    if let Some(list) = list {
        return list.iter().any(|line| line.trim() == app);
    }
    places.home.join(".var/app").join(app).is_dir()
}

/// Whether the snap `name` is installed: `snap list` says so, or `/snap/NAME` exists.
pub fn snap_installed(places: &Places, name: &str) -> bool {
    static LIST: OnceLock<Option<Vec<String>>> = OnceLock::new();
    if let Some(list) = LIST.get_or_init(|| listed("snap", &["list"])) {
        return list
            .iter()
            .skip(1)
            .any(|line| line.split_whitespace().next() == Some(name));
    }
    places.system("/snap").join(name).is_dir()
}

fn listed(command: &str, args: &[&str]) -> Option<Vec<String>> {
    if !on_path(command) {
        return None;
    }
    let out = Command::new(command).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether `command` is a file on PATH.
pub(crate) fn on_path(command: &str) -> bool {
    which(command).is_some()
}

/// `command`'s path on PATH.
pub(crate) fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
}

/// The registry key `install` writes on Windows: the browser's own vendor key, in the
/// user's hive or (`system`) the machine's. `None` for a browser not known on Windows.
pub fn registry_key(target: Target, name: &str, system: bool) -> Option<String> {
    let hive = if system {
        r"HKLM\SOFTWARE"
    } else {
        r"HKCU\SOFTWARE"
    };
    let vendor = table::windows_of(target.entry).1.first()?;
    Some(format!(r"{hive}\{vendor}\NativeMessagingHosts\{name}"))
}

/// Every registry key `target` may read a host's manifest path from, in the order it
/// reads them: the user's hive, then the machine's 32-bit view (`WOW6432Node`), then its
/// 64-bit view, each with the vendor keys of the table. The first key that exists is the
/// one used: a manifest it names that is missing or broken is not passed over for a
/// later key.
pub fn registry_search(target: Target, name: &str) -> Vec<String> {
    let hives = [
        r"HKCU\SOFTWARE",
        r"HKLM\SOFTWARE\WOW6432Node",
        r"HKLM\SOFTWARE",
    ];
    let vendors = table::windows_of(target.entry).1;
    hives
        .iter()
        .flat_map(|hive| {
            vendors
                .iter()
                .map(move |vendor| format!(r"{hive}\{vendor}\NativeMessagingHosts\{name}"))
        })
        .collect()
}

/// A manifest a browser would read, and the registry key that names it (Windows).
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub key: Option<String>,
}

impl Places {
    /// The manifest for `name` that `target` would read, searching as the browser does:
    /// the user folder, then the system ones; on Windows the keys of
    /// [`registry_search`] (only where the registry is at hand), whose first match is
    /// taken even when the file it names is missing, as the browser takes it.
    pub fn find(&self, target: Target, name: &str) -> Option<Found> {
        if self.os == Os::Windows {
            if !cfg!(windows) {
                return None;
            }
            return registry_search(target, name).into_iter().find_map(|key| {
                let path = super::registry::get(&key)?;
                Some(Found {
                    path: PathBuf::from(path),
                    key: Some(key),
                })
            });
        }
        let file = format!("{name}.json");
        self.user_dir(target)
            .into_iter()
            .chain(self.system_dirs(target))
            .map(|dir| dir.join(&file))
            .find(|p| p.is_file())
            .map(|path| Found { path, key: None })
    }

    /// Every folder `target` reads, user first.
    pub fn dirs(&self, target: Target) -> Vec<PathBuf> {
        self.user_dir(target)
            .into_iter()
            .chain(self.system_dirs(target))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str) -> Target {
        match Target::parse(name).unwrap() {
            Pick::One(t) => t,
            Pick::All => panic!("all"),
        }
    }

    fn places(os: Os) -> Places {
        Places {
            os,
            home: PathBuf::from("/h"),
            user_data_dir: None,
            root: None,
        }
    }

    #[test]
    fn registry_keys() {
        assert_eq!(
            registry_key(one("brave"), "a.b", false).unwrap(),
            r"HKCU\SOFTWARE\Google\Chrome\NativeMessagingHosts\a.b"
        );
        assert_eq!(
            registry_key(one("firefox"), "a", true).unwrap(),
            r"HKLM\SOFTWARE\Mozilla\NativeMessagingHosts\a"
        );
        assert_eq!(
            registry_key(one("edge-beta"), "a", false).unwrap(),
            r"HKCU\SOFTWARE\Microsoft\Edge\NativeMessagingHosts\a"
        );
        assert_eq!(
            registry_key(one("librewolf"), "a", false).unwrap(),
            r"HKCU\SOFTWARE\Mozilla\NativeMessagingHosts\a"
        );
        assert!(registry_key(one("arc"), "a", false).is_none());
    }

    #[test]
    fn registry_search_orders() {
        let keys = |target| -> Vec<String> {
            registry_search(target, "n")
                .into_iter()
                .map(|k| k.replace(r"\NativeMessagingHosts\n", ""))
                .collect()
        };
        // Microsoft's documented order for Edge.
        assert_eq!(
            keys(one("edge")),
            [
                r"HKCU\SOFTWARE\Microsoft\Edge",
                r"HKCU\SOFTWARE\Chromium",
                r"HKCU\SOFTWARE\Google\Chrome",
                r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Edge",
                r"HKLM\SOFTWARE\WOW6432Node\Chromium",
                r"HKLM\SOFTWARE\WOW6432Node\Google\Chrome",
                r"HKLM\SOFTWARE\Microsoft\Edge",
                r"HKLM\SOFTWARE\Chromium",
                r"HKLM\SOFTWARE\Google\Chrome",
            ]
        );
        // Gecko (NativeManifests.sys.mjs): the user's key, then the machine's 32-bit
        // view, then its 64-bit one.
        assert_eq!(
            keys(one("firefox")),
            [
                r"HKCU\SOFTWARE\Mozilla",
                r"HKLM\SOFTWARE\WOW6432Node\Mozilla",
                r"HKLM\SOFTWARE\Mozilla",
            ]
        );
        assert_eq!(keys(one("thunderbird")), keys(one("firefox")));
        assert_eq!(
            keys(one("chromium"))[..2],
            [r"HKCU\SOFTWARE\Chromium", r"HKCU\SOFTWARE\Google\Chrome"]
        );
        assert_eq!(keys(one("chrome")).len(), 3);
    }

    #[test]
    fn folders_follow_the_table_and_the_sandbox() {
        let linux = places(Os::Linux);
        let user = |name: &str| linux.user_dir(one(name)).map(|p| p.display().to_string());
        if std::env::var_os("XDG_CONFIG_HOME").is_none() {
            assert_eq!(
                user("chrome-beta").unwrap(),
                "/h/.config/google-chrome-beta/NativeMessagingHosts"
            );
            assert_eq!(
                user("flatpak:org.chromium.Chromium").unwrap(),
                "/h/.var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts"
            );
        }
        assert_eq!(user("zen"), user("firefox"));
        assert_eq!(
            user("flatpak:org.mozilla.firefox").unwrap(),
            "/h/.var/app/org.mozilla.firefox/.mozilla/native-messaging-hosts"
        );
        assert_eq!(user("snap:firefox"), user("firefox"));
        assert_eq!(user("snap:chromium"), None);
        assert!(
            linux
                .system_dirs(one("flatpak:org.mozilla.firefox"))
                .is_empty()
        );
        assert_eq!(
            places(Os::Macos).user_dir(one("arc")).unwrap(),
            Path::new("/h/Library/Application Support/Arc/User Data/NativeMessagingHosts")
        );
        assert_eq!(linux.user_dir(one("arc")), None);
        let rooted = Places {
            root: Some(PathBuf::from("/stage")),
            ..places(Os::Linux)
        };
        assert_eq!(
            rooted.system_dirs(one("chrome-dev")),
            [PathBuf::from(
                "/stage/etc/opt/chrome/native-messaging-hosts"
            )]
        );
        assert!(Target::parse("flatpak:org.example.Nope").is_err());
        assert!(
            Target::parse("netscape")
                .unwrap_err()
                .contains("known: chrome")
        );
    }
}
