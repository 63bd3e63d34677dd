//! `tarsplit`: tar-split metadata in Docker's format, and exact reassembly of every fixture.

mod assemble;
mod docker_format;
mod properties;
mod round_trip;
mod unpacker;
