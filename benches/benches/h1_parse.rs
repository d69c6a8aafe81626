//! HTTP/1.1 head parsing.
fn main() {}
