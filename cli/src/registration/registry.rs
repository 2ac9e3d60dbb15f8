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

/// What `reg query ARGS` prints, when it succeeds (the key or value exists).
fn query(args: &[&str]) -> Option<String> {
    let out = Command::new("reg").arg("query").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `key`'s default value, when the key exists and has one.
pub fn get(key: &str) -> Option<String> {
    // "    (Default)    REG_SZ    C:\path\host.json" (the name is localised: take what
    // follows the type).
    query(&[key, "/ve"])?.lines().find_map(|line| {
        let (_, value) = line.split_once("REG_SZ")?;
        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
    })
}

/// The names of `key`'s subkeys (the hosts registered under a `NativeMessagingHosts` key).
pub fn subkeys(key: &str) -> Vec<String> {
    let Some(text) = query(&[key]) else {
        return Vec::new();
    };
    // Subkeys are listed by their full path, the hive spelled out
    // ("HKEY_CURRENT_USER\SOFTWARE\...\com.example.host"); values are indented.
    text.lines()
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

/// The data of `key`'s value `name` as `reg query` prints it (`0x1` for a DWORD).
pub fn value(key: &str, name: &str) -> Option<String> {
    query(&[key, "/v", name])?.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == name).then_some(())?;
        let _type = words.next()?;
        Some(words.collect::<Vec<_>>().join(" "))
    })
}

/// The string data of every value of `key` (a policy list: values `1`, `2`, … each
/// holding one entry), in the order `reg query` prints them.
pub fn values(key: &str) -> Vec<String> {
    let Some(text) = query(&[key]) else {
        return Vec::new();
    };
    text.lines()
        .filter(|line| line.starts_with(' '))
        .filter_map(|line| {
            let (_, value) = line.split_once("REG_SZ")?;
            Some(value.trim().to_owned())
        })
        .collect()
}
