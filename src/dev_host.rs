//! `port host`: a development host that receives donations, logs and exits from the extension.
//!
//! It speaks the extension's dev-host bridge: `POST /donate` with the donated JSON verbatim as the
//! body and the key and session in `X-Port-Key` and `X-Port-Session`; `POST /log`, `/event` and
//! `/exit` with JSON bodies. It listens on 127.0.0.1 only, because donations are participant data.
//! `GET /donations` lists what arrived, for tests and dashboards.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

pub struct DevHost {
    server: tiny_http::Server,
    donation_dir: PathBuf,
}

/// One donation as listed in `index.jsonl` and by `GET /donations`.
fn index_entry(session: &str, key: &str, n_bytes: usize, path: &Path) -> Value {
    json!({"session": session, "key": key, "bytes": n_bytes, "file": path.display().to_string()})
}

impl DevHost {
    pub fn bind(port: u16, donation_dir: &Path) -> anyhow::Result<DevHost> {
        fs::create_dir_all(donation_dir)
            .with_context(|| format!("cannot create the donation folder {}", donation_dir.display()))?;
        let donation_dir = donation_dir.canonicalize()?;
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|error| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {error}; pick another --port"))?;
        Ok(DevHost { server, donation_dir })
    }

    pub fn url(&self) -> String {
        match self.server.server_addr().to_ip() {
            Some(address) => format!("http://{address}"),
            None => "http://127.0.0.1".into(),
        }
    }

    pub fn donation_dir(&self) -> &Path {
        &self.donation_dir
    }

    pub fn serve_forever(self) {
        for request in self.server.incoming_requests() {
            self.handle(request);
        }
    }

    fn handle(&self, mut request: tiny_http::Request) {
        let method = request.method().clone();
        let path = request.url().split('?').next().unwrap_or("").to_owned();
        let mut body = String::new();
        let (status, reply) = if let Err(error) = request.as_reader().read_to_string(&mut body) {
            (400, json!({"error": format!("the body is not UTF-8 text: {error}")}))
        } else {
            match (&method, path.as_str()) {
                // The service worker's fetch sends a preflight for the X-Port-* headers.
                (tiny_http::Method::Options, _) => (204, Value::Null),
                (tiny_http::Method::Post, "/donate") => self.receive_donation(&request, body),
                (tiny_http::Method::Post, "/log") => print_logs(&body),
                (tiny_http::Method::Post, "/event") => print_json("event", &body),
                (tiny_http::Method::Post, "/exit") => print_json("exit", &body),
                (tiny_http::Method::Get, "/donations") => (200, self.list_donations()),
                (tiny_http::Method::Get, "/") => (200, json!({"host": "port", "donations": self.donation_dir})),
                _ => (404, json!({"error": format!("no route {method} {path}")})),
            }
        };
        let text = if reply.is_null() { String::new() } else { reply.to_string() };
        let response = tiny_http::Response::from_string(text)
            .with_status_code(status)
            .with_header(header("Content-Type", "application/json"))
            .with_header(header("Access-Control-Allow-Origin", "*"))
            .with_header(header("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
            .with_header(header("Access-Control-Allow-Headers", "Content-Type, X-Port-Key, X-Port-Session, X-Port-Study, Idempotency-Key"));
        if let Err(error) = request.respond(response) {
            eprintln!("port host: could not answer {method} {path}: {error}");
        }
    }

    fn receive_donation(&self, request: &tiny_http::Request, body: String) -> (u16, Value) {
        let header_value = |name: &str| {
            request.headers().iter().find(|header| header.field.as_str().as_str().eq_ignore_ascii_case(name)).map(|header| header.value.to_string())
        };
        let Some(key) = header_value("X-Port-Key").filter(|key| !key.is_empty()) else {
            return (400, json!({"error": "missing X-Port-Key header"}));
        };
        let session = header_value("X-Port-Session").unwrap_or_else(|| "no-session".into());
        let session_dir = self.donation_dir.join(safe_file_name(&session));
        let path = session_dir.join(format!("{}.json", safe_file_name(&key)));
        let written = fs::create_dir_all(&session_dir).and_then(|()| fs::write(&path, &body)).and_then(|()| {
            let entry = index_entry(&session, &key, body.len(), &path);
            let mut index = fs::OpenOptions::new().create(true).append(true).open(self.donation_dir.join("index.jsonl"))?;
            writeln!(index, "{entry}")
        });
        match written {
            Ok(()) => {
                println!("donation {key} (session {session}): {} bytes -> {}", body.len(), path.display());
                (200, json!({"status": "ok"}))
            }
            Err(error) => {
                eprintln!("port host: cannot store donation {key}: {error}");
                (500, json!({"error": format!("cannot store the donation: {error}")}))
            }
        }
    }

    fn list_donations(&self) -> Value {
        let index = fs::read_to_string(self.donation_dir.join("index.jsonl")).unwrap_or_default();
        Value::Array(index.lines().filter_map(|line| serde_json::from_str(line).ok()).collect())
    }
}

fn print_logs(body: &str) -> (u16, Value) {
    let Ok(logs) = serde_json::from_str::<Value>(body) else {
        return (400, json!({"error": "the log body is not JSON"}));
    };
    let entries = logs.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
    for entry in entries {
        let level = entry.get("level").and_then(Value::as_str).unwrap_or("?");
        let message = entry.get("message").and_then(Value::as_str).unwrap_or("");
        println!("[{level}] {message}");
    }
    (200, json!({"status": "ok"}))
}

fn print_json(what: &str, body: &str) -> (u16, Value) {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => {
            println!("{what} {value}");
            (200, json!({"status": "ok"}))
        }
        Err(_) => (400, json!({"error": format!("the {what} body is not JSON")})),
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static headers are valid")
}

/// Keys and session ids become file names: anything but letters, digits, `-`, `_` and `.` is `_`,
/// so a key can never climb out of the donation folder.
fn safe_file_name(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if safe.is_empty() || safe.chars().all(|c| c == '.') { "_".into() } else { safe }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape_the_folder() {
        assert_eq!(safe_file_name("123-demo"), "123-demo");
        assert_eq!(safe_file_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_file_name(".."), "_");
        assert_eq!(safe_file_name(""), "_");
    }
}
