//! [`ScriptedTransport`]: the one fake [`Transport`] of the native tests. It answers from a script
//! or a responder closure, records every request and every sleep, keeps a fake clock that each
//! sleep moves forward (nothing really waits), and fills random bytes from a seeded generator
//! (or with one constant byte). Optionally each answer takes a few polls, so that futures polled
//! together (bounded-parallel paging) really overlap under `block_on`, without threads or a
//! runtime; it counts the requests in flight.
//!
//! A test that models a server (see `tests/paging.rs`) builds its responder closure over the
//! server's state and hands it to [`ScriptedTransport::new`].

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use gpufleet::{HttpRequest, HttpResponse, Transport, TransportError};

/// What the transport gives back for one request.
pub type Answer = Result<HttpResponse, TransportError>;

type Responder = Box<dyn FnMut(&HttpRequest) -> Answer>;

/// Where the fake clock starts: 1 700 000 000 000 ms, Tue, 14 Nov 2023 22:13:20 GMT.
pub const START_MS: u64 = 1_700_000_000_000;

/// The seed of the random bytes unless [`ScriptedTransport::with_seed`] says otherwise.
pub const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// What a sleep answers after [`ScriptedTransport::abort_sleeps`].
pub const ABORT_REASON: &str = "user cancelled";

#[derive(Clone, Copy)]
enum Random {
    /// Every byte is this one.
    Byte(u8),
    /// xorshift64 state (never 0).
    Seeded(u64),
}

/// A transport that answers from a script, records every request and sleep, and moves a fake
/// clock forward by each sleep.
pub struct ScriptedTransport {
    responder: RefCell<Responder>,
    requests: RefCell<Vec<HttpRequest>>,
    sleeps: RefCell<Vec<u64>>,
    now: Cell<u64>,
    abort_sleeps: Cell<bool>,
    random: Cell<Random>,
    polls: u32,
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
}

impl ScriptedTransport {
    /// Answers each request with what `responder` returns for it.
    pub fn new(responder: impl FnMut(&HttpRequest) -> Answer + 'static) -> ScriptedTransport {
        ScriptedTransport {
            responder: RefCell::new(Box::new(responder)),
            requests: RefCell::default(),
            sleeps: RefCell::default(),
            now: Cell::new(START_MS),
            abort_sleeps: Cell::new(false),
            random: Cell::new(Random::Seeded(DEFAULT_SEED)),
            polls: 0,
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
        }
    }

    /// Answers with `answers` in order; the last one repeats. Panics on a request if empty.
    pub fn script(answers: Vec<Answer>) -> ScriptedTransport {
        let mut queue: VecDeque<Answer> = answers.into();
        ScriptedTransport::new(move |r| match queue.len() {
            0 => panic!("an empty script got a request: {r:?}"),
            1 => queue[0].clone(),
            _ => queue.pop_front().expect("not empty"),
        })
    }

    /// A transport that must never be called: any request panics.
    pub fn unreachable() -> ScriptedTransport {
        ScriptedTransport::new(|r| panic!("no upstream call expected, got {r:?}"))
    }

    /// Each answer takes `polls` polls (the future wakes itself each time) before it is ready.
    pub fn with_polls(mut self, polls: u32) -> ScriptedTransport {
        self.polls = polls;
        self
    }

    /// Every random byte is `byte` (e.g. 0x80: a backoff jitter of ≈ 0.5).
    pub fn with_random_byte(self, byte: u8) -> ScriptedTransport {
        self.random.set(Random::Byte(byte));
        self
    }

    /// Random bytes from a xorshift generator seeded with `seed`.
    pub fn with_seed(self, seed: u64) -> ScriptedTransport {
        self.random.set(Random::Seeded(seed.max(1)));
        self
    }

    /// Sets the fake clock (ms since the Unix epoch).
    pub fn set_now(&self, ms: u64) {
        self.now.set(ms);
    }

    /// From now on every sleep fails at once with `Aborted(ABORT_REASON)`, as when the caller aborts.
    pub fn abort_sleeps(&self) {
        self.abort_sleeps.set(true);
    }

    /// Every request so far, in the order sent.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.borrow().clone()
    }

    /// Every request so far, forgetting them (the next call sees only later ones).
    pub fn take_requests(&self) -> Vec<HttpRequest> {
        self.requests.take()
    }

    /// How many requests were sent.
    pub fn request_count(&self) -> usize {
        self.requests.borrow().len()
    }

    /// The URL of every request, in the order sent.
    pub fn urls(&self) -> Vec<String> {
        self.requests.borrow().iter().map(|r| r.url.clone()).collect()
    }

    /// Every sleep asked for (ms), in order; an aborted one is not counted.
    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps.borrow().clone()
    }

    /// The most requests that were ever waiting for an answer at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.get()
    }
}

impl Transport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Answer {
        self.requests.borrow_mut().push(request.clone());
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight.set(self.max_in_flight.get().max(self.in_flight.get()));
        YieldN(self.polls).await;
        self.in_flight.set(self.in_flight.get() - 1);
        (self.responder.borrow_mut())(&request)
    }

    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        if self.abort_sleeps.get() {
            return Err(TransportError::Aborted(ABORT_REASON.into()));
        }
        let ms = duration.as_millis() as u64;
        self.sleeps.borrow_mut().push(ms);
        self.now.set(self.now.get() + ms);
        Ok(())
    }

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn fill_random(&self, buf: &mut [u8]) {
        match self.random.get() {
            Random::Byte(b) => buf.fill(b),
            Random::Seeded(mut x) => {
                for b in buf {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = (x >> 32) as u8;
                }
                self.random.set(Random::Seeded(x));
            }
        }
    }
}

/// A JSON answer: `status`, `body` and `content-type: application/json`.
pub fn json(status: u16, body: &str) -> Answer {
    Ok(HttpResponse::new(status, body.as_bytes().to_vec()).with_header("content-type", "application/json"))
}

/// Returns `Pending` `n` times (waking itself each time), then `Ready`.
struct YieldN(u32);

impl Future for YieldN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
