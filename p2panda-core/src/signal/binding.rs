//! The channel binding both ends of a link compute identically, signed by the sync handshake so
//! that a key proof made on one connection cannot be replayed on another.
//!
//! Pure string work with no browser API, so the native link can use the very same rule.

/// The binding of a connection from its two session descriptions, exactly as exchanged.
///
/// Rule: from each description take the value of its `a=fingerprint:` lines (session- or
/// media-level), with runs of whitespace collapsed to one space and ASCII letters lowercased
/// (RFC 8122 compares the hex case-insensitively). Each description must carry exactly one
/// distinct value, of the form `<hash-function> <fingerprint>`. The binding is the two values
/// sorted bytewise and joined with `"\n"`, so both ends, whichever is local, get the same bytes.
///
/// Returns `None` when a description has no fingerprint, more than one distinct fingerprint, or
/// a malformed one.
pub fn binding_of(local_sdp: &str, remote_sdp: &str) -> Option<Vec<u8>> {
    let (local, remote) = (fingerprint(local_sdp)?, fingerprint(remote_sdp)?);
    let (first, second) = if local <= remote {
        (local, remote)
    } else {
        (remote, local)
    };
    Some(format!("{first}\n{second}").into_bytes())
}

/// The one distinct, normalised fingerprint value of a description.
fn fingerprint(sdp: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in sdp.lines() {
        let Some(value) = line.strip_prefix("a=fingerprint:") else {
            continue;
        };
        let parts: Vec<&str> = value.split_whitespace().collect();
        let [hash, digest] = parts.as_slice() else {
            return None;
        };
        let value = format!("{hash} {digest}").to_ascii_lowercase();
        match &found {
            None => found = Some(value),
            Some(seen) if *seen == value => {}
            Some(_) => return None,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=application 9\r\na=fingerprint:sha-256 AB:CD\r\n";
    const B: &str = "v=0\r\nm=application 9\r\na=fingerprint:sha-256  01:ff\r\n";

    #[test]
    fn both_ends_agree() {
        let binding = binding_of(A, B).expect("both have one fingerprint");
        assert_eq!(binding_of(B, A), Some(binding.clone()));
        assert_eq!(binding, b"sha-256 01:ff\nsha-256 ab:cd".to_vec());
    }

    #[test]
    fn refuses_missing_ambiguous_or_malformed_fingerprints() {
        assert_eq!(binding_of("v=0\r\n", B), None);
        let two = "a=fingerprint:sha-256 AB:CD\r\na=fingerprint:sha-256 AB:CE\r\n";
        assert_eq!(binding_of(two, B), None);
        assert_eq!(binding_of("a=fingerprint:sha-256\r\n", B), None);
        assert_eq!(binding_of("a=fingerprint:sha-256 AB CD\r\n", B), None);
    }

    #[test]
    fn same_certificate_on_both_sides_still_gives_two_entries() {
        assert_eq!(
            binding_of(B, B),
            Some(b"sha-256 01:ff\nsha-256 01:ff".to_vec())
        );
    }
}
