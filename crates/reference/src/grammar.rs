//! The distribution reference grammar, as small matchers over bytes.
//!
//! Each function decides one production of the grammar, for the whole of its input (as an
//! anchored regular expression would). Together they accept exactly the language of Docker's
//! reference regular expressions, without backtracking; the crate's tests compare them with a
//! regular-expression oracle built from the upstream grammar.

/// `[a-z0-9]`
fn is_alphanumeric(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// path-component: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
pub(crate) fn is_path_component(s: &[u8]) -> bool {
    let mut i = 0;
    loop {
        // One run of alphanumerics, at least one character long.
        let start = i;
        while s.get(i).is_some_and(|&c| is_alphanumeric(c)) {
            i += 1;
        }
        if i == start {
            return false;
        }
        // Then the end, or a separator followed by another run.
        match s.get(i) {
            None => return true,
            Some(b'.') => i += 1,
            Some(b'_') => i += if s.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            Some(b'-') => {
                while s.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            Some(_) => return false,
        }
    }
}

/// remote-name: path-component, then any number of `/` path-component.
pub(crate) fn is_remote_name(s: &[u8]) -> bool {
    s.split(|&c| c == b'/').all(is_path_component)
}

/// domain-name-component: `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(s: &[u8]) -> bool {
    match (s.first(), s.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && s.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }
        _ => false,
    }
}

/// domain-name: domain-name-component, then any number of `.` domain-name-component.
fn is_domain_name(s: &[u8]) -> bool {
    s.split(|&c| c == b'.').all(is_domain_component)
}

/// ipv6address: `\[[a-fA-F0-9:]+\]`
fn is_ipv6_address(s: &[u8]) -> bool {
    match s {
        [b'[', inner @ .., b']'] => {
            !inner.is_empty() && inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':')
        }
        _ => false,
    }
}

/// `[0-9]+`
fn is_port(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// domain (host and optional port): `(?:domain-name|ipv6address)(?::[0-9]+)?`
pub(crate) fn is_domain(s: &[u8]) -> bool {
    // A domain name has no `:` and an IPv6 address ends at its `]`, so the port (if any)
    // starts at the first `:` after the host.
    let host_end = if s.first() == Some(&b'[') {
        match s.iter().position(|&c| c == b']') {
            Some(close) => close + 1,
            None => return false,
        }
    } else {
        s.iter().position(|&c| c == b':').unwrap_or(s.len())
    };
    let (host, port) = s.split_at(host_end);
    let host_ok = if host.first() == Some(&b'[') {
        is_ipv6_address(host)
    } else {
        is_domain_name(host)
    };
    host_ok
        && match port.split_first() {
            None => true,
            Some((b':', digits)) => is_port(digits),
            Some(_) => false,
        }
}

/// The longest tag: `[\w][\w.-]{0,127}` is at most 128 characters.
pub(crate) const TAG_MAX: usize = 128;

/// tag: `[\w][\w.-]{0,127}` where `\w` is `[0-9A-Za-z_]`.
pub(crate) fn is_tag(s: &[u8]) -> bool {
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    match s.split_first() {
        Some((&first, rest)) => {
            s.len() <= TAG_MAX
                && is_word(first)
                && rest.iter().all(|&c| is_word(c) || c == b'.' || c == b'-')
        }
        None => false,
    }
}

/// The digest part of a reference, as the reference grammar sees it (looser than a valid
/// digest, which is checked afterwards):
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
pub(crate) fn is_reference_digest(s: &[u8]) -> bool {
    let Some(colon) = s.iter().position(|&c| c == b':') else {
        return false;
    };
    let (algorithm, encoded) = s.split_at(colon);
    let encoded = encoded.get(1..).unwrap_or_default();
    let component_ok = |component: &[u8]| match component.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        None => false,
    };
    algorithm
        .split(|&c| matches!(c, b'-' | b'_' | b'+' | b'.'))
        .all(component_ok)
        && encoded.len() >= 32
        && encoded.iter().all(u8::is_ascii_hexdigit)
}

/// identifier: `[a-f0-9]{64}`, an image ID without its algorithm.
pub(crate) fn is_identifier(s: &[u8]) -> bool {
    s.len() == 64
        && s.iter()
            .all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components_and_their_separators() {
        for ok in [
            "a",
            "a0",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a.b_c__d-e",
        ] {
            assert!(is_path_component(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "A", ".a", "a.", "a..b", "a___b", "a_.b", "-a", "a-", "a/b", "a b",
        ] {
            assert!(!is_path_component(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn remote_names_need_every_component() {
        assert!(is_remote_name(b"library/ubuntu"));
        assert!(!is_remote_name(b"library//ubuntu"));
        assert!(!is_remote_name(b"/ubuntu"));
        assert!(!is_remote_name(b"ubuntu/"));
        assert!(!is_remote_name(b""));
    }

    #[test]
    fn domains_hosts_and_ports() {
        for ok in [
            "localhost",
            "localhost:5000",
            "Docker.IO",
            "a-b.c",
            "127.0.0.1:80",
            "[::1]",
            "[fc00::1]:5000",
            "xn--bcher-kva.example",
        ] {
            assert!(is_domain(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "-a", "a-", "a..b", ".a", "a:", "a:b", "[::1", "[]", "[::g]", "[::1]x", "a_b",
            "[::1]:", "a:5000:1",
        ] {
            assert!(!is_domain(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn tags_are_words_up_to_128() {
        assert!(is_tag(b"latest"));
        assert!(is_tag(b"_"));
        assert!(is_tag(b"V1.2-rc_3"));
        assert!(is_tag("a".repeat(128).as_bytes()));
        assert!(!is_tag("a".repeat(129).as_bytes()));
        assert!(!is_tag(b""));
        assert!(!is_tag(b".a"));
        assert!(!is_tag(b"-a"));
        assert!(!is_tag(b"a/b"));
    }

    #[test]
    fn reference_digests_are_looser_than_digests() {
        let hex32 = "0123456789abcdefABCDEF0123456789";
        assert!(is_reference_digest(format!("sha256:{hex32}").as_bytes()));
        assert!(is_reference_digest(
            format!("Sha256+b64.x-y_z:{hex32}").as_bytes()
        ));
        assert!(!is_reference_digest(
            format!("sha256:{}", &hex32[..31]).as_bytes()
        ));
        assert!(!is_reference_digest(format!("2sha:{hex32}").as_bytes()));
        assert!(!is_reference_digest(format!("sha--256:{hex32}").as_bytes()));
        assert!(!is_reference_digest(format!(":{hex32}").as_bytes()));
        assert!(!is_reference_digest(format!("sha256:{hex32}g").as_bytes()));
    }
}
