//! VRRP advert encode and decode.
fn main() {}
