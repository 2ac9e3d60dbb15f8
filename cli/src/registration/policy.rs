//! Enterprise policies that decide whether a Chromium build starts a host at all:
//! `NativeMessagingUserLevelHosts` (false: manifests in the user's folders are ignored),
//! `NativeMessagingBlocklist` (names, or `*` for every host) and
//! `NativeMessagingAllowlist` (names let through a blocklist), with their older names
//! `…Blacklist` / `…Whitelist`. Chrome reads them on Linux from the JSON files of
//! `<policies>/managed` and `<policies>/recommended` (managed wins), on Windows from
//! `HKLM` and `HKCU\SOFTWARE\Policies\<vendor>` (chromeenterprise.google/policies).

use std::path::PathBuf;

use super::places::{Os, Places, Target};

/// The native-messaging policies in force for one browser, and where each was set.
#[derive(Debug, Default)]
pub struct Policies {
    pub user_level_hosts: Option<(bool, String)>,
    pub blocklist: Option<(Vec<String>, String)>,
    pub allowlist: Option<(Vec<String>, String)>,
}

impl Policies {
    /// Why the browser will not start host `name` found at a manifest in the user's
    /// folder (`user_level`), with the fix; `None` when the policies let it.
    pub fn refuses(&self, name: &str, user_level: bool) -> Option<String> {
        if user_level && let Some((false, origin)) = &self.user_level_hosts {
            return Some(format!(
                "policy NativeMessagingUserLevelHosts is false ({origin}): the browser ignores \
                 manifests in the user's folders; install it system-wide (--system), or ask \
                 the administrator"
            ));
        }
        let (blocked, origin) = self.blocklist.as_ref()?;
        if !blocked.iter().any(|b| b == "*" || b == name) {
            return None;
        }
        let allowed = self
            .allowlist
            .as_ref()
            .is_some_and(|(list, _)| list.iter().any(|a| a == name));
        (!allowed).then(|| {
            format!(
                "policy NativeMessagingBlocklist ({origin}) blocks {name:?} and \
                 NativeMessagingAllowlist does not list it: ask the administrator to add \
                 {name:?} to NativeMessagingAllowlist"
            )
        })
    }
}

/// The policies `target` would apply on `places.os` (Linux files, or the Windows
/// registry where it is at hand); none for Gecko builds, which have no such policy.
pub fn read(places: &Places, target: Target) -> Policies {
    let mut policies = Policies::default();
    match places.os {
        Os::Linux if !target.entry.linux_policies.is_empty() => {
            let base = places.system(target.entry.linux_policies);
            // Recommended first: managed values replace them.
            for level in ["recommended", "managed"] {
                for file in json_files(base.join(level)) {
                    let Ok(text) = std::fs::read(&file) else {
                        continue;
                    };
                    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&text) else {
                        continue;
                    };
                    let origin = file.display().to_string();
                    apply(&mut policies, &origin, |key| map.get(key).cloned());
                }
            }
        }
        Os::Windows if cfg!(windows) && !target.entry.windows_policies.is_empty() => {
            for hive in ["HKCU", "HKLM"] {
                let key = format!(
                    r"{hive}\SOFTWARE\Policies\{}",
                    target.entry.windows_policies
                );
                let origin = key.clone();
                apply(&mut policies, &origin, |name| registry_policy(&key, name));
            }
        }
        _ => {}
    }
    policies
}

fn json_files(dir: PathBuf) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn apply(policies: &mut Policies, origin: &str, get: impl Fn(&str) -> Option<serde_json::Value>) {
    if let Some(v) = get("NativeMessagingUserLevelHosts").and_then(|v| v.as_bool()) {
        policies.user_level_hosts = Some((v, origin.to_owned()));
    }
    let list = |names: [&str; 2]| {
        names.iter().find_map(|n| get(n)).and_then(|v| {
            v.as_array().map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
        })
    };
    if let Some(v) = list(["NativeMessagingBlocklist", "NativeMessagingBlacklist"]) {
        policies.blocklist = Some((v, origin.to_owned()));
    }
    if let Some(v) = list(["NativeMessagingAllowlist", "NativeMessagingWhitelist"]) {
        policies.allowlist = Some((v, origin.to_owned()));
    }
}

/// One policy from the registry, as the JSON value a Linux file would hold: a DWORD
/// (`NativeMessagingUserLevelHosts`) or a list (a subkey of values `1`, `2`, …).
fn registry_policy(key: &str, name: &str) -> Option<serde_json::Value> {
    if name == "NativeMessagingUserLevelHosts" {
        let value = super::registry::value(key, name)?;
        let n = value
            .strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())?;
        return Some(serde_json::Value::Bool(n != 0));
    }
    let items = super::registry::values(&format!(r"{key}\{name}"));
    (!items.is_empty()).then(|| items.into_iter().map(serde_json::Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Option<(Vec<String>, String)> {
        Some((items.iter().map(|s| s.to_string()).collect(), "f".into()))
    }

    #[test]
    fn the_blocklist_and_allowlist_decide_as_chrome_does() {
        let p = Policies {
            blocklist: list(&["*"]),
            allowlist: list(&["ok.host"]),
            ..Policies::default()
        };
        assert!(p.refuses("ok.host", true).is_none());
        assert!(
            p.refuses("other.host", false)
                .unwrap()
                .contains("NativeMessagingBlocklist")
        );
        let p = Policies {
            user_level_hosts: Some((false, "f".into())),
            ..Policies::default()
        };
        assert!(p.refuses("a", false).is_none());
        assert!(p.refuses("a", true).unwrap().contains("--system"));
    }
}
