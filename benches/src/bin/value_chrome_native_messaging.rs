//! The usual host shape on the `chrome_native_messaging` crate (0.3): read_input,
//! send_message.
use std::io;

fn main() {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    while let Ok(value) = chrome_native_messaging::read_input(&mut stdin) {
        if chrome_native_messaging::send_message(&mut stdout, &value).is_err() {
            break;
        }
    }
}
