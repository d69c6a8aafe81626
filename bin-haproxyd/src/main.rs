//! haproxyd: flags, signals and wiring around the proxy-core engine.

fn main() {}
