//! The usual host shape on the `native_messaging` crate (0.3): recv_json, send_json.
use std::io;

fn main() {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    while let Ok(value) =
        native_messaging::host::recv_json::<serde_json::Value, _>(&mut stdin, usize::MAX)
    {
        if native_messaging::host::send_json(&mut stdout, &value).is_err() {
            break;
        }
    }
}
