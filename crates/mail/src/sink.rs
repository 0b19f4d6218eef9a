//! A loopback SMTP server for tests (feature `test-sink`): it accepts every message, decodes it
//! and keeps it, or refuses recipients with a chosen reply code. It speaks just enough SMTP for
//! lettre: no TLS, no authentication.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mail_parser::MessageParser;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Largest message the sink keeps; bigger ones are refused with 552.
const MAX_MESSAGE: usize = 25 * 1024 * 1024;

/// A message the sink accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Envelope sender (`MAIL FROM`).
    pub from: String,
    /// Envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent, dot-stuffing undone.
    pub raw: String,
    /// Decoded subject.
    pub subject: String,
    /// Decoded `text/plain` body.
    pub text: String,
    /// Decoded `text/html` body.
    pub html: String,
    /// Top-level headers in order: name and unfolded raw value.
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// The first header named `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    failing: Option<u16>,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running sink on `127.0.0.1`; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Shared,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink").field("addr", &self.addr).finish()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl SmtpSink {
    /// Binds a free port on `127.0.0.1` and starts accepting connections (needs a tokio runtime).
    pub async fn start() -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Shared::default();
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        Ok(SmtpSink { addr, state, accept })
    }

    /// `smtp://127.0.0.1:PORT`, for [`crate::Mailer::smtp`].
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= n || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// With `Some(code)` (e.g. 451 or 550), answers every `RCPT TO` with that reply code;
    /// `None` accepts mail again.
    pub fn set_failing(&self, code: Option<u16>) {
        lock(&self.state).failing = code;
    }
}

/// Accepts connections until aborted; aborting drops the set, which ends every session.
async fn accept_loop(listener: TcpListener, state: Shared) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(stream, state.clone()));
                }
                // Out of file descriptors or the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = sessions.join_next() => {}
        }
    }
}

/// One SMTP session; I/O errors just end it.
async fn session(stream: TcpStream, state: Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 atrium-sink ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end();
        let verb = command.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => "250-atrium-sink\r\n250-8BITMIME\r\n250 SMTPUTF8".to_string(),
            "HELO" => "250 atrium-sink".to_string(),
            "MAIL" => {
                from = address(command);
                to.clear();
                "250 2.1.0 OK".to_string()
            }
            "RCPT" => match lock(&state).failing {
                Some(code) => format!("{code} {} refused by the test sink", enhanced(code)),
                None => {
                    to.push(address(command));
                    "250 2.1.5 OK".to_string()
                }
            },
            "DATA" if to.is_empty() => "503 5.5.1 no valid recipients".to_string(),
            "DATA" => {
                write.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let Some(raw) = read_data(&mut read).await? else { return Ok(()) };
                let reply = match raw {
                    Ok(raw) => {
                        let received = decode(std::mem::take(&mut from), std::mem::take(&mut to), &raw);
                        lock(&state).received.push(received);
                        "250 2.0.0 queued"
                    }
                    Err(TooBig) => "552 5.3.4 message too big",
                };
                from.clear();
                to.clear();
                reply.to_string()
            }
            "RSET" => {
                from.clear();
                to.clear();
                "250 2.0.0 OK".to_string()
            }
            "NOOP" => "250 2.0.0 OK".to_string(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return write.shutdown().await;
            }
            _ => "500 5.5.2 command not recognized".to_string(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

struct TooBig;

/// Reads a `DATA` body up to the lone `.` line and undoes dot-stuffing; `None` on end of stream.
async fn read_data(read: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<Option<Result<Vec<u8>, TooBig>>> {
    let mut raw = Vec::new();
    let mut too_big = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(if too_big { Err(TooBig) } else { Ok(raw) }));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        if raw.len() + unstuffed.len() > MAX_MESSAGE {
            too_big = true;
            raw.clear();
        } else if !too_big {
            raw.extend_from_slice(unstuffed);
        }
    }
}

/// The enhanced status code (RFC 3463) that goes with a refusal.
fn enhanced(code: u16) -> &'static str {
    if code >= 500 { "5.7.1" } else { "4.3.0" }
}

/// The address in `MAIL FROM:<a@b> BODY=8BITMIME` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    let arg = command.split_once(':').map_or("", |(_, rest)| rest).trim_start();
    match arg.strip_prefix('<').and_then(|a| a.split_once('>')) {
        Some((addr, _)) => addr.to_string(),
        None => arg.split_whitespace().next().unwrap_or_default().to_string(),
    }
}

fn decode(from: String, to: Vec<String>, raw: &[u8]) -> Received {
    let mut received = Received {
        from,
        to,
        raw: String::from_utf8_lossy(raw).into_owned(),
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        headers: Vec::new(),
    };
    if let Some(message) = MessageParser::default().parse(raw) {
        received.subject = message.subject().unwrap_or_default().to_string();
        received.text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        received.html = message.body_html(0).map(|h| h.into_owned()).unwrap_or_default();
        received.headers = message
            .headers()
            .iter()
            .map(|h| {
                let value = message.raw_message.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
                (h.name().to_string(), unfold(&String::from_utf8_lossy(value)))
            })
            .collect();
    }
    received
}

/// Joins folded header lines (RFC 5322 section 2.2.3) and trims the value.
fn unfold(value: &str) -> String {
    value.replace("\r\n", "").replace('\n', "").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(address("MAIL FROM:<a@b.io> BODY=8BITMIME"), "a@b.io");
        assert_eq!(address("RCPT TO: <c@d.io>"), "c@d.io");
        assert_eq!(address("MAIL FROM:<>"), "");
        assert_eq!(address("RCPT TO:e@f.io"), "e@f.io");
    }

    #[tokio::test]
    async fn dot_stuffing_is_undone() {
        let data: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n";
        let mut read = BufReader::new(data);
        let raw = read_data(&mut read).await.unwrap().unwrap().ok().unwrap();
        assert_eq!(raw, b"Subject: x\r\n\r\n.leading dot\r\n");
    }

    #[test]
    fn headers_are_unfolded() {
        let r = decode(String::new(), vec![], b"Subject: a\r\n b\r\nX-Long: one\r\n\ttwo\r\n\r\nbody\r\n");
        assert_eq!(r.subject, "a b");
        assert_eq!(r.header("x-long"), Some("one\ttwo"));
        assert_eq!(r.text.trim_end(), "body");
    }
}
