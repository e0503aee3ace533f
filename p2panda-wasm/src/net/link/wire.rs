//! The messages on a link's data channel: one tag byte, then the body. Shared with the native
//! link in `tests/src/webrtc_link.rs`, so every constant here is part of the wire protocol.

/// Largest frame a link carries (the body of a [`TAG_FRAME`] message).
pub const MAX_FRAME: usize = 16 * 1024;
/// Largest signaling message a link carries (the body of a [`TAG_SIGNAL`] message).
pub const MAX_SIGNAL: usize = 16 * 1024;
/// Tag of a message carrying one frame.
pub const TAG_FRAME: u8 = 0;
/// Tag of a message granting the remote sender credit for more frames (body: `u32` LE count).
pub const TAG_CREDIT: u8 = 1;
/// Tag of a message carrying one opaque signaling message relayed over the overlay.
pub const TAG_SIGNAL: u8 = 2;
/// Frames each side may send before it has received any credit; also the most frames a
/// receiver ever holds that its application has not taken yet.
pub const RECV_WINDOW_FRAMES: u32 = 32;
/// Credit is returned in batches of this many taken frames, not one message per frame.
pub const CREDIT_BATCH: u32 = 8;

/// A decoded message from the remote end.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    Frame(Vec<u8>),
    Credit(u32),
    Signal(Vec<u8>),
}

/// Decodes one data-channel message. The error describes the violation (for
/// `LinkError::Protocol`); nothing here panics on any input.
pub(crate) fn decode(mut message: Vec<u8>) -> Result<Incoming, String> {
    let Some(&tag) = message.first() else {
        return Err("an empty message".into());
    };
    let body_len = message.len() - 1;
    match tag {
        TAG_FRAME | TAG_SIGNAL => {
            let (limit, what) = if tag == TAG_FRAME {
                (MAX_FRAME, "frame")
            } else {
                (MAX_SIGNAL, "signal")
            };
            if body_len > limit {
                return Err(format!("a {what} of {body_len} bytes (limit {limit})"));
            }
            // Shifts the body down in place: no second allocation.
            message.remove(0);
            Ok(if tag == TAG_FRAME {
                Incoming::Frame(message)
            } else {
                Incoming::Signal(message)
            })
        }
        TAG_CREDIT => match <[u8; 4]>::try_from(&message[1..]) {
            Ok(count) => Ok(Incoming::Credit(u32::from_le_bytes(count))),
            Err(_) => Err(format!("a credit message with a {body_len}-byte body")),
        },
        other => Err(format!("a message with unknown tag {other}")),
    }
}

/// `tag` followed by `body`.
pub(crate) fn encode(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(1 + body.len());
    message.push(tag);
    message.extend_from_slice(body);
    message
}

/// A credit message granting `count` more frames.
pub(crate) fn encode_credit(count: u32) -> [u8; 5] {
    let [a, b, c, d] = count.to_le_bytes();
    [TAG_CREDIT, a, b, c, d]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(
            decode(encode(TAG_FRAME, b"abc")),
            Ok(Incoming::Frame(b"abc".to_vec()))
        );
        assert_eq!(decode(encode(TAG_FRAME, b"")), Ok(Incoming::Frame(vec![])));
        assert_eq!(
            decode(encode(TAG_SIGNAL, b"hi")),
            Ok(Incoming::Signal(b"hi".to_vec()))
        );
        assert_eq!(
            decode(encode_credit(0x0102_0304).to_vec()),
            Ok(Incoming::Credit(0x0102_0304))
        );
        assert_eq!(encode_credit(8), [1, 8, 0, 0, 0]);
    }

    #[test]
    fn refuses_malformed_messages() {
        assert!(decode(vec![]).is_err());
        assert!(decode(vec![3]).is_err());
        assert!(decode(vec![255, 1, 2]).is_err());
        assert!(decode(vec![TAG_CREDIT, 1, 0, 0]).is_err());
        assert!(decode(vec![TAG_CREDIT, 1, 0, 0, 0, 0]).is_err());
        assert!(decode(encode(TAG_FRAME, &vec![0; MAX_FRAME + 1])).is_err());
        assert!(decode(encode(TAG_SIGNAL, &vec![0; MAX_SIGNAL + 1])).is_err());
        assert!(decode(encode(TAG_FRAME, &vec![0; MAX_FRAME])).is_ok());
    }
}
