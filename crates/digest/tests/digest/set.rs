//! Prefix search in a `DigestSet`, with go-digest's lookup rules.

use imgsvc_digest::{Algorithm, Digest, DigestSet, Error};

fn d(text: &str) -> Digest {
    text.parse().expect("test digests are valid")
}

fn fixture() -> (DigestSet, [Digest; 4]) {
    let digests = [
        d("sha256:1234511111111111111111111111111111111111111111111111111111111111"),
        d("sha256:1234522222222222222222222222222222222222222222222222222222222222"),
        d("sha256:1234533333333333333333333333333333333333333333333333333333333333"),
        d("sha256:5432111111111111111111111111111111111111111111111111111111111111"),
    ];
    (digests.into_iter().collect(), digests)
}

#[test]
fn unique_prefixes_find_their_digest() {
    let (set, [a, b, c, e]) = fixture();
    assert_eq!(set.lookup("123451"), Ok(a));
    assert_eq!(set.lookup("123452"), Ok(b));
    assert_eq!(set.lookup("sha256:123453"), Ok(c));
    assert_eq!(set.lookup("5"), Ok(e));
    assert_eq!(set.lookup(&e.to_string()), Ok(e));
    assert_eq!(set.lookup(&e.encoded()), Ok(e));
}

#[test]
fn shared_prefixes_are_ambiguous() {
    let (set, _) = fixture();
    for prefix in ["1", "12345", "sha256:12345", ""] {
        assert!(
            matches!(set.lookup(prefix), Err(Error::Ambiguous { .. })),
            "{prefix:?}"
        );
    }
}

#[test]
fn absent_prefixes_are_not_found() {
    let (set, [a, ..]) = fixture();
    let absent = [
        "6",
        "123456",
        "sha512:1234511",
        "sha384:5",
        "ABCD",
        "1234511111111111111111111111111111111111111111111111111111111111111",
        "sha256:12345G",
        "md5:1234",
    ];
    for prefix in absent {
        assert!(
            matches!(set.lookup(prefix), Err(Error::NotFound { .. })),
            "{prefix:?}"
        );
    }
    let mut without_a = set.clone();
    assert!(without_a.remove(&a));
    assert!(matches!(
        without_a.lookup(&a.to_string()),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(without_a.len(), 3);
}

#[test]
fn the_empty_prefix_finds_the_only_digest() {
    let only = Digest::from_bytes(b"only");
    let set: DigestSet = [only].into_iter().collect();
    assert_eq!(set.lookup(""), Ok(only));
    assert!(matches!(
        DigestSet::new().lookup(""),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn an_algorithm_constraint_skips_other_algorithms() {
    let a256 = Algorithm::Sha256.hash(b"x");
    let a512 = Digest::from_raw(
        Algorithm::Sha512,
        &[a256.as_bytes(), a256.as_bytes()].concat(),
    )
    .expect("64 bytes");
    let set: DigestSet = [a256, a512].into_iter().collect();
    let prefix = &a256.encoded()[..10];
    assert!(matches!(set.lookup(prefix), Err(Error::Ambiguous { .. })));
    assert_eq!(set.lookup(&format!("sha256:{prefix}")), Ok(a256));
    assert_eq!(set.lookup(&format!("sha512:{prefix}")), Ok(a512));
}

#[test]
fn duplicate_inserts_and_absent_removes_change_nothing() {
    let (mut set, [a, ..]) = fixture();
    assert!(!set.insert(a));
    assert_eq!(set.len(), 4);
    assert!(!set.remove(&Digest::from_bytes(b"never added")));
    assert_eq!(set.len(), 4);
    let extended: DigestSet = set.iter().chain(set.iter()).collect();
    assert_eq!(extended, set);
}

#[test]
fn a_large_set_agrees_with_a_linear_scan() {
    let digests: Vec<Digest> = (0u32..2000)
        .map(|i| Digest::from_bytes(&i.to_le_bytes()))
        .collect();
    let set: DigestSet = digests.iter().copied().collect();
    for probe in digests.iter().step_by(37) {
        for len in [1, 2, 3, 4, 5, 12] {
            let prefix = &probe.encoded()[..len];
            let matches: Vec<&Digest> = digests
                .iter()
                .filter(|d| d.encoded().starts_with(prefix))
                .collect();
            match (set.lookup(prefix), matches.as_slice()) {
                (Ok(found), [only]) => assert_eq!(found, **only),
                (Err(Error::Ambiguous { .. }), [_, _, ..]) => {}
                (result, matches) => panic!("{prefix}: {result:?} but {} matches", matches.len()),
            }
        }
    }
}
