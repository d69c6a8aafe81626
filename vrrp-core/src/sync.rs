//! `vrrp_sync_group`: instances that change state together.
//!
//! The group owns its members and takes their inputs. After each input it aligns the
//! members as keepalived does: if any member is in FAULT all go to FAULT and stay there
//! until no member's own tracking asks for it; otherwise when one member becomes MASTER
//! the backups follow, and when one master falls back to BACKUP the other masters follow.

use std::net::IpAddr;

use crate::instance::{Action, Event, Instance, State, Transmit};
use crate::time::Instant;
use crate::wire::{AdvertRepr, Family, IpPair, peek_vrid};
use crate::{ConfigError, Reject};

/// A sync group and its member instances.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    name: String,
    members: Vec<Instance>,
    actions: std::collections::VecDeque<Action>,
}

impl SyncGroup {
    /// A group of `members`; each (vrid, family) may appear only once.
    pub fn new(name: impl Into<String>, members: Vec<Instance>) -> Result<SyncGroup, ConfigError> {
        let name = name.into();
        if members.is_empty() {
            return Err(ConfigError::Group {
                group: name,
                reason: "no virtual router".into(),
            });
        }
        for (i, a) in members.iter().enumerate() {
            for b in members.iter().skip(i + 1) {
                let (ca, cb) = (a.config(), b.config());
                if ca.vrid == cb.vrid && Family::of(&ca.source) == Family::of(&cb.source) {
                    return Err(ConfigError::Group {
                        group: name,
                        reason: format!("{} and {} both use VRID {}", ca.name, cb.name, ca.vrid),
                    });
                }
            }
        }
        Ok(SyncGroup {
            name,
            members,
            actions: Default::default(),
        })
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The members, in the order given.
    pub fn members(&self) -> &[Instance] {
        &self.members
    }

    /// Passes an event to every member (each ignores scripts and interfaces it does
    /// not track), then aligns the group.
    pub fn handle_event(&mut self, now: Instant, event: Event) {
        let before = self.states();
        for m in &mut self.members {
            m.handle_event(now, event.clone());
        }
        self.align(now, &before);
    }

    /// Passes a parsed advert to the member with its vrid and family.
    pub fn handle_advert(
        &mut self,
        now: Instant,
        src: IpAddr,
        advert: &AdvertRepr,
        ttl: u8,
    ) -> Result<(), Reject> {
        let before = self.states();
        let idx = self.find(advert.vrid, Family::of(&src))?;
        let r = self
            .members
            .get_mut(idx)
            .map_or(Ok(()), |m| m.handle_advert(now, src, advert, ttl));
        self.align(now, &before);
        r
    }

    /// Passes a raw VRRP message to the member with its vrid and family.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        ips: IpPair,
        ttl: u8,
        payload: &[u8],
    ) -> Result<(), Reject> {
        let before = self.states();
        let Some(vrid) = peek_vrid(payload) else {
            return Err(Reject::Malformed(crate::WireError::Truncated {
                needed: crate::wire::HEADER_LEN,
                got: payload.len(),
            }));
        };
        let idx = self.find(vrid, Family::of(&ips.src))?;
        let r = self
            .members
            .get_mut(idx)
            .map_or(Ok(()), |m| m.handle_packet(now, ips, ttl, payload));
        self.align(now, &before);
        r
    }

    /// Handles expired timers of every member, then aligns the group.
    pub fn handle_timeout(&mut self, now: Instant) {
        let before = self.states();
        for m in &mut self.members {
            m.handle_timeout(now);
        }
        self.align(now, &before);
    }

    /// The next advert of any member.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.members.iter_mut().find_map(|m| m.poll_transmit())
    }

    /// The next action: the group's own log lines first, then each member's.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions
            .pop_front()
            .or_else(|| self.members.iter_mut().find_map(|m| m.poll_action()))
    }

    /// The earliest member deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.members.iter().filter_map(|m| m.poll_timeout()).min()
    }

    fn states(&self) -> Vec<State> {
        self.members.iter().map(|m| m.state()).collect()
    }

    fn find(&self, vrid: u8, family: Family) -> Result<usize, Reject> {
        self.members
            .iter()
            .position(|m| m.config().vrid == vrid && Family::of(&m.config().source) == family)
            .ok_or_else(|| Reject::UnknownVrid {
                vrid,
                interface: self
                    .members
                    .first()
                    .map(|m| m.config().interface.clone())
                    .unwrap_or_default(),
            })
    }

    fn log(&mut self, target: &str) {
        self.actions.push_back(Action::Log(format!(
            "VRRP_Group({}) Syncing instances to {target} state",
            self.name
        )));
    }

    fn align(&mut self, now: Instant, before: &[State]) {
        let running = |s: State| matches!(s, State::Backup | State::Master | State::Fault);
        if self
            .members
            .iter()
            .any(|m| m.fault_condition() && running(m.state()))
        {
            let others = self
                .members
                .iter()
                .any(|m| matches!(m.state(), State::Backup | State::Master));
            for m in &mut self.members {
                m.set_group_fault_hold(true);
            }
            if others {
                self.log("FAULT");
                for m in &mut self.members {
                    m.force_state(now, State::Fault);
                }
            }
            return;
        }
        let held = self.members.iter().any(|m| m.state() == State::Fault);
        for m in &mut self.members {
            m.set_group_fault_hold(false);
        }
        if held {
            self.log("BACKUP");
            for m in &mut self.members {
                m.force_state(now, State::Backup);
            }
            return;
        }
        let after = self.states();
        let changed = |to: State| {
            before
                .iter()
                .zip(&after)
                .any(|(b, a)| *b != to && *a == to && *b != State::Init)
        };
        let to_master = changed(State::Master);
        let to_backup = before
            .iter()
            .zip(&after)
            .any(|(b, a)| *b == State::Master && *a == State::Backup);
        if to_master && after.contains(&State::Backup) {
            self.log("MASTER");
            for m in &mut self.members {
                m.force_state(now, State::Master);
            }
        } else if to_backup && after.contains(&State::Master) {
            self.log("BACKUP");
            for m in &mut self.members {
                m.force_state(now, State::Backup);
            }
        }
    }
}
