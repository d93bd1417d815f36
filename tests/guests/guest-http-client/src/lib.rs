//! Fetches the URL given in `?url=` and answers with the remote's status and
//! body, or with status 502 and the http-error's Debug text (for instance
//! `HttpError::Denied(..)` for an origin outside its manifest).

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, http};

struct HttpClient;

impl Plugin for HttpClient {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let url = req.query_param("url").ok_or_else(|| PluginError::bad_request("pass ?url="))?;
        Ok(match http::get(&url) {
            Ok(res) => {
                let content_type = res.header("content-type").unwrap_or("application/octet-stream").to_string();
                Response::bytes(&content_type, res.body).with_status(res.status)
            }
            Err(e) => Response::text(format!("{e:?}")).with_status(502),
        })
    }
}

export_plugin!(HttpClient);
