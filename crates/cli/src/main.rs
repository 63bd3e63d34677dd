//! `imgsvc`: a daemonless `docker image` (being written).

fn main() {}
