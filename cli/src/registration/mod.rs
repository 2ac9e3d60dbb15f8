//! Registration: where each browser looks for host manifests (folders, registry keys),
//! and the rules it applies to them. `manifest`, `run --manifest` and `tap install` share
//! it.

use std::path::Path;

use nmframe::simd_json::prelude::*;
use nmframe::{Browser, JsonDecoder};
use serde::Serialize;

pub(crate) mod extension;
pub(crate) mod places;
pub(crate) mod policy;
pub(crate) mod registry;
pub(crate) mod sandbox;
pub(crate) mod table;

pub(crate) use places::{Os, Pick, Places, Sandbox, Target, home, registry_key, registry_search};

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
    /// The file starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// The file holds `//` or `/* */` comments.
    pub comments: bool,
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
            bom: false,
            comments: false,
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
    let mut problems = Vec::new();
    // Editors on Windows add a byte-order mark, and people annotate JSON: noted (the
    // browsers differ, `validate` says), then read past so that every other problem is
    // reported too.
    let bom = bytes.starts_with(b"\xef\xbb\xbf");
    if bom {
        bytes.drain(..3);
    }
    let mut json = JsonDecoder::new();
    let mut comments = false;
    if json.validate(&bytes).is_err()
        && let Some(stripped) = without_comments(&bytes)
        && json.validate(&stripped).is_ok()
    {
        comments = true;
        bytes = stripped;
    }
    let doc = json
        .parse(&mut bytes)
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let root = doc.value();
    let Some(object) = root.as_object() else {
        return Err(format!("{} holds JSON, but not an object", path.display()));
    };
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
        bom,
        comments,
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

/// `text` with its `//` and `/* */` comments blanked out (strings left alone), or `None`
/// when it has none.
fn without_comments(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = text.to_vec();
    let (mut i, mut in_string, mut found) = (0, false, false);
    while i < out.len() {
        match (in_string, out[i], out.get(i + 1)) {
            (true, b'\\', _) => i += 1,
            (_, b'"', _) => in_string = !in_string,
            (false, b'/', Some(b'/')) => {
                found = true;
                while i < out.len() && out[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            (false, b'/', Some(b'*')) => {
                found = true;
                let end =
                    memchr::memmem::find(&out[i + 2..], b"*/").map_or(out.len(), |e| i + 2 + e + 2);
                out[i..end].fill(b' ');
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found.then_some(out)
}

/// The browsers' rules, applied to a manifest meant for `target` on `os`. `manifest` is
/// the manifest's own path, when it has one.
pub fn validate(fields: &Fields, target: Target, os: Os, manifest: Option<&Path>) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Measured by the browser suite (browsers/run.py, "a manifest with a byte-order mark
    // or a comment"): Chromium 156 reads both; Firefox 153 reads the byte-order mark and
    // refuses comments ("No such native application").
    if fields.bom {
        problems.push(warning(
            "the file starts with a UTF-8 byte-order mark (EF BB BF): Chromium and Firefox \
             skip it, but JSON has none and other readers (JSON.parse, installers' checks) \
             refuse it; save the file as UTF-8 without BOM",
        ));
    }
    if fields.comments {
        let text = "the file has comments (// or /* */), which JSON does not allow";
        if target.browser() == Browser::Firefox {
            problems.push(error(format!(
                "{text}: Firefox refuses the manifest (\"No such native application\"); \
                 remove them"
            )));
        } else {
            problems.push(warning(format!(
                "{text}: Chromium reads them, Firefox and xdg-native-messaging-proxy \
                 refuse the manifest; remove them"
            )));
        }
    }
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
        return vec![error(format!(
            "origin {origin:?}: {id:?} is not an extension id (32 letters from a to p), so no \
             extension can match it; copy the id from chrome://extensions"
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
            #[cfg(target_os = "macos")]
            if quarantined(path) {
                return vec![error(format!(
                    "\"path\" {} is quarantined (downloaded, not yet opened): Gatekeeper stops \
                     the browser from starting it; clear it with `xattr -d com.apple.quarantine {}`",
                    path.display(),
                    path.display()
                ))];
            }
            let _ = meta;
            Vec::new()
        }
    }
}

/// Whether macOS has marked `path` as downloaded and not yet approved.
#[cfg(target_os = "macos")]
fn quarantined(path: &Path) -> bool {
    std::process::Command::new("xattr")
        .args(["-p", "com.apple.quarantine"])
        .arg(path)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// What `ext` (the extension's manifest.json) tells about a host manifest meant for
/// `target`: whether the extension will be let in, with the id to add when not.
pub fn check_extension(
    fields: &Fields,
    target: Target,
    ext: &extension::Extension,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let from = ext.manifest.display();
    if !ext.asks_native_messaging {
        problems.push(error(format!(
            "{from} does not ask for the \"nativeMessaging\" permission: add it to \
             \"permissions\""
        )));
    }
    if target.browser() == Browser::Firefox {
        match &ext.gecko_id {
            None => problems.push(error(format!(
                "{from} has no browser_specific_settings.gecko.id: Firefox gives it a random \
                 id each time it is loaded temporarily, which no allowed_extensions can list; \
                 set one"
            ))),
            Some(id) => {
                let listed = fields.allowed_extensions.iter().flatten().any(|a| a == id);
                if !listed {
                    problems.push(error(format!(
                        "the extension's id is {id:?} ({from}), which \"allowed_extensions\" \
                         does not list: add it"
                    )));
                }
            }
        }
        return problems;
    }
    let origin = format!("chrome-extension://{}/", ext.chromium_id);
    let listed = fields
        .allowed_origins
        .iter()
        .flatten()
        .any(|o| *o == origin);
    let how = if ext.id_from_key {
        "from its \"key\""
    } else {
        "loaded unpacked from this folder, from the folder's path: it changes if the folder \
         moves; add a \"key\" to fix it"
    };
    if !listed {
        problems.push(error(format!(
            "the extension will have id {} ({how}), and \"allowed_origins\" does not list \
             {origin:?}: add it",
            ext.chromium_id
        )));
    } else if !ext.id_from_key {
        problems.push(warning(format!(
            "{from} has no \"key\": the id {} comes from the folder's path and changes if \
             the folder moves or another machine loads it",
            ext.chromium_id
        )));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_browser_rule() {
        for ok in ["com.example.host", "a", "a_b.c9"] {
            assert!(valid_name(ok, Target::named("chrome")), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "A.b", "a-b", "a b"] {
            assert!(!valid_name(bad, Target::named("chrome")), "{bad}");
        }
        assert!(valid_name("Com.Example", Target::named("firefox")));
    }

    #[test]
    fn comments_are_blanked_outside_strings() {
        let text = b"{\"a\": \"//not\", // one\n /* two */ \"b\": \"/*x*/\"}";
        let out = without_comments(text).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\": \"//not\",       \n           \"b\": \"/*x*/\"}"
        );
        assert!(without_comments(b"{\"a\": \"//\"}").is_none());
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
        assert!(check_origin("chrome-extension://short/")[0].fatal);
        assert!(
            check_origin("chrome-extension://KNLDJMFMOPNPOLAHPMMGBAGDOHDNHKIK/")[0]
                .text
                .contains("32 letters from a to p")
        );
    }
}
