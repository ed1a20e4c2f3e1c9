//! A `tracing` subscriber that records every event and every span (all levels) of the current
//! thread, to check log hygiene (no token in any line) and to observe which instrumented
//! handlers ran (their spans).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Metadata, Subscriber};

/// What [`capture`] recorded.
///
/// Lines: `LEVEL target: field=value ...` for an event, `SPAN target name: field=value ...`
/// for a new span, `RECORD: field=value ...` for values recorded later on a span.
#[derive(Clone, Default)]
pub struct Logs {
    lines: Arc<Mutex<Vec<String>>>,
    spans: Arc<Mutex<Vec<&'static str>>>,
}

impl Logs {
    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Every line so far, joined with newlines.
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// How many spans with one of these names were created.
    pub fn spans(&self, names: &[&str]) -> usize {
        let spans = self.spans.lock().unwrap();
        spans.iter().filter(|s| names.contains(s)).count()
    }

    /// Asserts that no line contains `needle` (`case` names the check in the message).
    #[track_caller]
    pub fn assert_not_containing(&self, case: &str, needle: &str) {
        let text = self.text();
        assert!(
            !text.contains(needle),
            "{}a log line contains the token ({needle:?}):\n{text}",
            crate::reply::prefix(case)
        );
    }

    /// Asserts that no line contains the token or any of its [`needles`](crate::needles).
    #[track_caller]
    pub fn assert_clean(&self, token: &str) {
        for needle in crate::needles(token) {
            self.assert_not_containing("", needle);
        }
    }

    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
    }
}

struct Capture {
    logs: Logs,
    next: AtomicU64,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let meta = span.metadata();
        let mut line = format!("SPAN {} {}:", meta.target(), meta.name());
        span.record(&mut Line(&mut line));
        self.logs.push(line);
        self.logs.spans.lock().unwrap().push(meta.name());
        Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = "RECORD:".to_owned();
        values.record(&mut Line(&mut line));
        self.logs.push(line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = format!("{} {}:", meta.level(), meta.target());
        event.record(&mut Line(&mut line));
        self.logs.push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Records every event and span (all levels) emitted on this thread until the guard is
/// dropped. Use it from a current-thread runtime (the default of `#[tokio::test]`).
pub fn capture() -> (DefaultGuard, Logs) {
    let logs = Logs::default();
    let guard = tracing::subscriber::set_default(Capture {
        logs: logs.clone(),
        next: AtomicU64::new(0),
    });
    (guard, logs)
}
