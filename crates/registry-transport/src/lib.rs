//! Talking to container registries the way Docker does (work in progress).
