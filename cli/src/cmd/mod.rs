//! One module per command. main.rs holds the command line and the dispatch.

use std::path::PathBuf;

pub mod bridge;
pub mod demo;
pub mod dump;
pub mod echo;
pub mod manifest;
pub mod run;
pub mod tap;
pub mod tap_install;
pub mod tap_show;

pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
