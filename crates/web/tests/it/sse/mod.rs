//! A small Server-Sent Events reader for `GET /api/v1/events` (shared by the live-event tests
//! and the authorization matrix).

use std::time::Duration;

use serde_json::Value;

/// One event: its `event:` name and its `data:` parsed as JSON (`Null` when not JSON).
#[derive(Clone, Debug)]
pub struct SseEvent {
    pub kind: String,
    pub data: Value,
    /// The raw `data:` text, for leak checks.
    pub raw: String,
    /// The `id:` (when the event was published), empty when none.
    pub id: String,
}

/// What waiting on a stream gave.
#[derive(Debug)]
pub enum Next {
    Event(SseEvent),
    /// Nothing arrived in time.
    Timeout,
    /// The server ended the stream.
    End,
}

/// An open event stream.
pub struct Sse {
    res: reqwest::Response,
    buf: String,
    /// Every event received so far (keep-alive comments excluded).
    pub seen: Vec<SseEvent>,
}

impl Sse {
    /// Opens the stream at `url` with a bearer token (or none); the status when refused.
    pub async fn open(url: &str, token: Option<&str>) -> Result<Sse, u16> {
        Sse::open_after(url, token, None).await
    }

    /// Opens the stream as a browser reconnecting does: with `Last-Event-ID` when given.
    pub async fn open_after(url: &str, token: Option<&str>, last_event_id: Option<&str>) -> Result<Sse, u16> {
        let mut req = reqwest::Client::new().get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("events request");
        if res.status() != 200 {
            return Err(res.status().as_u16());
        }
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("text/event-stream"), "content type {ct}");
        Ok(Sse { res, buf: String::new(), seen: Vec::new() })
    }

    /// Opens the stream and checks that it starts with `event: ready`.
    pub async fn ready(url: &str, token: &str) -> Sse {
        let mut s = Sse::open(url, Some(token)).await.unwrap_or_else(|st| panic!("stream refused: {st}"));
        match s.next(Duration::from_secs(5)).await {
            Next::Event(e) if e.kind == "ready" => s,
            other => panic!("the stream must start with `event: ready`, got {other:?}"),
        }
    }

    /// The next event, waiting at most `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(ev) = self.take_event() {
                self.seen.push(ev.clone());
                return Next::Event(ev);
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return Next::Timeout,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                Ok(Ok(None)) | Ok(Err(_)) => return Next::End,
            }
        }
    }

    /// Waits up to `timeout` for an event matching `pred` (others are recorded in `seen`).
    pub async fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&SseEvent) -> bool) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Next::Event(e) if pred(&e) => return Some(e),
                Next::Event(_) => continue,
                Next::Timeout | Next::End => return None,
            }
        }
    }

    /// Records everything that arrives for `period` (or until the stream ends).
    pub async fn drain(&mut self, period: Duration) {
        let deadline = tokio::time::Instant::now() + period;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Next::Event(_) => continue,
                Next::Timeout | Next::End => return,
            }
        }
    }

    /// Whether the server ends the stream within `timeout` (events in between are recorded).
    pub async fn ends_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Next::Event(_) => continue,
                Next::End => return true,
                Next::Timeout => return false,
            }
        }
    }

    /// Parses one complete event (ended by a blank line) off the buffer; comments and
    /// events without a name are skipped.
    fn take_event(&mut self) -> Option<SseEvent> {
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf[..end].to_string();
            self.buf.drain(..end + 2);
            let mut kind = String::new();
            let mut data: Vec<&str> = Vec::new();
            let mut id = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim_start().to_string();
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim_start().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if kind.is_empty() && data.is_empty() {
                continue; // a keep-alive comment
            }
            let raw = data.join("\n");
            let parsed = serde_json::from_str(&raw).unwrap_or(Value::Null);
            return Some(SseEvent {
                kind: if kind.is_empty() { "message".into() } else { kind },
                data: parsed,
                raw,
                id,
            });
        }
        None
    }
}
