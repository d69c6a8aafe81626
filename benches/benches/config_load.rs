//! Configuration loading at scale.
fn main() {}
