//! `CallbackErrors`: the failures of host callbacks a guest was told about, kept until it
//! reports how they ended.

use std::collections::VecDeque;

use engine_api::Error;

/// How many failures of host callbacks a store keeps for the guest to report (as many as
/// the guest remembers; a guest that catches them keeps no more than this alive).
const REMEMBERED: usize = 16;

/// Failures of host callbacks thrown into the guest, by id: the error a callback returned
/// comes back as `Error::Callback` when the guest reports (`ErrorKind::Callback { id }`)
/// that the error it threw for it ended the call.
#[derive(Default)]
pub(crate) struct CallbackErrors {
    next: u32,
    recent: VecDeque<(u32, Error)>,
}

impl CallbackErrors {
    /// Keeps `error` (an `Error::Callback`); returns its id.
    pub(crate) fn remember(&mut self, error: Error) -> u32 {
        self.next = self.next.wrapping_add(1);
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back((self.next, error));
        self.next
    }

    pub(crate) fn get(&self, id: u32) -> Option<Error> {
        self.recent
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, e)| e.clone())
    }
}
