//! Invite codes: pairing two nodes with no infrastructure at all. One side makes a code (its
//! complete WebRTC offer), the other turns it into an answer code, the first takes that; any
//! channel the two people have (chat, QR, paper) carries the codes.

use wasm_bindgen::JsValue;

use super::link::{self};
use super::overlay::{Overlay, Via};
use crate::error::{invalid_argument, IntoJsResult};

const OFFER_PREFIX: &str = "p2panda-offer:";
const ANSWER_PREFIX: &str = "p2panda-answer:";

fn encode(prefix: &str, sdp: &str) -> String {
    format!("{prefix}{}", base64_encode(sdp.as_bytes()))
}

fn decode(prefix: &str, code: &str) -> Result<String, JsValue> {
    let body = code.trim().strip_prefix(prefix).ok_or_else(|| {
        invalid_argument(&format!(
            "not an invite code: it must start with \"{prefix}\""
        ))
    })?;
    let bytes =
        base64_decode(body).ok_or_else(|| invalid_argument("the invite code is damaged"))?;
    String::from_utf8(bytes).map_err(|_| invalid_argument("the invite code is damaged"))
}

/// Step 1: an offer code. A later call replaces an unanswered code.
pub async fn create(overlay: &Overlay) -> Result<String, JsValue> {
    let config = overlay.0.borrow().link_config.clone();
    let pending = link::offer(&config).await.js()?;
    let code = encode(OFFER_PREFIX, pending.local_sdp());
    overlay.0.borrow_mut().pending_invite = Some(pending);
    Ok(code)
}

/// Step 2: answer someone's offer code. The link joins the overlay once it opens.
pub async fn accept(overlay: &Overlay, code: &str) -> Result<String, JsValue> {
    let offer = decode(OFFER_PREFIX, code)?;
    let config = overlay.0.borrow().link_config.clone();
    let (pending, answer) = link::answer(&config, &offer).await.js()?;
    let overlay = overlay.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(link) = pending.open().await {
            overlay.register(link, None, Via::Invite);
        }
    });
    Ok(encode(ANSWER_PREFIX, &answer))
}

/// Step 3: take the answer code; resolves once the link is open.
pub async fn complete(overlay: &Overlay, code: &str) -> Result<(), JsValue> {
    let answer = decode(ANSWER_PREFIX, code)?;
    let pending = overlay
        .0
        .borrow_mut()
        .pending_invite
        .take()
        .ok_or_else(|| invalid_argument("no invite is waiting for an answer: create one first"))?;
    let link = pending.accept_answer(&answer).await.js()?;
    overlay.register(link, None, Via::Invite);
    Ok(())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding: survives chat apps and URLs.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut n, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = ALPHABET.iter().position(|a| *a == c)? as u32;
        n = n << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((n >> bits) as u8);
            n &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..50 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64_encode(b"panda"), "cGFuZGE");
        assert!(base64_decode("not*base64").is_none());
    }
}
