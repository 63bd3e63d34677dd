//! Random IDs for driver layers and mounts: 32 random bytes as 64 lowercase hex digits.

use imgsvc_digest::{Algorithm, Digest};

/// A new random ID, Docker-style: 64 lowercase hex digits whose first 12 are not all digits
/// (so a short ID never reads as a number).
pub(crate) fn generate() -> std::io::Result<String> {
    loop {
        let mut bytes = [0u8; 32];
        let mut filled = 0;
        while filled < bytes.len() {
            let rest = bytes.get_mut(filled..).unwrap_or_default();
            filled += rustix::rand::getrandom(rest, rustix::rand::GetRandomFlags::empty())?;
        }
        // The hex form of the bytes; `Digest` gives the encoding without allocation tricks.
        let hex = Digest::from_raw(Algorithm::Sha256, &bytes)
            .map_err(std::io::Error::other)?
            .encoded()
            .to_string();
        if !hex.bytes().take(12).all(|c| c.is_ascii_digit()) {
            return Ok(hex);
        }
    }
}

/// True if `id` is 64 lowercase hex digits.
pub(crate) fn is_valid(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_not_starting_with_twelve_digits() {
        let a = generate().expect("the kernel gives random bytes");
        let b = generate().expect("the kernel gives random bytes");
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert!(is_valid(id), "{id}");
            assert!(!id.bytes().take(12).all(|c| c.is_ascii_digit()));
        }
        assert!(!is_valid("ABC"));
    }
}
