//! balancer picks.
fn main() {}
