//! One module per command, each the only home of its code: `main` parses the command
//! line (`args`) and calls the command's entry point here.

pub mod bridge;
pub mod demo;
pub mod dump;
pub mod echo;
pub mod manifest;
pub mod run;
pub mod tap;
