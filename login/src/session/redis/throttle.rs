//! The login throttle's failure counters in Redis: one script per attempt (check every
//! counter, then charge them all, atomically), one per successful login (reset and refund).
//!
//! Keys (`P` is the store's prefix): `P thr:{thr}:<counter key>`, a hash with `n` (failures)
//! and `last` (the time of the last one), its TTL the counter's back-off and window after each
//! failure, so every key expires by itself. Every counter has the hash tag `{thr}`: one attempt
//! checks and charges several counters in one script, so on a cluster they share one slot
//! (one shard holds every counter; they exist only for failed logins, within the window).

use std::sync::{Arc, LazyLock};

use super::Shared;
use crate::session::store::StoreFuture;
use crate::session::throttle::{Counter, ThrottleStore};

/// `ARGV`: the prefix, now, the number of counters, then for each its key, free failures,
/// first back-off, ceiling and window. Answers 0 (charged) or the wait in seconds.
const ATTEMPT: &str = r#"
local P = ARGV[1]
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local function backoff(count, free, first, ceiling)
  if count < free then return 0 end
  local extra = count - free
  if extra > 62 then return ceiling end
  return math.min(first * (2 ^ extra), ceiling)
end
local wait = 0
for i = 0, n - 1 do
  local b = 4 + i * 5
  local v = redis.call('HMGET', P .. 'thr:{thr}:' .. ARGV[b], 'n', 'last')
  local count = tonumber(v[1]) or 0
  local last = tonumber(v[2]) or 0
  local left = last + backoff(count, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])) - now
  if left > wait then wait = left end
end
if wait > 0 then return math.ceil(wait) end
for i = 0, n - 1 do
  local b = 4 + i * 5
  local key = P .. 'thr:{thr}:' .. ARGV[b]
  local count = redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 'last', now)
  local ttl = backoff(count, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])) + tonumber(ARGV[b + 4])
  redis.call('EXPIRE', key, math.max(math.ceil(ttl), 1))
end
return 0
"#;

/// `ARGV`: the prefix, the number of keys to reset, those keys, then the keys to refund.
const SUCCEEDED: &str = r#"
local P = ARGV[1]
local r = tonumber(ARGV[2])
for i = 3, 2 + r do redis.call('DEL', P .. 'thr:{thr}:' .. ARGV[i]) end
for i = 3 + r, #ARGV do
  local key = P .. 'thr:{thr}:' .. ARGV[i]
  local count = tonumber(redis.call('HGET', key, 'n'))
  if count and count > 0 then redis.call('HINCRBY', key, 'n', -1) end
end
return 0
"#;

static SCRIPTS: LazyLock<(redis::Script, redis::Script)> =
    LazyLock::new(|| (redis::Script::new(ATTEMPT), redis::Script::new(SUCCEEDED)));

/// The counters of a [`RedisStore`](super::RedisStore), on its connection.
pub(super) struct RedisThrottle {
    pub(super) shared: Arc<Shared>,
}

impl RedisThrottle {
    /// A key of the counters' slot, the script's first key (it routes the script on a
    /// cluster).
    fn slot(&self) -> String {
        format!("{}thr:{{thr}}:", self.shared.config.prefix)
    }
}

impl ThrottleStore for RedisThrottle {
    fn attempt(&self, counters: Vec<Counter>, now: i64) -> StoreFuture<'_, Option<u64>> {
        Box::pin(async move {
            let prefix = self.shared.config.prefix.clone();
            let mut args = vec![prefix, now.to_string(), counters.len().to_string()];
            for c in &counters {
                args.push(c.key.clone());
                args.extend([c.free as u64, c.first, c.ceiling, c.window].map(|n| n.to_string()));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let wait: i64 = self
                .shared
                .run("throttle", &SCRIPTS.0, &[&self.slot()], &args)
                .await?;
            Ok((wait > 0).then_some(wait as u64))
        })
    }

    fn succeeded(&self, reset: Vec<String>, refund: Vec<String>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let prefix = self.shared.config.prefix.clone();
            let mut args = vec![prefix, reset.len().to_string()];
            args.extend(reset);
            args.extend(refund);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _: i64 = self
                .shared
                .run("throttle reset", &SCRIPTS.1, &[&self.slot()], &args)
                .await?;
            Ok(())
        })
    }
}
