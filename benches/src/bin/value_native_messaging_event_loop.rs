//! The host shape `native_messaging`'s README shows (0.3, feature `tokio`): `event_loop`
//! over a Tokio runtime, with its reader and writer threads; each message decoded into a
//! `serde_json::Value` and sent back through the `Sender`.
use native_messaging::host::{NmError, Sender, event_loop};

#[tokio::main]
async fn main() -> Result<(), NmError> {
    event_loop(|raw: String, send: Sender| async move {
        let value: serde_json::Value =
            serde_json::from_str(&raw).map_err(NmError::DeserializeJson)?;
        send.send(&value).await
    })
    .await
}
