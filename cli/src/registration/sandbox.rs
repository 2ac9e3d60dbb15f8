//! Sandboxed browsers. A Flatpak browser reads manifests inside its own folder
//! (`~/.var/app/APP_ID`) and can start nothing outside the sandbox, so its manifest names
//! a wrapper that asks Flatpak to start the real host on the machine
//! (`flatpak-spawn --host`), which needs one permission: talking to
//! `org.freedesktop.Flatpak`. A snap Firefox asks the WebExtensions portal, which reads
//! the usual folders outside the sandbox and starts the host itself. Sandboxed browsers
//! that use xdg-native-messaging-proxy (`org.freedesktop.NativeMessagingProxy`) find
//! hosts through its fixed search list.

use std::path::{Path, PathBuf};

use nmframe::Browser;

use super::places::Places;

/// The file name of the wrapper `install` writes beside a Flatpak's manifest.
pub fn wrapper_name(name: &str) -> String {
    format!("{name}.nmframe-flatpak")
}

/// The wrapper's text: start `host` outside the sandbox, with the browser's arguments,
/// and end it when the browser's session bus goes (`--watch-bus`), so that a host is not
/// left behind by a browser that died.
pub fn wrapper_script(name: &str, app: &str, host: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         # Written by `nmframe manifest install --browser flatpak:{app}`: starts {name}'s host\n\
         # outside the sandbox. `nmframe manifest uninstall` removes it.\n\
         exec flatpak-spawn --host --watch-bus {} \"$@\"\n",
        sh_quote(host)
    )
}

/// The host a wrapper written by [`wrapper_script`] starts, if `script` is one.
pub fn wrapped_host(script: &str) -> Option<PathBuf> {
    let line = script
        .lines()
        .find(|l| l.starts_with("exec flatpak-spawn "))?;
    let quoted = line.split_once(" --watch-bus ")?.1;
    let quoted = quoted.strip_suffix(" \"$@\"")?;
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(PathBuf::from(inner.replace(r"'\''", "'")))
}

/// A path as one word of a POSIX shell command.
pub fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The permission a Flatpak browser needs to run `flatpak-spawn --host`.
pub const TALK_NAME: &str = "org.freedesktop.Flatpak";

/// The command that grants it.
pub fn override_command(app: &str) -> Vec<String> {
    [
        "flatpak",
        "override",
        "--user",
        "--talk-name=org.freedesktop.Flatpak",
        app,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Whether `app` may talk to `org.freedesktop.Flatpak`: granted by a user or system
/// override (`flatpak override` writes them as key files), or by the app itself.
/// Returns the file that grants it.
pub fn talk_granted(places: &Places, app: &str) -> Option<PathBuf> {
    let data = places
        .expand("$XDG_DATA_HOME/flatpak", None)
        .unwrap_or_default();
    let candidates = [
        data.join("overrides").join(app),
        data.join("overrides/global"),
        places.system("/var/lib/flatpak/overrides").join(app),
        places.system("/var/lib/flatpak/overrides/global"),
        places
            .system("/var/lib/flatpak/app")
            .join(app)
            .join("current/active/metadata"),
        data.join("app").join(app).join("current/active/metadata"),
    ];
    candidates
        .into_iter()
        .find(|file| std::fs::read_to_string(file).is_ok_and(|text| grants_talk(&text)))
}

/// Whether a Flatpak key file's `[Session Bus Policy]` lets the app talk to
/// `org.freedesktop.Flatpak`.
fn grants_talk(text: &str) -> bool {
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[Session Bus Policy]";
        } else if in_section
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == TALK_NAME
        {
            return matches!(value.trim(), "talk" | "own");
        }
    }
    false
}

/// How a snap Firefox gets leave to start host `name` from the WebExtensions portal: it
/// asks the user the first time; where no dialog can ask, the permission-store entry
/// this command writes answers for them.
pub fn portal_permission_command(name: &str, snap: &str) -> String {
    format!("flatpak permission-set webextensions {name} snap.{snap} yes")
}

/// The folders xdg-native-messaging-proxy searches, in its order (its
/// src/xnmp-impl.c, `ensure_manifest_search_paths`; `XNMP_HOST_LOCATIONS` replaces the
/// list). The build's own SYSCONFDIR and LIBDIR copies are the usual `/etc` and
/// `/usr/lib/<multiarch>`.
pub fn proxy_search(places: &Places, family: Browser) -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("XNMP_HOST_LOCATIONS") {
        return std::env::split_paths(&list).collect();
    }
    let config = places.expand("$XDG_CONFIG_HOME/", None).unwrap_or_default();
    match family {
        Browser::Firefox => vec![
            places.home.join(".mozilla/native-messaging-hosts"),
            config.join("mozilla/native-messaging-hosts"),
            places.system("/usr/lib/mozilla/native-messaging-hosts"),
            places.system("/usr/lib64/mozilla/native-messaging-hosts"),
            places.system(&format!(
                "/usr/lib/{}-linux-gnu/mozilla/native-messaging-hosts",
                std::env::consts::ARCH
            )),
        ],
        Browser::Chromium | Browser::Unknown => vec![
            config.join("google-chrome/NativeMessagingHosts"),
            config.join("chromium/NativeMessagingHosts"),
            places.system("/etc/opt/chrome/native-messaging-hosts"),
            places.system("/etc/chromium/native-messaging-hosts"),
        ],
    }
}

/// What xdg-native-messaging-proxy would make of host `name` for a browser of
/// `family`: the manifest it takes (the first in its list that parses and whose `name`,
/// `type` and absolute `path` are right), or why it takes none.
pub fn proxy_finds(places: &Places, family: Browser, name: &str) -> Result<PathBuf, String> {
    let search = proxy_search(places, family);
    let mut skipped = Vec::new();
    for dir in &search {
        let file = dir.join(format!("{name}.json"));
        let Ok(text) = std::fs::read(&file) else {
            continue;
        };
        let why = match serde_json::from_slice::<serde_json::Value>(&text) {
            Err(e) => Some(format!("not JSON ({e})")),
            Ok(m) if m["name"].as_str() != Some(name) => Some("its \"name\" differs".into()),
            Ok(m) if m["type"].as_str() != Some("stdio") => {
                Some("\"type\" is not \"stdio\"".into())
            }
            Ok(m) if !m["path"].as_str().is_some_and(|p| p.starts_with('/')) => {
                Some("\"path\" is not absolute".into())
            }
            Ok(_) => None,
        };
        match why {
            None => return Ok(file),
            Some(why) => skipped.push(format!("{} skipped: {why}", file.display())),
        }
    }
    let list: Vec<String> = search.iter().map(|d| d.display().to_string()).collect();
    let mut text = format!("it searches only {}", list.join(", "));
    for s in skipped {
        text.push_str("; ");
        text.push_str(&s);
    }
    Err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_names_its_host_back() {
        let host = Path::new("/opt/it's here/host");
        let script = wrapper_script("a.b", "org.mozilla.firefox", host);
        assert_eq!(wrapped_host(&script).unwrap(), host);
        assert!(wrapped_host("#!/bin/sh\nexec /bin/cat\n").is_none());
    }

    #[test]
    fn the_talk_permission_is_read_from_its_section() {
        assert!(grants_talk(
            "[Context]\nshared=network;\n\n[Session Bus Policy]\norg.freedesktop.Flatpak=talk\n"
        ));
        assert!(!grants_talk(
            "[System Bus Policy]\norg.freedesktop.Flatpak=talk\n"
        ));
        assert!(!grants_talk(
            "[Session Bus Policy]\norg.freedesktop.Flatpak=none\n"
        ));
    }
}
