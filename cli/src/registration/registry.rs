//! The Windows registry keys that point the browsers at host manifests, read and written
//! through `reg.exe` (every Windows has it, and so does Wine): no registry crate, and the
//! same commands a user would type.

use std::process::Command;

/// Sets `key`'s default value to `value` (a manifest's absolute path).
pub fn set(key: &str, value: &str) -> Result<(), String> {
    let out = Command::new("reg")
        .args(["add", key, "/ve", "/t", "REG_SZ", "/d", value, "/f"])
        .output()
        .map_err(|e| format!("cannot run reg.exe: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "reg add {key} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Deletes `key`; `Ok(false)` when it was not there.
pub fn delete(key: &str) -> Result<bool, String> {
    if get(key).is_none() {
        return Ok(false);
    }
    let out = Command::new("reg")
        .args(["delete", key, "/f"])
        .output()
        .map_err(|e| format!("cannot run reg.exe: {e}"))?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(format!(
            "reg delete {key} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `key`'s default value, when the key exists and has one.
pub fn get(key: &str) -> Option<String> {
    let out = Command::new("reg")
        .args(["query", key, "/ve"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    // "    (Default)    REG_SZ    C:\path\host.json" (the name is localised: take what
    // follows the type).
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let (_, value) = line.split_once("REG_SZ")?;
            Some(value.trim().to_owned()).filter(|v| !v.is_empty())
        })
}

/// The names of `key`'s subkeys (the hosts registered under a `NativeMessagingHosts` key).
pub fn subkeys(key: &str) -> Vec<String> {
    let Ok(out) = Command::new("reg").args(["query", key]).output() else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    // Subkeys are listed by their full path, the hive spelled out
    // ("HKEY_CURRENT_USER\SOFTWARE\...\com.example.host"); values are indented.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.starts_with("HKEY_"))
        .filter_map(|line| {
            let (parent, name) = line.trim_end().rsplit_once('\\')?;
            let (_, parent_rest) = parent.split_once('\\')?;
            let (_, key_rest) = key.split_once('\\')?;
            parent_rest
                .eq_ignore_ascii_case(key_rest)
                .then(|| name.to_owned())
        })
        .collect()
}
