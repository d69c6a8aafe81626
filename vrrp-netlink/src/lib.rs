//! The Linux side of keepalivedd: raw IP protocol 112 sockets, multicast
//! membership, virtual addresses through rtnetlink, gratuitous ARP and unsolicited
//! neighbour advertisements, and link state.
//!
//! The only crate of the workspace that holds `unsafe` code.
