//! keepalivedd: flags, signals and wiring around vrrp-core and vrrp-netlink.

fn main() {}
