//! A deterministic mix of realistic image references, for the parse benchmark.

/// Names seen on every registry, with and without an organisation.
const NAMES: &[&str] = &[
    "ubuntu",
    "nginx",
    "redis",
    "postgres",
    "alpine",
    "busybox",
    "node",
    "python",
    "golang",
    "library/nginx",
    "library/debian",
    "bitnami/redis",
    "grafana/grafana",
    "prom/prometheus",
    "org/app",
    "team/payments-api",
    "acme/web_frontend",
    "data-eng/etl.worker",
];

/// Registry hosts as people write them: public, private with a port, IPv4, IPv6, localhost.
const DOMAINS: &[&str] = &[
    "docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.gitlab.com",
    "public.ecr.aws",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "registry.local:5000",
    "localhost:5000",
    "10.0.0.12:5000",
    "[fc00::1]:5000",
    "[2001:db8::17]",
    "Registry.Example.COM",
];

/// Tags as people write them.
const TAGS: &[&str] = &[
    "latest",
    "1.25",
    "1.25.3-alpine",
    "v1.2.3",
    "24.04",
    "3.12-slim-bookworm",
    "main",
    "sha-abc123",
    "2024-06-01_nightly",
    "RELEASE.2024-05-01T00-00-00Z",
];

/// A small xorshift64 generator: the same sequence on every run and machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// One of `items` (never empty here).
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX).max(1);
        let index = usize::try_from(self.next() % len).unwrap_or_default();
        items.get(index).copied().unwrap_or_default()
    }

    /// 64 lowercase hex digits.
    fn hex64(&mut self) -> String {
        (0..4).map(|_| format!("{:016x}", self.next())).collect()
    }
}

/// `count` realistic references, the same on every run: short names, names with tags,
/// registries with ports, IPv6 hosts, digests, and tag plus digest, in proportions like those
/// of a real tag store.
///
/// ```
/// let mix = imgsvc_benches::reference_mix(100);
/// assert_eq!(mix.len(), 100);
/// assert_eq!(mix, imgsvc_benches::reference_mix(100));
/// ```
pub fn reference_mix(count: usize) -> Vec<String> {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    (0..count)
        .map(|_| {
            let shape = rng.next() % 10;
            let name = rng.pick(NAMES);
            match shape {
                0 => name.to_owned(),
                1..=3 => format!("{name}:{}", rng.pick(TAGS)),
                4..=6 => format!("{}/{name}:{}", rng.pick(DOMAINS), rng.pick(TAGS)),
                7 => format!("{name}@sha256:{}", rng.hex64()),
                8 => format!("{}/{name}@sha256:{}", rng.pick(DOMAINS), rng.hex64()),
                _ => format!(
                    "{}/{name}:{}@sha256:{}",
                    rng.pick(DOMAINS),
                    rng.pick(TAGS),
                    rng.hex64()
                ),
            }
        })
        .collect()
}
