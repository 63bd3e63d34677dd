//! Where progress events go.

use std::sync::{Arc, Mutex, PoisonError, mpsc};

use super::Event;

/// A receiver of progress events. It must not block for long: it is called from the
/// download and extraction paths.
///
/// Implemented for `()` (discards), for closures, for `std::sync::mpsc::Sender<Event>` (events
/// sent after the receiver is gone are dropped), for `Arc<P>`, and by [`Collect`].
///
/// ```
/// use std::sync::mpsc;
/// use imgsvc_distribution::progress::{Action, Event, Progress};
///
/// let (tx, rx) = mpsc::channel();
/// tx.event(Event::action("0123456789ab", Action::Waiting));
/// assert_eq!(rx.recv()?, Event::action("0123456789ab", Action::Waiting));
///
/// let print = |event: Event| println!("{}", event.to_docker_json());
/// print.event(Event::message(None, "Digest: sha256:..."));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Progress: Send + Sync {
    /// Takes one event.
    fn event(&self, event: Event);
}

impl Progress for () {
    fn event(&self, _event: Event) {}
}

impl<F: Fn(Event) + Send + Sync> Progress for F {
    fn event(&self, event: Event) {
        self(event)
    }
}

impl Progress for mpsc::Sender<Event> {
    fn event(&self, event: Event) {
        // A receiver that left does not want progress any more; the pull goes on.
        let _ = self.send(event);
    }
}

impl<P: Progress + ?Sized> Progress for Arc<P> {
    fn event(&self, event: Event) {
        (**self).event(event)
    }
}

/// A sink that keeps every event, for tests and for callers that read progress afterwards.
///
/// ```
/// use imgsvc_distribution::progress::{Action, Collect, Event, Progress};
///
/// let collect = Collect::new();
/// collect.event(Event::action("0123456789ab", Action::PullComplete));
/// assert_eq!(collect.take(), vec![Event::action("0123456789ab", Action::PullComplete)]);
/// assert!(collect.events().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Collect {
    events: Mutex<Vec<Event>>,
}

impl Collect {
    /// An empty collector.
    pub fn new() -> Collect {
        Collect::default()
    }

    /// A copy of the events so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// The events so far, leaving none.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        // A panic while pushing cannot leave the vector half-updated.
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Progress for Collect {
    fn event(&self, event: Event) {
        self.lock().push(event);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};

    use super::{Collect, Progress};
    use crate::progress::{Action, Event};

    #[test]
    fn a_sender_whose_receiver_left_drops_events() {
        let (tx, rx) = mpsc::channel();
        drop(rx);
        tx.event(Event::message(None, "nobody listens"));
    }

    #[test]
    fn sinks_work_behind_a_shared_trait_object() {
        let collect = Arc::new(Collect::new());
        let sinks: Vec<Arc<dyn Progress>> =
            vec![Arc::new(()), collect.clone(), Arc::new(|_: Event| {})];
        for sink in &sinks {
            sink.event(Event::action("0123456789ab", Action::Downloading));
        }
        assert_eq!(collect.events().len(), 1);
    }
}
