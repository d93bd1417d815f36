//! The guestbook: notes signed through the home page's form or sent as JSON
//! to the API, kept in plugin storage.
//!
//! The form acts for the visitor at the browser (it signs with the name
//! their cookie remembers and sets that cookie), so it must come from our
//! own page: it carries the visitor's anti-forgery token. The API reads no
//! cookie and acts for nobody in particular, so there is nothing to forge.

use serde::{Deserialize, Serialize};
use serde_json::json;

use omnistore_sdk::{Params, PluginError, Request, Response, Timestamp, clock, storage};

use crate::visitor::Visitor;
use crate::{MESSAGE, render};

/// The storage key of the notes, oldest first.
const NOTES_KEY: &str = "guestbook";
/// Notes kept: one storage value stays small, and so does the home page.
pub const KEPT: usize = 20;
pub const MAX_NAME: usize = 40;
pub const MAX_MESSAGE: usize = 280;

/// A note as it is stored and as the API answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub name: String,
    pub message: String,
    /// When it was signed, in ms since the epoch.
    pub at: Timestamp,
}

/// A note as a visitor writes it: the form's fields, the API's JSON body.
#[derive(Debug, Deserialize)]
struct NewNote {
    name: String,
    message: String,
}

impl NewNote {
    /// The note to keep, or why not in words for the visitor.
    fn check(self) -> Result<Note, String> {
        let (name, message) = (self.name.trim(), self.message.trim());
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(format!("A name has 1 to {MAX_NAME} characters."));
        }
        if message.is_empty() || message.chars().count() > MAX_MESSAGE {
            return Err(format!("A note has 1 to {MAX_MESSAGE} characters."));
        }
        Ok(Note { name: name.to_string(), message: message.to_string(), at: clock::now() })
    }
}

/// The notes kept, oldest first.
pub fn notes() -> Result<Vec<Note>, PluginError> {
    Ok(storage::get_json(NOTES_KEY)?.unwrap_or_default())
}

fn keep(note: &Note) -> Result<(), PluginError> {
    // Two visitors signing at once are both kept: `update_json` runs the
    // change again on the value the other one wrote.
    storage::update_json(NOTES_KEY, |notes: Option<Vec<Note>>| {
        let mut notes = notes.unwrap_or_default();
        notes.push(note.clone());
        let dropped = notes.len().saturating_sub(KEPT);
        notes.drain(..dropped);
        Some(notes)
    })?;
    Ok(())
}

/// `POST /guestbook`, the home page's form.
pub fn sign_from_form(req: &Request, _: &Params) -> Result<Response, PluginError> {
    let visitor = Visitor::of(req);
    let form = req.form()?;
    if !visitor.sent_own_token(form.get("authenticity_token").unwrap_or("")) {
        let why = "The form did not come from this site's own page. Reload the home page and send it again.";
        return refusal(req, 403, "The form has expired", why);
    }
    let note = match form.deserialize::<NewNote>()?.check() {
        Ok(note) => note,
        Err(why) => return refusal(req, 422, "The note was not kept", &why),
    };
    keep(&note)?;
    // Post/redirect/get: reloading the page the browser lands on does not
    // send the form again. The location is absolute: a path starting with
    // `/` would leave the installation's mount point.
    let response = Response::redirect_see_other(&req.absolute_url("/"))?;
    visitor.remember_name(response, &note.name)
}

/// A page saying why the form was refused.
fn refusal(req: &Request, status: u16, heading: &str, why: &str) -> Result<Response, PluginError> {
    Ok(render(req, &MESSAGE, heading, json!({ "heading": heading, "message": why }))?.with_status(status))
}

/// `GET /api/notes`.
pub fn list_json(_: &Request, _: &Params) -> Result<Response, PluginError> {
    Ok(Response::json(&json!({ "notes": notes()? })))
}

/// `POST /api/notes`: a note as JSON in, the note kept as JSON out.
pub fn add_json(req: &Request, _: &Params) -> Result<Response, PluginError> {
    // `req.json()` would answer 400; an API says 422 with the reason in JSON.
    let new: NewNote = match serde_json::from_slice(&req.body) {
        Ok(new) => new,
        Err(e) => {
            let why = format!(r#"The body is not a note {{"name": "…", "message": "…"}}: {e}."#);
            return Ok(Response::json_status(422, &json!({ "error": why })));
        }
    };
    match new.check() {
        Ok(note) => {
            keep(&note)?;
            Ok(Response::json_status(201, &note))
        }
        Err(why) => Ok(Response::json_status(422, &json!({ "error": why }))),
    }
}
