//! Just enough HTTP/1.1 for static files and a WebSocket upgrade: reading a request head and
//! writing a response.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request head taken; browsers send a few hundred bytes.
pub const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed request: {0}")]
    Malformed(#[from] httparse::Error),
    #[error("request head over {MAX_HEAD} bytes")]
    TooLarge,
    #[error("the connection closed mid-request")]
    Truncated,
}

/// A request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The target's path, still percent-encoded.
    pub path: String,
    pub query: Option<String>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header lists `token` (case-insensitive).
    pub fn header_has(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether a body follows the head (this server reads none, so it closes after answering).
    pub fn has_body(&self) -> bool {
        self.header("transfer-encoding").is_some()
            || self
                .header("content-length")
                .is_some_and(|l| l.trim() != "0")
    }

    /// Whether the client wants the connection kept open after the response.
    pub fn keep_alive(&self) -> bool {
        if self.header_has("connection", "close") {
            return false;
        }
        self.version >= 1 || self.header_has("connection", "keep-alive")
    }
}

/// Reads one request head from `stream`, with `buffer` holding bytes already read. On success
/// the head is drained from `buffer` (what follows it stays). `Ok(None)`: the client closed
/// the connection between requests.
pub async fn read_request(
    stream: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Result<Option<Request>, HttpError> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(len) = parsed.parse(buffer)? {
            let target = parsed.path.unwrap_or("/");
            let (path, query) = match target.split_once('?') {
                Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
                None => (target.to_owned(), None),
            };
            let request = Request {
                method: parsed.method.unwrap_or("").to_owned(),
                path,
                query,
                version: parsed.version.unwrap_or(1),
                headers: parsed
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value).into_owned();
                        (h.name.to_ascii_lowercase(), value)
                    })
                    .collect(),
            };
            buffer.drain(..len);
            return Ok(Some(request));
        }
        if buffer.len() >= MAX_HEAD {
            return Err(HttpError::TooLarge);
        }
        let mut chunk = [0; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buffer.is_empty() {
                Ok(None)
            } else {
                Err(HttpError::Truncated)
            };
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A plain-text response (errors).
    pub fn text(status: u16, text: &str) -> Self {
        Response {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: format!("{text}\n").into_bytes(),
        }
    }

    /// Writes the response; without the body for `HEAD` (its length still announced).
    pub async fn write(
        &self,
        stream: &mut (impl AsyncWrite + Unpin),
        head_only: bool,
        keep_alive: bool,
    ) -> std::io::Result<()> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\n", self.body.len()));
        out.push_str("x-content-type-options: nosniff\r\n");
        let connection = if keep_alive { "keep-alive" } else { "close" };
        out.push_str(&format!("connection: {connection}\r\n\r\n"));
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        stream.write_all(&bytes).await?;
        stream.flush().await
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Header Fields Too Large",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_heads_one_by_one_from_a_stream() {
        let bytes = b"GET /a/b.js?x=1 HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, Upgrade\r\n\r\nHEAD / HTTP/1.0\r\n\r\n";
        let mut stream = &bytes[..];
        let mut buffer = Vec::new();
        let first = read_request(&mut stream, &mut buffer)
            .await
            .expect("read")
            .expect("a request");
        assert_eq!(
            (first.method.as_str(), first.path.as_str()),
            ("GET", "/a/b.js")
        );
        assert_eq!(first.query.as_deref(), Some("x=1"));
        assert_eq!(first.header("host"), Some("h"));
        assert!(first.header_has("connection", "upgrade") && first.keep_alive());
        let second = read_request(&mut stream, &mut buffer)
            .await
            .expect("read")
            .expect("a request");
        assert_eq!((second.method.as_str(), second.version), ("HEAD", 0));
        assert!(!second.keep_alive());
        assert!(read_request(&mut stream, &mut buffer)
            .await
            .expect("end")
            .is_none());
    }

    #[tokio::test]
    async fn refuses_garbage_truncation_and_huge_heads() {
        let mut buffer = Vec::new();
        let garbage = read_request(&mut &b"\x00\x01 nonsense\r\n\r\n"[..], &mut buffer).await;
        assert!(matches!(garbage, Err(HttpError::Malformed(_))));
        let mut buffer = Vec::new();
        let cut = read_request(&mut &b"GET / HTTP/1.1\r\nHo"[..], &mut buffer).await;
        assert!(matches!(cut, Err(HttpError::Truncated)));
        let mut huge = b"GET / HTTP/1.1\r\nx: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        let mut buffer = Vec::new();
        let too_large = read_request(&mut &huge[..], &mut buffer).await;
        assert!(matches!(too_large, Err(HttpError::TooLarge)));
    }
}
