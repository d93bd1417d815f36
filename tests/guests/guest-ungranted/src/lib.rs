//! Its manifest requests storage and mail; a test installs it with mail's
//! grant withheld. `GET /` (any path but `/storage`) calls `mail::send` and
//! answers 200 with what happened: `sent: <id>` or the host error's Debug
//! text. `GET /storage` writes and reads back a key, to show that the granted
//! capability still works.

use omnistore_sdk::mail::{self, Message};
use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, storage};

struct Ungranted;

impl Plugin for Ungranted {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        if req.path == "/storage" {
            let result = storage::set("probe", b"ok").and_then(|()| storage::get("probe"));
            return Ok(Response::text(match result {
                Ok(Some(v)) => format!("stored: {}", String::from_utf8_lossy(&v)),
                Ok(None) => "stored: <missing>".to_string(),
                Err(e) => format!("{e:?}"),
            }));
        }
        let message = Message::new("someone@example.com", "Hello", "This should not be sent.");
        Ok(Response::text(match mail::send(&message) {
            Ok(id) => format!("sent: {id}"),
            Err(e) => format!("{e:?}"),
        }))
    }
}

export_plugin!(Ungranted);
