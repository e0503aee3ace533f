//! The sync protocol's wire format, version 1: one message per frame, a kind byte then the body.
//! Integers are unsigned LEB128 varints (the shortest form only), keys and hashes raw bytes. A
//! decoder reads exactly one frame and refuses anything left over, so a frame has one meaning.

use crate::identity::{PublicKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::store::LogKey;

use super::error::CloseReason;

/// The largest frame either side sends or accepts: fits one data-channel message in every browser.
pub const MAX_FRAME: usize = 16 * 1024;
pub const NONCE_LEN: usize = 32;
/// A topic as it travels: a hash of the festival id salted with both session nonces.
pub const BLINDED_LEN: usize = 32;
/// How much of a log's head hash is compared to spot a fork.
pub const HEAD_LEN: usize = 16;

pub type Nonce = [u8; NONCE_LEN];
pub type Blinded = [u8; BLINDED_LEN];
pub type Head = [u8; HEAD_LEN];

/// "I hold this log up to `height`, whose entry there hashes to `head`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Have {
    pub log: LogKey,
    pub height: u64,
    pub head: Head,
}

/// "Send me this log's entries `after < seq <= until`; my entry at `after` hashes to `head`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub log: LogKey,
    pub after: u64,
    pub until: u64,
    pub head: Head,
}

// `Auth` holds a decoded key and is larger than the rest; a message lives for one frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// First frame of each side: the protocol version and a fresh nonce.
    Hello {
        version: u64,
        nonce: Nonce,
    },
    /// The key proof (a signature over the other side's nonce), the receive window granted to
    /// the other side, and the wanted topics, blinded.
    Auth {
        key: PublicKey,
        signature: [u8; SIGNATURE_LEN],
        window: u64,
        topics: Vec<Blinded>,
    },
    /// Log heights. `complete` marks the last frame of the first announcement of a session.
    Have {
        complete: bool,
        logs: Vec<Have>,
    },
    Want(Vec<Want>),
    /// Entries with their payloads, in order per log.
    Entries(Vec<(&'a [u8], &'a [u8])>),
    /// More receive window, in bytes.
    Credit(u64),
    /// The sender ends the session, and says why.
    Close(CloseReason),
}

const HELLO: u8 = 1;
const AUTH: u8 = 2;
const HAVE: u8 = 3;
const WANT: u8 = 4;
const ENTRIES: u8 = 5;
const CREDIT: u8 = 6;
const CLOSE: u8 = 7;

/// Why a frame could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("frame of {0} bytes is over the {MAX_FRAME}-byte limit")]
    Oversized(usize),
    #[error("frame ends early")]
    Truncated,
    #[error("{0} bytes after the end of the message")]
    TrailingBytes(usize),
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    #[error("integer is not a shortest-form varint or does not fit")]
    BadVarint,
    #[error("invalid public key")]
    BadKey,
    #[error("invalid field value")]
    BadValue,
}

impl Message<'_> {
    /// Whether the frame is paid for out of the receive window. Handshake, credit and close frames
    /// are small and bounded in number, so they are free; everything else is paid for.
    pub fn costs_credit(&self) -> bool {
        matches!(
            self,
            Message::Have { .. } | Message::Want(_) | Message::Entries(_)
        )
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::Auth { .. } => "auth",
            Message::Have { .. } => "have",
            Message::Want(_) => "want",
            Message::Entries(_) => "entries",
            Message::Credit(_) => "credit",
            Message::Close(_) => "close",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Message::Hello { version, nonce } => {
                out.push(HELLO);
                put_varint(&mut out, *version);
                out.extend_from_slice(nonce);
            }
            Message::Auth {
                key,
                signature,
                window,
                topics,
            } => {
                out.push(AUTH);
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(signature);
                put_varint(&mut out, *window);
                put_varint(&mut out, topics.len() as u64);
                topics.iter().for_each(|t| out.extend_from_slice(t));
            }
            Message::Have { complete, logs } => {
                out.push(HAVE);
                out.push(u8::from(*complete));
                put_varint(&mut out, logs.len() as u64);
                for have in logs {
                    put_log(&mut out, have.log);
                    put_varint(&mut out, have.height);
                    out.extend_from_slice(&have.head);
                }
            }
            Message::Want(wants) => {
                out.push(WANT);
                put_varint(&mut out, wants.len() as u64);
                for want in wants {
                    put_log(&mut out, want.log);
                    put_varint(&mut out, want.after);
                    put_varint(&mut out, want.until);
                    out.extend_from_slice(&want.head);
                }
            }
            Message::Entries(entries) => {
                out.push(ENTRIES);
                for (entry, payload) in entries {
                    put_entry(&mut out, entry, payload);
                }
            }
            Message::Credit(bytes) => {
                out.push(CREDIT);
                put_varint(&mut out, *bytes);
            }
            Message::Close(reason) => {
                out.push(CLOSE);
                out.push(*reason as u8);
            }
        }
        out
    }

    pub fn decode(frame: &[u8]) -> Result<Message<'_>, WireError> {
        if frame.len() > MAX_FRAME {
            return Err(WireError::Oversized(frame.len()));
        }
        let mut r = Reader(frame);
        let message = match r.byte()? {
            HELLO => Message::Hello {
                version: r.varint()?,
                nonce: r.array()?,
            },
            AUTH => Message::Auth {
                key: PublicKey::from_bytes(r.take(PUBLIC_KEY_LEN)?)
                    .map_err(|_| WireError::BadKey)?,
                signature: r.array()?,
                window: r.varint()?,
                topics: r.list(|r| r.array())?,
            },
            HAVE => Message::Have {
                complete: match r.byte()? {
                    0 => false,
                    1 => true,
                    _ => return Err(WireError::BadValue),
                },
                logs: r.list(|r| {
                    Ok(Have {
                        log: r.log()?,
                        height: r.varint()?,
                        head: r.array()?,
                    })
                })?,
            },
            WANT => Message::Want(r.list(|r| {
                Ok(Want {
                    log: r.log()?,
                    after: r.varint()?,
                    until: r.varint()?,
                    head: r.array()?,
                })
            })?),
            ENTRIES => {
                let mut entries = Vec::new();
                while !r.0.is_empty() {
                    entries.push((r.bytes()?, r.bytes()?));
                }
                Message::Entries(entries)
            }
            CREDIT => Message::Credit(r.varint()?),
            CLOSE => Message::Close(CloseReason::from_code(r.byte()?)),
            kind => return Err(WireError::UnknownKind(kind)),
        };
        match r.0.len() {
            0 => Ok(message),
            n => Err(WireError::TrailingBytes(n)),
        }
    }
}

/// Builds one `Entries` frame up to a size limit, without copying entries twice.
pub struct EntriesFrame {
    bytes: Vec<u8>,
    limit: usize,
    count: usize,
}

impl EntriesFrame {
    pub fn new(limit: usize) -> Self {
        let mut bytes = Vec::with_capacity(limit.min(MAX_FRAME));
        bytes.push(ENTRIES);
        EntriesFrame {
            bytes,
            limit: limit.min(MAX_FRAME),
            count: 0,
        }
    }

    /// Add an entry if it fits; says whether it did.
    pub fn push(&mut self, entry: &[u8], payload: &[u8]) -> bool {
        if self.bytes.len() + encoded_entry_len(entry, payload) > self.limit {
            return false;
        }
        put_entry(&mut self.bytes, entry, payload);
        self.count += 1;
        true
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The size of an `Entries` frame holding just this entry: what must fit in the window to send it.
pub fn single_entry_frame_len(entry: &[u8], payload: &[u8]) -> usize {
    1 + encoded_entry_len(entry, payload)
}

fn encoded_entry_len(entry: &[u8], payload: &[u8]) -> usize {
    varint_len(entry.len() as u64) + entry.len() + varint_len(payload.len() as u64) + payload.len()
}

fn put_entry(out: &mut Vec<u8>, entry: &[u8], payload: &[u8]) {
    put_varint(out, entry.len() as u64);
    out.extend_from_slice(entry);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn put_log(out: &mut Vec<u8>, log: LogKey) {
    out.extend_from_slice(log.author.as_bytes());
    put_varint(out, log.log_id);
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(WireError::BadVarint);
            }
            n |= bits << shift;
            if byte & 0x80 == 0 {
                // Shortest form only: a last byte of zero (after the first) is padding.
                if byte == 0 && shift > 0 {
                    return Err(WireError::BadVarint);
                }
                return Ok(n);
            }
        }
        Err(WireError::BadVarint)
    }

    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
        self.take(len)
    }

    fn log(&mut self) -> Result<LogKey, WireError> {
        Ok(LogKey {
            author: PublicKey::from_bytes(self.take(PUBLIC_KEY_LEN)?)
                .map_err(|_| WireError::BadKey)?,
            log_id: self.varint()?,
        })
    }

    /// A count, then that many items. The count is checked against the bytes left (every item
    /// takes at least one byte) so a forged count cannot make the decoder allocate.
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, WireError>,
    ) -> Result<Vec<T>, WireError> {
        let count = self.varint()?;
        if count > self.0.len() as u64 {
            return Err(WireError::Truncated);
        }
        (0..count).map(|_| item(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyPair;

    fn log() -> LogKey {
        LogKey {
            author: KeyPair::generate().public_key(),
            log_id: 300,
        }
    }

    #[test]
    fn every_message_round_trips() {
        let messages = [
            Message::Hello {
                version: 1,
                nonce: [7; NONCE_LEN],
            },
            Message::Auth {
                key: KeyPair::generate().public_key(),
                signature: [1; SIGNATURE_LEN],
                window: 1 << 18,
                topics: vec![[2; BLINDED_LEN], [3; BLINDED_LEN]],
            },
            Message::Have {
                complete: true,
                logs: vec![Have {
                    log: log(),
                    height: u64::MAX,
                    head: [4; HEAD_LEN],
                }],
            },
            Message::Want(vec![Want {
                log: log(),
                after: 0,
                until: 128,
                head: [0; HEAD_LEN],
            }]),
            Message::Entries(vec![(b"entry", b"payload"), (b"", b"")]),
            Message::Credit(65_536),
            Message::Close(CloseReason::InvalidEntry),
        ];
        for message in messages {
            assert_eq!(Message::decode(&message.encode()).unwrap(), message);
        }
    }

    #[test]
    fn varints_are_shortest_form_and_bounded() {
        for n in [0, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut out = vec![];
            put_varint(&mut out, n);
            assert_eq!(out.len(), varint_len(n));
            assert_eq!(Reader(&out).varint(), Ok(n));
        }
        assert_eq!(Reader(&[0x80, 0x00]).varint(), Err(WireError::BadVarint));
        assert_eq!(Reader(&[0xff; 10]).varint(), Err(WireError::BadVarint));
        assert_eq!(Reader(&[0x80]).varint(), Err(WireError::Truncated));
    }

    #[test]
    fn bad_frames_get_typed_errors() {
        let ok = Message::Credit(5).encode();
        assert_eq!(Message::decode(&[]), Err(WireError::Truncated));
        assert_eq!(Message::decode(&[99]), Err(WireError::UnknownKind(99)));
        assert_eq!(
            Message::decode(&[ok.as_slice(), &[0]].concat()),
            Err(WireError::TrailingBytes(1))
        );
        assert_eq!(
            Message::decode(&vec![ENTRIES; MAX_FRAME + 1]),
            Err(WireError::Oversized(MAX_FRAME + 1))
        );
        // A huge count with nothing behind it.
        assert_eq!(
            Message::decode(&[WANT, 0xff, 0xff, 0xff, 0x0f]),
            Err(WireError::Truncated)
        );
        assert_eq!(Message::decode(&[HAVE, 2, 0]), Err(WireError::BadValue));
    }

    #[test]
    fn entries_frame_stays_under_its_limit() {
        let payload = vec![9; 1000];
        let mut frame = EntriesFrame::new(MAX_FRAME);
        let mut pushed = 0;
        while frame.push(&[1; 300], &payload) {
            pushed += 1;
        }
        let bytes = frame.into_bytes();
        assert!(bytes.len() <= MAX_FRAME && pushed == 12, "{pushed}");
        let Message::Entries(entries) = Message::decode(&bytes).unwrap() else {
            panic!("not entries")
        };
        assert_eq!(entries.len(), pushed);
        assert_eq!(
            single_entry_frame_len(&[1; 300], &payload),
            1 + 2 + 300 + 2 + 1000
        );
    }
}
