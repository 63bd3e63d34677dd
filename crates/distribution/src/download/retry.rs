//! Which download errors are worth another attempt, and how long to wait before it.

use std::time::Duration;

use imgsvc_registry_transport::Error as TransportError;

use crate::error::Error;

/// The longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Whether `err` may go away on its own: connection trouble, timeouts, 5xx, 408, 429, and a
/// `Range` answer that did not fit (the next attempt starts over). Not: other 4xx (auth,
/// unknown blob), digest or size mismatches (the registry lies), cancellation, or errors of
/// decompression and registration.
pub(crate) fn is_transient(err: &Error) -> bool {
    match err {
        Error::Transport(TransportError::Http { .. }) => true,
        Error::Transport(TransportError::Registry(answer)) => {
            answer.status >= 500 || matches!(answer.status, 408 | 429)
        }
        Error::BadRange { .. } => true,
        Error::Shared(inner) => is_transient(inner),
        _ => false,
    }
}

/// The wait before attempt `attempt + 1` (after `attempt` failures, from 1): the registry's
/// `Retry-After` when it gave one (capped), else `base` doubled per failure (capped).
pub(crate) fn delay(err: &Error, attempt: u32, base: Duration) -> Duration {
    if let Error::Transport(TransportError::Registry(answer)) = err
        && let Some(after) = answer.retry_after
    {
        return after.min(MAX_DELAY);
    }
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgsvc_registry_transport::envelope::ErrorResponse;

    fn answer(status: u16, retry_after: Option<&str>) -> Error {
        Error::Transport(TransportError::Registry(ErrorResponse::parse(
            status,
            b"",
            retry_after,
        )))
    }

    #[test]
    fn transient_errors_are_retried_and_lies_are_not() {
        for status in [500, 502, 503, 408, 429] {
            assert!(is_transient(&answer(status, None)), "{status}");
        }
        for status in [400, 401, 403, 404, 416] {
            assert!(!is_transient(&answer(status, None)), "{status}");
        }
        let digest = imgsvc_digest::Digest::from_bytes(b"x");
        assert!(!is_transient(&Error::DigestMismatch {
            what: crate::Object::Blob,
            expected: digest,
            actual: digest
        }));
        assert!(!is_transient(&Error::Cancelled));
    }

    #[test]
    fn delays_grow_and_honour_retry_after() {
        let base = Duration::from_millis(250);
        let err = answer(500, None);
        let waits: Vec<_> = (1..=5).map(|a| delay(&err, a, base).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000]);
        assert_eq!(
            delay(&answer(429, Some("3")), 1, base),
            Duration::from_secs(3)
        );
        assert_eq!(delay(&answer(503, Some("9999")), 1, base), MAX_DELAY);
    }
}
