//! Registration: where each browser looks for host manifests (folders, registry keys),
//! and the rules it applies to them. `manifest`, `run --manifest` and `tap install` share
//! it.

use std::path::{Path, PathBuf};

use nmframe::simd_json::prelude::*;
use nmframe::{Browser, JsonDecoder};
use serde::Serialize;

pub(crate) mod registry;

/// The browsers named on the command line; none named means every one (`default_all`)
/// or Chromium alone.
pub(crate) fn targets(browser: &[Target], default_all: bool) -> Vec<Target> {
    if !browser.is_empty() {
        browser.to_vec()
    } else if default_all {
        Target::ALL.to_vec()
    } else {
        vec![Target::Chromium]
    }
}

/// The user's home folder, where the per-user manifest folders are.
pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A browser product, which reads host manifests from directories of its own and
/// follows the rules of its family ([`Browser`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Chrome,
    Chromium,
    Edge,
    Brave,
    Firefox,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Chrome,
        Target::Chromium,
        Target::Edge,
        Target::Brave,
        Target::Firefox,
    ];

    pub fn browser(self) -> Browser {
        match self {
            Target::Chrome | Target::Chromium | Target::Edge | Target::Brave => Browser::Chromium,
            Target::Firefox => Browser::Firefox,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Chrome => "chrome",
            Target::Chromium => "chromium",
            Target::Edge => "edge",
            Target::Brave => "brave",
            Target::Firefox => "firefox",
        }
    }
}

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

/// Where `target` reads per-user manifests (`None` on Windows: the registry points to
/// them). `user_data_dir` is Chromium's `--user-data-dir`, whose `NativeMessagingHosts`
/// replaces the default.
pub fn user_dir(
    target: Target,
    os: Os,
    home: &Path,
    user_data_dir: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(dir) = user_data_dir.filter(|_| target.browser() != Browser::Firefox) {
        return Some(dir.join("NativeMessagingHosts"));
    }
    let rel = match (os, target) {
        (Os::Windows, _) => return None,
        (Os::Linux, Target::Chrome) => ".config/google-chrome/NativeMessagingHosts",
        (Os::Linux, Target::Chromium) => ".config/chromium/NativeMessagingHosts",
        (Os::Linux, Target::Edge) => ".config/microsoft-edge/NativeMessagingHosts",
        (Os::Linux, Target::Brave) => ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        (Os::Linux, Target::Firefox) => ".mozilla/native-messaging-hosts",
        (Os::Macos, Target::Chrome) => {
            "Library/Application Support/Google/Chrome/NativeMessagingHosts"
        }
        (Os::Macos, Target::Chromium) => {
            "Library/Application Support/Chromium/NativeMessagingHosts"
        }
        (Os::Macos, Target::Edge) => {
            "Library/Application Support/Microsoft Edge/NativeMessagingHosts"
        }
        (Os::Macos, Target::Brave) => {
            "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts"
        }
        (Os::Macos, Target::Firefox) => "Library/Application Support/Mozilla/NativeMessagingHosts",
    };
    Some(home.join(rel))
}

/// Where `target` reads system-wide manifests, where that is documented.
pub fn system_dir(target: Target, os: Os) -> Option<PathBuf> {
    let dir = match (os, target) {
        (Os::Linux, Target::Chrome) => "/etc/opt/chrome/native-messaging-hosts",
        (Os::Linux, Target::Chromium) => "/etc/chromium/native-messaging-hosts",
        (Os::Linux, Target::Edge) => "/etc/opt/edge/native-messaging-hosts",
        (Os::Linux, Target::Firefox) => "/usr/lib/mozilla/native-messaging-hosts",
        (Os::Macos, Target::Chrome) => "/Library/Google/Chrome/NativeMessagingHosts",
        (Os::Macos, Target::Chromium) => {
            "/Library/Application Support/Chromium/NativeMessagingHosts"
        }
        (Os::Macos, Target::Edge) => "/Library/Microsoft/Edge/NativeMessagingHosts",
        (Os::Macos, Target::Firefox) => "/Library/Application Support/Mozilla/NativeMessagingHosts",
        _ => return None,
    };
    Some(PathBuf::from(dir))
}

/// The registry key `install` writes on Windows: the browser's own vendor key, in the
/// user's hive or (`system`) the machine's.
pub fn registry_key(target: Target, name: &str, system: bool) -> String {
    let hive = if system {
        r"HKLM\SOFTWARE"
    } else {
        r"HKCU\SOFTWARE"
    };
    format!(
        r"{hive}\{}\NativeMessagingHosts\{name}",
        registry_vendors(target)[0]
    )
}

/// The vendor keys `target` reads, its own first, then those it falls back to: Chromium
/// builds read Chromium's key and then Google Chrome's, Edge reads its own, Chromium's
/// and Chrome's (Microsoft's documentation), Brave is installed under Chrome's.
fn registry_vendors(target: Target) -> &'static [&'static str] {
    match target {
        Target::Chrome | Target::Brave => &[r"Google\Chrome"],
        Target::Chromium => &["Chromium", r"Google\Chrome"],
        Target::Edge => &[r"Microsoft\Edge", "Chromium", r"Google\Chrome"],
        Target::Firefox => &["Mozilla"],
    }
}

/// Every registry key `target` may read a host's manifest path from, in the order it
/// reads them: the user's hive, then the machine's 32-bit view (`WOW6432Node`), then its
/// 64-bit view, each with the vendor keys of [`registry_vendors`]. The first key that
/// exists is the one used: a manifest it names that is missing or broken is not passed
/// over for a later key.
pub fn registry_search(target: Target, name: &str) -> Vec<String> {
    let hives = [
        r"HKCU\SOFTWARE",
        r"HKLM\SOFTWARE\WOW6432Node",
        r"HKLM\SOFTWARE",
    ];
    hives
        .iter()
        .flat_map(|hive| {
            registry_vendors(target)
                .iter()
                .map(move |vendor| format!(r"{hive}\{vendor}\NativeMessagingHosts\{name}"))
        })
        .collect()
}

/// A host manifest as written by `install`.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_extensions: Option<Vec<String>>,
}

/// The fields of a manifest read from a file, as far as they have the right type.
#[derive(Debug, Default)]
pub struct Fields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub path: Option<String>,
    pub kind: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub allowed_extensions: Option<Vec<String>>,
}

impl From<&Manifest> for Fields {
    fn from(m: &Manifest) -> Fields {
        Fields {
            name: Some(m.name.clone()),
            description: Some(m.description.clone()),
            path: Some(m.path.clone()),
            kind: Some(m.kind.clone()),
            allowed_origins: m.allowed_origins.clone(),
            allowed_extensions: m.allowed_extensions.clone(),
        }
    }
}

/// One thing wrong with a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// An error makes the browser ignore the manifest or refuse to start the host; a
    /// warning is likely a mistake.
    pub fatal: bool,
    pub text: String,
}

pub(crate) fn error(text: impl Into<String>) -> Problem {
    Problem {
        fatal: true,
        text: text.into(),
    }
}

pub(crate) fn warning(text: impl Into<String>) -> Problem {
    Problem {
        fatal: false,
        text: text.into(),
    }
}

/// Reads a manifest file into its fields; problems with the JSON itself are fatal.
pub fn read(path: &Path) -> Result<(Fields, Vec<Problem>), String> {
    let mut bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut json = JsonDecoder::new();
    let doc = json
        .parse(&mut bytes)
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let root = doc.value();
    let Some(object) = root.as_object() else {
        return Err(format!("{} holds JSON, but not an object", path.display()));
    };
    let mut problems = Vec::new();
    let mut string = |key: &str| -> Option<String> {
        let v = object.get(key)?;
        match v.into_string() {
            Some(s) => Some(s.to_owned()),
            None => {
                problems.push(error(format!("\"{key}\" must be a string")));
                None
            }
        }
    };
    let mut fields = Fields {
        name: string("name"),
        description: string("description"),
        path: string("path"),
        kind: string("type"),
        ..Fields::default()
    };
    for (key, slot) in [
        ("allowed_origins", &mut fields.allowed_origins),
        ("allowed_extensions", &mut fields.allowed_extensions),
    ] {
        let Some(v) = object.get(key) else { continue };
        match v.as_array() {
            Some(items) => {
                let strings: Vec<String> = items
                    .iter()
                    .filter_map(|i| i.into_string().map(str::to_owned))
                    .collect();
                if strings.len() != items.len() {
                    problems.push(error(format!("every entry of \"{key}\" must be a string")));
                }
                *slot = Some(strings);
            }
            None => problems.push(error(format!("\"{key}\" must be an array of strings"))),
        }
    }
    for key in object.keys() {
        if ![
            "name",
            "description",
            "path",
            "type",
            "allowed_origins",
            "allowed_extensions",
        ]
        .contains(&key)
        {
            problems.push(warning(format!(
                "unknown key \"{key}\" is ignored by the browsers"
            )));
        }
    }
    Ok((fields, problems))
}

/// The browsers' rules, applied to a manifest meant for `target` on `os`. `manifest` is
/// the manifest's own path, when it has one.
pub fn validate(fields: &Fields, target: Target, os: Os, manifest: Option<&Path>) -> Vec<Problem> {
    let mut problems = Vec::new();
    // On Windows the registry names the file, whatever its name.
    let file_name = manifest
        .filter(|_| os != Os::Windows)
        .and_then(|m| m.file_name())
        .and_then(|f| f.to_str());
    match fields.name.as_deref() {
        None => problems.push(error("\"name\" is missing")),
        Some(name) => {
            if !valid_name(name, target) {
                let allowed = if target.browser() == Browser::Firefox {
                    "letters, digits and underscores, in dot-separated parts"
                } else {
                    "lowercase letters, digits and underscores, in dot-separated parts"
                };
                problems.push(error(format!(
                    "\"name\" {name:?} is not allowed: {allowed} (no leading, trailing or double dot)"
                )));
            }
            if let Some(file) = file_name
                && file != format!("{name}.json")
            {
                problems.push(error(format!(
                    "the file is named {file:?} but the browser looks for \"{name}.json\""
                )));
            }
        }
    }
    match fields.description.as_deref() {
        None => problems.push(error("\"description\" is missing")),
        Some(d) if d.trim().is_empty() => problems.push(error("\"description\" is empty")),
        Some(_) => {}
    }
    match fields.kind.as_deref() {
        Some("stdio") => {}
        Some(other) => problems.push(error(format!(
            "\"type\" is {other:?}; it must be \"stdio\""
        ))),
        None => problems.push(error("\"type\" is missing; it must be \"stdio\"")),
    }
    match fields.path.as_deref() {
        None => problems.push(error("\"path\" is missing")),
        Some(p) if os != Os::Windows && !p.starts_with('/') => {
            problems.push(error(format!(
                "\"path\" {p:?} must be absolute on Linux and macOS"
            )));
        }
        // Another OS's path cannot be looked at from here.
        Some(p) if os == Os::current() => {
            // A relative path (Windows) is taken from the manifest's folder.
            let host = crate::launch::resolve_host(Path::new(p), manifest.and_then(Path::parent));
            problems.extend(check_executable(&host))
        }
        Some(_) => {}
    }
    if target.browser() == Browser::Firefox {
        match &fields.allowed_extensions {
            None => problems.push(error(
                "\"allowed_extensions\" is missing: Firefox needs the add-on ids",
            )),
            Some(ids) if ids.is_empty() => problems.push(error("\"allowed_extensions\" is empty")),
            Some(_) => {}
        }
        if fields.allowed_origins.is_some() {
            problems.push(warning(
                "\"allowed_origins\" is for Chromium; Firefox reads \"allowed_extensions\"",
            ));
        }
    } else {
        match &fields.allowed_origins {
            None => problems.push(error(
                "\"allowed_origins\" is missing: Chromium needs chrome-extension://<id>/ origins",
            )),
            Some(origins) if origins.is_empty() => {
                problems.push(error("\"allowed_origins\" is empty"))
            }
            Some(origins) => {
                for origin in origins {
                    problems.extend(check_origin(origin));
                }
            }
        }
    }
    problems
}

fn valid_name(name: &str, target: Target) -> bool {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_digit()
                    || b == b'_'
                    || b.is_ascii_lowercase()
                    || (target.browser() == Browser::Firefox && b.is_ascii_uppercase())
            })
    };
    name.split('.').all(part_ok)
}

fn check_origin(origin: &str) -> Vec<Problem> {
    let Some(rest) = origin.strip_prefix("chrome-extension://") else {
        return vec![error(format!(
            "origin {origin:?} must start with \"chrome-extension://\""
        ))];
    };
    if origin.contains('*') {
        return vec![error(format!(
            "origin {origin:?}: wildcards are not allowed"
        ))];
    }
    let Some(id) = rest.strip_suffix('/') else {
        return vec![error(format!(
            "origin {origin:?} lacks the trailing \"/\": Chromium matches \"chrome-extension://{rest}/\" exactly"
        ))];
    };
    if id.len() != 32 || !id.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
        return vec![warning(format!(
            "origin {origin:?}: an extension id is 32 letters from a to p"
        ))];
    }
    Vec::new()
}

fn check_executable(path: &Path) -> Vec<Problem> {
    match std::fs::metadata(path) {
        Err(e) => vec![error(format!("\"path\" {}: {e}", path.display()))],
        Ok(meta) if !meta.is_file() => {
            vec![error(format!("\"path\" {} is not a file", path.display()))]
        }
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o111 == 0 {
                    return vec![error(format!(
                        "\"path\" {} is not executable (chmod +x it)",
                        path.display()
                    ))];
                }
            }
            let _ = meta;
            Vec::new()
        }
    }
}

/// A manifest a browser would read, and the registry key that names it (Windows).
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub key: Option<String>,
}

/// The manifest for `name` that `target` would read, searching as the browser does:
/// the user directory, then the system one; on Windows the keys of [`registry_search`]
/// (only where the registry is at hand), whose first match is taken even when the file
/// it names is missing, as the browser takes it.
pub fn find(
    target: Target,
    os: Os,
    home: &Path,
    user_data_dir: Option<&Path>,
    name: &str,
) -> Option<Found> {
    if os == Os::Windows {
        if !cfg!(windows) {
            return None;
        }
        return registry_search(target, name).into_iter().find_map(|key| {
            let path = crate::registration::registry::get(&key)?;
            Some(Found {
                path: PathBuf::from(path),
                key: Some(key),
            })
        });
    }
    let file = format!("{name}.json");
    [
        user_dir(target, os, home, user_data_dir),
        system_dir(target, os),
    ]
    .into_iter()
    .flatten()
    .map(|dir| dir.join(&file))
    .find(|p| p.is_file())
    .map(|path| Found { path, key: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_browser_rule() {
        for ok in ["com.example.host", "a", "a_b.c9"] {
            assert!(valid_name(ok, Target::Chrome), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "A.b", "a-b", "a b"] {
            assert!(!valid_name(bad, Target::Chrome), "{bad}");
        }
        assert!(valid_name("Com.Example", Target::Firefox));
    }

    #[test]
    fn origins_need_the_scheme_and_the_trailing_slash() {
        let id = "knldjmfmopnpolahpmmgbagdohdnhkik";
        assert!(check_origin(&format!("chrome-extension://{id}/")).is_empty());
        assert!(
            check_origin(&format!("chrome-extension://{id}"))[0]
                .text
                .contains("trailing")
        );
        assert!(check_origin("https://example.org/")[0].fatal);
        assert!(check_origin("chrome-extension://*/")[0].fatal);
        assert!(!check_origin("chrome-extension://short/")[0].fatal);
    }

    #[test]
    fn registry_keys() {
        assert_eq!(
            registry_key(Target::Brave, "a.b", false),
            r"HKCU\SOFTWARE\Google\Chrome\NativeMessagingHosts\a.b"
        );
        assert_eq!(
            registry_key(Target::Firefox, "a", true),
            r"HKLM\SOFTWARE\Mozilla\NativeMessagingHosts\a"
        );
        assert_eq!(
            registry_key(Target::Edge, "a", false),
            r"HKCU\SOFTWARE\Microsoft\Edge\NativeMessagingHosts\a"
        );
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
            keys(Target::Edge),
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
        // Firefox: the user's key, then the machine's 32-bit view, then its 64-bit one.
        assert_eq!(
            keys(Target::Firefox),
            [
                r"HKCU\SOFTWARE\Mozilla",
                r"HKLM\SOFTWARE\WOW6432Node\Mozilla",
                r"HKLM\SOFTWARE\Mozilla",
            ]
        );
        assert_eq!(
            keys(Target::Chromium)[..2],
            [r"HKCU\SOFTWARE\Chromium", r"HKCU\SOFTWARE\Google\Chrome"]
        );
        assert_eq!(keys(Target::Chrome).len(), 3);
    }
}
