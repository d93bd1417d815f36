//! The words a recipient texts to stop, restart or ask for help: the
//! industry-standard set that Twilio also acts on. A keyword is the whole
//! message, in any case, with surrounding spaces ignored.

/// What an inbound text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: withdraw SMS consent.
    OptOut,
    /// START, YES, UNSTOP: give it back.
    OptIn,
    /// HELP, INFO: answer with the merchant's contact.
    Help,
}

/// The keyword the whole message is, if it is one.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim().to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "YES" | "UNSTOP" => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}
