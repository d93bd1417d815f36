//! Hand e-mail to the host's transport; the host sets the sender from the
//! merchant's settings and signs it (DKIM). Needs `"mail"` in
//! `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::mail::Message;

use crate::__private::bindings::omnistore::plugin::mail as imp;
use crate::HostError;

/// Queue a message; returns the host's message id.
pub fn send(message: &Message) -> Result<String, HostError> {
    imp::send(message)
}

impl Message {
    /// A plain-text message to one recipient.
    ///
    /// ```
    /// use omnistore_sdk::mail::Message;
    /// let m = Message::new("ada@example.com", "Your order", "Thanks!")
    ///     .with_html("<p>Thanks!</p>")
    ///     .with_header("List-Unsubscribe", "<https://shop.example/u/1>");
    /// assert_eq!(m.to, ["ada@example.com"]);
    /// ```
    pub fn new(to: &str, subject: &str, text: &str) -> Message {
        Message {
            to: vec![to.to_string()],
            subject: subject.to_string(),
            text: text.to_string(),
            html: None,
            headers: Vec::new(),
        }
    }

    /// This message with an HTML alternative.
    pub fn with_html(mut self, html: &str) -> Message {
        self.html = Some(html.to_string());
        self
    }

    /// This message with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Message {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}
