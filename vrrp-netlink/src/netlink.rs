//! NETLINK_ROUTE through rtnetlink: interface facts, adding and removing virtual
//! addresses, and a subscription to link notifications (RTMGRP_LINK).
//!
//! Each [`Netlink`] or [`LinkWatcher`] owns one netlink socket whose connection task runs
//! on the current tokio runtime and stops when the value is dropped. Sockets belong to
//! the network namespace of the thread that creates them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{Handle, MulticastGroup};
use tokio::task::JoinHandle;

use crate::Error;

/// Longest interface or address label the kernel accepts (IFNAMSIZ - 1).
pub const MAX_LABEL_LEN: usize = 15;

/// `scope` of a virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// `global` (universe), the default.
    #[default]
    Global,
    /// `site`.
    Site,
    /// `link`.
    Link,
    /// `host`.
    Host,
    /// `nowhere`.
    Nowhere,
}

impl Scope {
    fn to_netlink(self) -> AddressScope {
        match self {
            Scope::Global => AddressScope::Universe,
            Scope::Site => AddressScope::Site,
            Scope::Link => AddressScope::Link,
            Scope::Host => AddressScope::Host,
            Scope::Nowhere => AddressScope::Nowhere,
        }
    }
}

/// A virtual address as `ip addr add ADDR/PREFIX [brd B] dev DEV [scope S] [label L]`
/// would configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Interface name.
    pub dev: String,
    /// Address label (IPv4 only).
    pub label: Option<String>,
    /// Scope.
    pub scope: Scope,
    /// Broadcast address (IPv4 only); none is set when absent, as `ip addr add`.
    pub broadcast: Option<Ipv4Addr>,
}

impl Vip {
    /// `addr/prefix dev dev`, global scope, no label, no broadcast.
    pub fn new(addr: IpAddr, prefix: u8, dev: impl Into<String>) -> Vip {
        Vip {
            addr,
            prefix,
            dev: dev.into(),
            label: None,
            scope: Scope::Global,
            broadcast: None,
        }
    }

    /// Checks the fields the kernel would reject or silently ignore.
    pub fn validate(&self) -> Result<(), Error> {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        let bad = |why: String| Err(Error::InvalidArgument(format!("VIP {}: {why}", self.addr)));
        if self.prefix > max {
            return bad(format!("prefix length {} exceeds {max}", self.prefix));
        }
        if self.dev.is_empty() || self.dev.len() > MAX_LABEL_LEN {
            return bad(format!(
                "interface name '{}' is empty or too long",
                self.dev
            ));
        }
        if let Some(l) = &self.label {
            if self.addr.is_ipv6() {
                return bad("a label applies to IPv4 addresses only".into());
            }
            if l.is_empty() || l.len() > MAX_LABEL_LEN || l.contains('\0') {
                return bad(format!("label '{l}' must be 1 to {MAX_LABEL_LEN} bytes"));
            }
        }
        if self.broadcast.is_some() && self.addr.is_ipv6() {
            return bad("a broadcast address applies to IPv4 addresses only".into());
        }
        Ok(())
    }

    fn message(&self, index: u32) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.index = index;
        m.header.prefix_len = self.prefix;
        m.header.scope = self.scope.to_netlink();
        match self.addr {
            IpAddr::V4(_) => m.header.family = AddressFamily::Inet,
            IpAddr::V6(_) => {
                m.header.family = AddressFamily::Inet6;
                // usable at once, as keepalived adds IPv6 VIPs: no duplicate detection
                m.header.flags = AddressHeaderFlags::Nodad;
            }
        }
        m.attributes.push(AddressAttribute::Local(self.addr));
        m.attributes.push(AddressAttribute::Address(self.addr));
        if let Some(b) = self.broadcast {
            m.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = &self.label {
            m.attributes.push(AddressAttribute::Label(l.clone()));
        }
        m
    }
}

/// Operational state of a link (RFC 2863, `IFLA_OPERSTATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperState {
    /// Up and ready to send.
    Up,
    /// Down.
    Down,
    /// Down because a lower layer is (e.g. a veth whose peer is down).
    LowerLayerDown,
    /// Not up but waiting for an external event.
    Dormant,
    /// The driver does not report it (loopback, some virtual devices).
    Unknown,
    /// Any other state.
    Other,
}

impl From<State> for OperState {
    fn from(s: State) -> OperState {
        match s {
            State::Up => OperState::Up,
            State::Down => OperState::Down,
            State::LowerLayerDown => OperState::LowerLayerDown,
            State::Dormant => OperState::Dormant,
            State::Unknown => OperState::Unknown,
            _ => OperState::Other,
        }
    }
}

/// What VRRP needs to know about an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Name.
    pub name: String,
    /// Index.
    pub index: u32,
    /// Ethernet address, when the link has a 6-byte one.
    pub mac: Option<[u8; 6]>,
    /// Operational state.
    pub oper_state: OperState,
    /// Administratively up and running (IFF_UP and IFF_RUNNING): keepalived's test.
    pub up: bool,
    /// The primary IPv4 address: the first that is not secondary.
    pub primary_v4: Option<Ipv4Addr>,
    /// An IPv6 link-local address (fe80::/10).
    pub link_local_v6: Option<Ipv6Addr>,
}

/// One state change of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    /// Interface name.
    pub ifname: String,
    /// Interface index.
    pub index: u32,
    /// Up (IFF_UP and IFF_RUNNING) or not; a deleted link is down.
    pub up: bool,
}

impl LinkEvent {
    /// The [`vrrp_core::Event`] this change means.
    pub fn to_event(&self) -> vrrp_core::Event {
        if self.up {
            vrrp_core::Event::InterfaceUp(self.ifname.clone())
        } else {
            vrrp_core::Event::InterfaceDown(self.ifname.clone())
        }
    }
}

fn link_is_up(flags: LinkFlags) -> bool {
    flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running)
}

fn link_name(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

fn netlink_error(op: &'static str, target: &str, e: rtnetlink::Error) -> Error {
    match e {
        rtnetlink::Error::NetlinkError(m) => Error::io(op, target, m.to_io()),
        other => Error::Netlink {
            op,
            target: target.to_string(),
            message: other.to_string(),
        },
    }
}

fn errno_of(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => m.to_io().raw_os_error(),
        _ => None,
    }
}

/// A NETLINK_ROUTE connection for queries and address changes.
#[derive(Debug)]
pub struct Netlink {
    handle: Handle,
    task: JoinHandle<()>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Netlink {
    /// Opens the socket and spawns its connection task on the current tokio runtime.
    pub fn connect() -> Result<Netlink, Error> {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| Error::io("socket(NETLINK_ROUTE)", "rtnetlink", e))?;
        let task = spawn(conn)?;
        Ok(Netlink { handle, task })
    }

    async fn link_by_name(&self, name: &str) -> Result<LinkMessage, Error> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match links.try_next().await {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(Error::NoSuchInterface(name.to_string())),
            Err(e) if errno_of(&e) == Some(libc::ENODEV) => {
                Err(Error::NoSuchInterface(name.to_string()))
            }
            Err(e) => Err(netlink_error("RTM_GETLINK", name, e)),
        }
    }

    /// The index of interface `name`.
    pub async fn index(&self, name: &str) -> Result<u32, Error> {
        Ok(self.link_by_name(name).await?.header.index)
    }

    /// Index, MAC, state and the addresses VRRP sends from, of interface `name`.
    pub async fn interface(&self, name: &str) -> Result<InterfaceInfo, Error> {
        let link = self.link_by_name(name).await?;
        let index = link.header.index;
        let mut mac = None;
        let mut oper_state = OperState::Unknown;
        for a in &link.attributes {
            match a {
                LinkAttribute::Address(b) => mac = <[u8; 6]>::try_from(b.as_slice()).ok(),
                LinkAttribute::OperState(s) => oper_state = (*s).into(),
                _ => {}
            }
        }
        let mut primary_v4 = None;
        let mut link_local_v6 = None;
        let mut addrs = self
            .handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute();
        while let Some(m) = addrs
            .try_next()
            .await
            .map_err(|e| netlink_error("RTM_GETADDR", name, e))?
        {
            if m.header.index != index {
                continue;
            }
            let secondary = m.header.flags.contains(AddressHeaderFlags::Secondary)
                || m.attributes.iter().any(|a| {
                    matches!(a, AddressAttribute::Flags(f) if f.contains(AddressFlags::Secondary))
                });
            let local = m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = local.or_else(|| {
                m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            match addr {
                Some(IpAddr::V4(a)) if !secondary && primary_v4.is_none() => primary_v4 = Some(a),
                Some(IpAddr::V6(a))
                    if link_local_v6.is_none() && (a.segments()[0] & 0xffc0) == 0xfe80 =>
                {
                    link_local_v6 = Some(a)
                }
                _ => {}
            }
        }
        Ok(InterfaceInfo {
            name: name.to_string(),
            index,
            mac,
            oper_state,
            up: link_is_up(link.header.flags),
            primary_v4,
            link_local_v6,
        })
    }

    /// Adds `vip`; an address already there is not an error.
    pub async fn add_vip(&self, vip: &Vip) -> Result<(), Error> {
        vip.validate()?;
        let index = self.index(&vip.dev).await?;
        let mut req = self.handle.address().add(index, vip.addr, vip.prefix);
        *req.message_mut() = vip.message(index);
        match req.execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(netlink_error("RTM_NEWADDR", &vip_target(vip), e)),
        }
    }

    /// Removes `vip` (matched by address, prefix and label); an address that is not there
    /// is not an error, since keepalived's startup removes stale VIPs this way.
    pub async fn remove_vip(&self, vip: &Vip) -> Result<(), Error> {
        vip.validate()?;
        let index = self.index(&vip.dev).await?;
        let msg = vip.message(index);
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(libc::EADDRNOTAVAIL) => Ok(()),
            Err(e) => Err(netlink_error("RTM_DELADDR", &vip_target(vip), e)),
        }
    }
}

/// Spawns a connection task; an error, not a panic, outside a tokio runtime.
fn spawn<F>(conn: F) -> Result<JoinHandle<()>, Error>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Handle::try_current().map_err(|e| Error::Netlink {
        op: "connect",
        target: "rtnetlink".into(),
        message: e.to_string(),
    })?;
    Ok(rt.spawn(conn))
}

fn vip_target(vip: &Vip) -> String {
    format!("{}/{} dev {}", vip.addr, vip.prefix, vip.dev)
}

/// Link up/down notifications from the kernel (RTMGRP_LINK), without polling.
///
/// Subscribe before reading the initial state with [`Netlink::interface`] so that no
/// change falls between the two. The first notification about an interface is always
/// reported; after that only changes of its up/down state are.
pub struct LinkWatcher {
    rx: futures_util::stream::BoxStream<'static, NetlinkMessage<RouteNetlinkMessage>>,
    task: JoinHandle<()>,
    known: HashMap<u32, (String, bool)>,
}

impl std::fmt::Debug for LinkWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkWatcher")
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

impl Drop for LinkWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LinkWatcher {
    /// Opens a netlink socket in the RTMGRP_LINK group and spawns its connection task on
    /// the current tokio runtime.
    pub fn subscribe() -> Result<LinkWatcher, Error> {
        let (conn, _handle, rx) = rtnetlink::new_multicast_connection(&[MulticastGroup::Link])
            .map_err(|e| Error::io("bind(NETLINK_ROUTE, RTMGRP_LINK)", "rtnetlink", e))?;
        let task = spawn(conn)?;
        Ok(LinkWatcher {
            rx: rx.map(|(m, _)| m).boxed(),
            task,
            known: HashMap::new(),
        })
    }

    /// The next change; `None` once the netlink connection has ended.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        while let Some(msg) = self.rx.next().await {
            let (link, deleted) = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => (l, false),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => (l, true),
                _ => continue,
            };
            let index = link.header.index;
            let up = !deleted && link_is_up(link.header.flags);
            let name = match link_name(&link) {
                Some(n) => n.to_string(),
                None => match self.known.get(&index) {
                    Some((n, _)) => n.clone(),
                    None => continue,
                },
            };
            let changed = self.known.get(&index).is_none_or(|(_, was)| *was != up);
            if deleted {
                self.known.remove(&index);
            } else {
                self.known.insert(index, (name.clone(), up));
            }
            if changed {
                return Some(LinkEvent {
                    ifname: name,
                    index,
                    up,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_validation() {
        let v4: IpAddr = "198.18.22.249".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(Vip::new(v4, 24, "eth1").validate().is_ok());
        assert!(Vip::new(v4, 33, "eth1").validate().is_err());
        assert!(Vip::new(v6, 128, "eth1").validate().is_ok());
        assert!(Vip::new(v6, 129, "eth1").validate().is_err());
        assert!(Vip::new(v4, 24, "").validate().is_err());
        assert!(Vip::new(v4, 24, "a-very-long-ifname").validate().is_err());
        let mut l = Vip::new(v4, 24, "eth1");
        l.label = Some("eth1:vip".into());
        assert!(l.validate().is_ok());
        l.label = Some("eth1:way-too-long-label".into());
        let e = l.validate().unwrap_err().to_string();
        assert!(e.contains("198.18.22.249") && e.contains("label"), "{e}");
        let mut l6 = Vip::new(v6, 64, "eth1");
        l6.label = Some("eth1:0".into());
        assert!(l6.validate().is_err());
        let mut b6 = Vip::new(v6, 64, "eth1");
        b6.broadcast = Some(Ipv4Addr::BROADCAST);
        assert!(b6.validate().is_err());
    }

    #[test]
    fn vip_message_carries_every_field() {
        let mut v = Vip::new("198.18.22.249".parse().unwrap(), 24, "eth1");
        v.label = Some("eth1:1".into());
        v.scope = Scope::Link;
        v.broadcast = Some(Ipv4Addr::new(198, 18, 22, 255));
        let m = v.message(7);
        assert_eq!(m.header.index, 7);
        assert_eq!(m.header.prefix_len, 24);
        assert_eq!(m.header.scope, AddressScope::Link);
        assert_eq!(m.header.family, AddressFamily::Inet);
        assert!(
            m.attributes
                .contains(&AddressAttribute::Label("eth1:1".into()))
        );
        assert!(
            m.attributes
                .contains(&AddressAttribute::Broadcast(Ipv4Addr::new(
                    198, 18, 22, 255
                )))
        );
        assert!(m.attributes.contains(&AddressAttribute::Local(v.addr)));
        // no broadcast unless asked, as `ip addr add` without `brd`
        let plain = Vip::new(v.addr, 24, "eth1").message(7);
        assert!(
            !plain
                .attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::Broadcast(_)))
        );
        let v6 = Vip::new("2001:db8::1".parse().unwrap(), 64, "eth1").message(3);
        assert_eq!(v6.header.family, AddressFamily::Inet6);
        assert!(v6.header.flags.contains(AddressHeaderFlags::Nodad));
    }

    #[test]
    fn link_event_maps_to_core_event() {
        let e = LinkEvent {
            ifname: "eth1".into(),
            index: 2,
            up: false,
        };
        assert_eq!(e.to_event(), vrrp_core::Event::InterfaceDown("eth1".into()));
        let u = LinkEvent { up: true, ..e };
        assert_eq!(u.to_event(), vrrp_core::Event::InterfaceUp("eth1".into()));
    }
}
