//! ACL evaluation.
fn main() {}
