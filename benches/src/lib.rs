//! Helpers shared by the criterion benches and the side-by-side runs against
//! HAProxy and keepalived.
