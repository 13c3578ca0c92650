//! An in-process HTTP/1.1 server on loopback that answers from a script, for unit tests of the transport.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

/// One scripted answer: status, extra headers, body.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub(crate) fn new(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// Reads the request and never answers (a server that hangs).
    pub(crate) fn silent() -> Answer {
        Answer::new(0, "")
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// `METHOD /path`.
    pub line: String,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
}

/// The server: its base URL and the requests it has answered so far.
pub(crate) struct TestServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Serves `script` in order, one answer per request (the last one repeats).
    pub(crate) fn start(script: Vec<Answer>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        thread::spawn(move || {
            let mut script = script.into_iter().peekable();
            let mut last: Option<Answer> = None;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                // Keep-alive: answer every request on this connection.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let mut headers = Vec::new();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).expect("header");
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        let (name, value) = header.split_once(':').expect("name: value");
                        let (name, value) = (name.to_ascii_lowercase(), value.trim().to_owned());
                        if name == "content-length" {
                            length = value.parse().expect("length");
                        }
                        headers.push((name, value));
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).expect("body");
                    let request = line
                        .split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" ");
                    record.lock().unwrap().push(Seen {
                        line: request,
                        headers,
                    });
                    let answer = match script.next() {
                        Some(answer) => last.insert(answer),
                        None => last.as_mut().expect("a script of at least one answer"),
                    };
                    if answer.status == 0 {
                        // Hold the connection open, unanswered, until the client gives up.
                        let mut rest = Vec::new();
                        let _ = reader.read_to_end(&mut rest);
                        break;
                    }
                    let mut reply = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    for (name, value) in &answer.headers {
                        reply.push_str(&format!("{name}: {value}\r\n"));
                    }
                    reply.push_str("\r\n");
                    reply.push_str(&answer.body);
                    if stream.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        TestServer { url, seen }
    }

    /// The requests answered so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}
