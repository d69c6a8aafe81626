//! HAProxy's load-balancing algorithms over a weighted set of servers.
//!
//! A balancer is built from a server list and picks a server for a request key;
//! server health, weight and administrative state are inputs given by the caller.
//! Pure selection: no clock, no IO, no health checking.
