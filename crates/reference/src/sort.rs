//! Docker's display order for lists of references (`reference.Sort`).

use crate::{AnyReference, parse_any_reference};

/// Sorts reference strings the way Docker lists them: each is parsed with
/// [`parse_any_reference`] and written back in canonical form, ordered first by kind — name
/// with tag and digest, name with tag, name with digest, bare name, digest alone — then by
/// text; strings that do not parse follow, sorted, as they were given.
///
/// ```
/// let sorted = imgsvc_reference::sort(&["ubuntu", "debian:12", "alpine:3", "not valid!"]);
/// assert_eq!(
///     sorted,
///     ["docker.io/library/alpine:3", "docker.io/library/debian:12", "docker.io/library/ubuntu", "not valid!"]
/// );
/// ```
pub fn sort<S: AsRef<str>>(references: &[S]) -> Vec<String> {
    let mut parsed: Vec<(u8, String)> = Vec::with_capacity(references.len());
    let mut unparsed: Vec<String> = Vec::new();
    for text in references {
        match parse_any_reference(text.as_ref()) {
            Ok(reference) => parsed.push((rank(&reference), reference.to_string())),
            Err(_) => unparsed.push(text.as_ref().to_owned()),
        }
    }
    parsed.sort();
    unparsed.sort();
    parsed
        .into_iter()
        .map(|(_, text)| text)
        .chain(unparsed)
        .collect()
}

/// The kind rank of a reference in [`sort`]: fuller references first.
fn rank(reference: &AnyReference) -> u8 {
    match reference {
        AnyReference::Named(r) => match (r.tag().is_some(), r.digest().is_some()) {
            (true, true) => 1,
            (true, false) => 2,
            (false, true) => 3,
            (false, false) => 4,
        },
        AnyReference::Digest(_) => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_in_order_then_text() {
        let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let input = [
            digest.to_owned(),
            "b".to_owned(),
            format!("a@{digest}"),
            "a:1".to_owned(),
            format!("a:1@{digest}"),
            "UPPER".to_owned(),
            "a".to_owned(),
        ];
        let expected = [
            format!("docker.io/library/a:1@{digest}"),
            "docker.io/library/a:1".to_owned(),
            format!("docker.io/library/a@{digest}"),
            "docker.io/library/a".to_owned(),
            "docker.io/library/b".to_owned(),
            digest.to_owned(),
            "UPPER".to_owned(),
        ];
        assert_eq!(sort(&input), expected);
    }
}
