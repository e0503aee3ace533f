//! Checks on session descriptions that need no browser.

use std::net::IpAddr;

/// Refuses a description that offers any ICE candidate whose address is not a loopback address
/// (`127.0.0.0/8`, `::1`), or that offers no candidate at all. mDNS (`*.local`) candidates are
/// refused too: their address is not known to be loopback.
pub(crate) fn check_loopback(sdp: &str) -> Result<(), String> {
    let mut candidates = 0;
    for line in sdp.lines() {
        let Some(candidate) = line.strip_prefix("a=candidate:") else {
            continue;
        };
        // <foundation> <component> <transport> <priority> <address> <port> typ ...
        let address = candidate.split_whitespace().nth(4);
        let loopback = address
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!("non-loopback ICE candidate: {line}"));
        }
        candidates += 1;
    }
    if candidates == 0 {
        return Err("no ICE candidate in the description".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0";

    #[test]
    fn accepts_loopback_only() {
        assert!(check_loopback(&format!("v=0\r\n{HOST}\r\n")).is_ok());
        assert!(check_loopback("a=candidate:2 1 udp 1 ::1 9 typ host\r\n").is_ok());
    }

    #[test]
    fn refuses_other_addresses_and_none() {
        assert!(check_loopback("v=0\r\n").is_err());
        let lan = format!("{HOST}\r\na=candidate:2 1 udp 1 192.168.1.2 9 typ host\r\n");
        assert!(check_loopback(&lan).is_err());
        assert!(check_loopback("a=candidate:3 1 udp 1 abc.local 9 typ host\r\n").is_err());
        assert!(check_loopback("a=candidate:3 1 udp\r\n").is_err());
    }
}
