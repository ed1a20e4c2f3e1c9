//! The throttle-store cases of the contract suite.

use std::sync::Arc;

use super::{CaseFuture, ThrottleCase, now, unique};
use crate::session::throttle::{Counter, ThrottleStore};

pub(super) const CASES: &[ThrottleCase] = &[
    ThrottleCase {
        name: "past_the_free_failures_a_counter_backs_off_on_both_instances",
        run: backoff,
    },
    ThrottleCase {
        name: "one_counter_in_back_off_refuses_the_attempt_and_charges_none",
        run: all_or_nothing,
    },
    ThrottleCase {
        name: "a_success_resets_some_counters_and_refunds_the_others",
        run: reset_and_refund,
    },
    ThrottleCase {
        name: "concurrent_attempts_on_two_instances_pass_no_more_than_the_free_failures",
        run: concurrent,
    },
];

fn counter(free: u32) -> Counter {
    Counter {
        key: unique("a:"),
        free,
        first: 10,
        ceiling: 100,
        window: 60,
    }
}

async fn attempt(store: &dyn ThrottleStore, counters: &[Counter], now: i64) -> Option<u64> {
    store
        .attempt(counters.to_vec(), now)
        .await
        .expect("attempt")
}

fn backoff(a: Arc<dyn ThrottleStore>, b: Arc<dyn ThrottleStore>) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let c = [counter(2)];
        assert_eq!(attempt(&*a, &c, t).await, None, "first failure is free");
        assert_eq!(attempt(&*b, &c, t).await, None, "second failure is free");
        assert_eq!(
            attempt(&*a, &c, t).await,
            Some(10),
            "after the free failures, the first back-off (10 s)"
        );
        assert_eq!(
            attempt(&*b, &c, t + 4).await,
            Some(6),
            "the other instance sees the same counter: 6 s left"
        );
        assert_eq!(
            attempt(&*b, &c, t + 10).await,
            None,
            "once the back-off is over, an attempt is allowed (and counted)"
        );
        assert_eq!(
            attempt(&*a, &c, t + 10).await,
            Some(20),
            "the next back-off is doubled"
        );
    })
}

fn all_or_nothing(a: Arc<dyn ThrottleStore>, b: Arc<dyn ThrottleStore>) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let busy = counter(1);
        let idle = counter(1);
        assert_eq!(attempt(&*a, std::slice::from_ref(&busy), t).await, None);
        assert_eq!(
            attempt(&*b, &[idle.clone(), busy.clone()], t).await,
            Some(10),
            "one counter of the attempt in back-off refuses it"
        );
        assert_eq!(
            attempt(&*a, std::slice::from_ref(&idle), t).await,
            None,
            "the refused attempt charged no counter: the idle one still has its free failure"
        );
        assert_eq!(attempt(&*a, std::slice::from_ref(&idle), t).await, Some(10));
    })
}

fn reset_and_refund(a: Arc<dyn ThrottleStore>, b: Arc<dyn ThrottleStore>) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let reset = counter(2);
        let refund = counter(2);
        let both = [reset.clone(), refund.clone()];
        assert_eq!(attempt(&*a, &both, t).await, None);
        assert_eq!(attempt(&*a, &both, t).await, None);
        assert_eq!(attempt(&*a, &both, t).await, Some(10), "both at 2 failures");
        b.succeeded(vec![reset.key.clone()], vec![refund.key.clone()])
            .await
            .expect("succeeded");
        assert_eq!(
            attempt(&*a, std::slice::from_ref(&refund), t).await,
            None,
            "the refunded counter is back at 1 failure: one more is free"
        );
        assert_eq!(
            attempt(&*a, std::slice::from_ref(&refund), t).await,
            Some(10)
        );
        assert_eq!(
            attempt(&*a, std::slice::from_ref(&reset), t).await,
            None,
            "the reset counter is forgotten"
        );
        assert_eq!(attempt(&*a, std::slice::from_ref(&reset), t).await, None);
        assert_eq!(
            attempt(&*a, std::slice::from_ref(&reset), t).await,
            Some(10)
        );
    })
}

fn concurrent(a: Arc<dyn ThrottleStore>, b: Arc<dyn ThrottleStore>) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let c = counter(3);
        let mut tasks = Vec::new();
        for n in 0..16 {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                store.attempt(vec![c], t).await.expect("attempt")
            }));
        }
        let mut passed = 0;
        for task in tasks {
            passed += usize::from(task.await.expect("join").is_none());
        }
        assert_eq!(
            passed, 3,
            "16 attempts at once on a counter with 3 free failures: exactly 3 pass"
        );
    })
}
