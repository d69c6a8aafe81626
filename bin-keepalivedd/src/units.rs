//! A unit is what runs as one state machine: a lone [`Instance`] or a [`SyncGroup`].
//! [`Unit`] gives both the same face, finds which member an advert or a transmit
//! belongs to, and reports when a whole sync group changed state (for its notify).

use std::net::IpAddr;

use vrrp_core::{
    Action, Event, Family, Instance, InstanceConfig, IpPair, Reject, State, SyncGroup, Transmit,
};

use crate::Error;
use crate::mapping::UnitPlan;

/// A lone instance or a sync group.
#[derive(Debug, Clone)]
pub enum Unit {
    /// An instance in no group.
    Single(Box<Instance>),
    /// A sync group; the last state all its members shared, for group notifications.
    Group(SyncGroup, Option<State>),
}

impl Unit {
    /// Builds the state machine(s) of `plan`, in [`State::Init`].
    pub fn build(plan: &UnitPlan) -> Result<Unit, Error> {
        Ok(match plan {
            UnitPlan::Single(c) => Unit::Single(Box::new(Instance::new(c.clone())?)),
            UnitPlan::Group { name, members } => {
                let members = members
                    .iter()
                    .map(|c| Instance::new(c.clone()))
                    .collect::<Result<Vec<_>, _>>()?;
                Unit::Group(SyncGroup::new(name.as_str(), members)?, None)
            }
        })
    }

    /// The member instances.
    pub fn members(&self) -> &[Instance] {
        match self {
            Unit::Single(i) => std::slice::from_ref(i.as_ref()),
            Unit::Group(g, _) => g.members(),
        }
    }

    /// The group name, for a sync group.
    pub fn group_name(&self) -> Option<&str> {
        match self {
            Unit::Single(_) => None,
            Unit::Group(g, _) => Some(g.name()),
        }
    }

    /// The member running `vrid` for `family` on `interface`.
    pub fn member(&self, interface: &str, family: Family, vrid: u8) -> Option<&InstanceConfig> {
        self.members()
            .iter()
            .map(Instance::config)
            .find(|c| c.interface == interface && c.vrid == vrid && Family::of(&c.source) == family)
    }

    /// The member that produced `t`: the one with its vrid and source address.
    pub fn sender(&self, t: &Transmit) -> Option<&InstanceConfig> {
        self.members()
            .iter()
            .map(Instance::config)
            .find(|c| c.vrid == t.advert.vrid && c.source == t.src)
    }

    /// Every interface a member runs on or tracks.
    pub fn interfaces(&self) -> impl Iterator<Item = &str> {
        self.members().iter().flat_map(|m| {
            let c = m.config();
            std::iter::once(c.interface.as_str())
                .chain(c.track_interfaces.iter().map(|t| t.name.as_str()))
        })
    }

    /// Passes an event in.
    pub fn handle_event(&mut self, now: vrrp_core::Instant, event: Event) {
        match self {
            Unit::Single(i) => i.handle_event(now, event),
            Unit::Group(g, _) => g.handle_event(now, event),
        }
    }

    /// Passes a received VRRP message in.
    pub fn handle_packet(
        &mut self,
        now: vrrp_core::Instant,
        ips: IpPair,
        ttl: u8,
        payload: &[u8],
    ) -> Result<(), Reject> {
        match self {
            Unit::Single(i) => i.handle_packet(now, ips, ttl, payload),
            Unit::Group(g, _) => g.handle_packet(now, ips, ttl, payload),
        }
    }

    /// Handles expired timers.
    pub fn handle_timeout(&mut self, now: vrrp_core::Instant) {
        match self {
            Unit::Single(i) => i.handle_timeout(now),
            Unit::Group(g, _) => g.handle_timeout(now),
        }
    }

    /// The next advert to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Unit::Single(i) => i.poll_transmit(),
            Unit::Group(g, _) => g.poll_transmit(),
        }
    }

    /// The next action.
    pub fn poll_action(&mut self) -> Option<Action> {
        match self {
            Unit::Single(i) => i.poll_action(),
            Unit::Group(g, _) => g.poll_action(),
        }
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<vrrp_core::Instant> {
        match self {
            Unit::Single(i) => i.poll_timeout(),
            Unit::Group(g, _) => g.poll_timeout(),
        }
    }

    /// For a sync group: the state all members newly share (MASTER, BACKUP, FAULT or
    /// STOP), once per change. `None` for a lone instance or when nothing changed.
    pub fn group_transition(&mut self) -> Option<(String, State)> {
        let Unit::Group(g, last) = self else {
            return None;
        };
        let first = g.members().first()?.state();
        let shared = g.members().iter().all(|m| m.state() == first);
        if !shared || first == State::Init || *last == Some(first) {
            return None;
        }
        *last = Some(first);
        Some((g.name().to_string(), first))
    }

    /// The source address `ip` belongs to a member (adverts we sent ourselves).
    pub fn owns_source(&self, ip: IpAddr) -> bool {
        self.members().iter().any(|m| m.config().source == ip)
    }
}
