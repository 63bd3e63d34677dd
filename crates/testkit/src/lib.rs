//! Test support for imgsvc (work in progress).
