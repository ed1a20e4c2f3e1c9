//! The Lua scripts of the [`RedisStore`](super::RedisStore): every write is one script, so it
//! is atomic on the server (two instances racing on one refresh token see one rotation, and
//! a revocation is recorded and published in the same step that ends a session).
//!
//! Keys (`P` is the configurable prefix, default `login:`):
//!
//! | key | type | holds | TTL |
//! |---|---|---|---|
//! | `P s:{sid}` | hash | a session: `sub`, `data` (its JSON), `exp`, `end`, `ref`, `ua`, `cur` (the current refresh-token hash), `mgr` (the manager that started it; `''` for `LoginManager`) | until its refresh token expires |
//! | `P s:{sid}:rot` | list | the session's last 64 rotated refresh-token hashes (reuse detection) | the session's |
//! | `P s:{sid}:grace` | string | `presented-hash successor until`: the last rotation's successor | the grace window |
//! | `P rt:<sha256 hex>` | string | the session id of a refresh token (current or rotated) | the session's |
//! | `P u:<subject>` | set | the session ids of a subject | its latest session's |
//! | `P lo:<subject>` | string | the subject's logout generation, incremented by each "log out everywhere" (a login that read another one is not stored) | that revocation's `until` |
//! | `P revocations` | sorted set | each revocation in force (its JSON), scored by its `until` | the latest `until`; entries past theirs are removed on every write |
//!
//! and the pub/sub channel `P revocations`, on which every revocation is published (its JSON)
//! in the same script that records it. The keys of one session share the hash tag `{sid}`.
//! TTLs are relative (`EXPIRE`), computed from the manager's clock, so the store does not
//! depend on Redis's clock agreeing with the instances'.

/// Helpers prepended to every script. `ARGV[1]` is always the prefix.
const COMMON: &str = r#"
local P = ARGV[1]
local function skey(sid) return P .. 's:{' .. sid .. '}' end
local function rotkey(sid) return P .. 's:{' .. sid .. '}:rot' end
local function gracekey(sid) return P .. 's:{' .. sid .. '}:grace' end
local function rtkey(h) return P .. 'rt:' .. h end
local function ukey(sub) return P .. 'u:' .. sub end
local function lokey(sub) return P .. 'lo:' .. sub end
local REV = P .. 'revocations'
local function num(v, what)
  local n = tonumber(v)
  if n == nil then error('login: the session field ' .. what .. ' is not a number') end
  return n
end
local function optnum(v, what)
  if v == false or v == nil or v == '' then return nil end
  return num(v, what)
end
local function live(exp, fin, now)
  return exp > now and (fin == nil or fin > now)
end
local function expire_at_least(key, ttl)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
end
local function revoke(member, until_, now)
  redis.call('ZREMRANGEBYSCORE', REV, '-inf', now)
  redis.call('ZADD', REV, until_, member)
  expire_at_least(REV, math.max(until_ - now, 1))
  redis.call('PUBLISH', REV, member)
end
local function drop_session(sid)
  local s = skey(sid)
  local f = redis.call('HMGET', s, 'cur', 'sub')
  if f[1] then redis.call('DEL', rtkey(f[1])) end
  local rot = redis.call('LRANGE', rotkey(sid), 0, -1)
  for _, h in ipairs(rot) do redis.call('DEL', rtkey(h)) end
  redis.call('DEL', s, rotkey(sid), gracekey(sid))
  if f[2] then redis.call('SREM', ukey(f[2]), sid) end
end
local function session_ended(sid, until_)
  return cjson.encode({kind = 'session_ended', sid = sid, ['until'] = until_})
end
"#;

/// ARGV: prefix, sid, subject, data (JSON), exp, end ('' for none), user agent, current
/// hash, now, manager ('' for `LoginManager`), the logout generation read before minting,
/// the most sessions per subject, revoke_until.
///
/// Returns `{stored, revocation...}`: `{0, ended}` when the generation changed (the session
/// is not stored, and its id is revoked), else `{1, ended...}` with a `SessionEnded` for each
/// older session ended past the cap.
const CREATE: &str = r#"
local sid, sub = ARGV[2], ARGV[3]
local now = num(ARGV[9], 'now')
local until_ = num(ARGV[13], 'revoke_until')
-- A login that raced "log out everywhere" (tokens minted before it): not stored, revoked.
local gen = redis.call('GET', lokey(sub)) or '0'
if num(gen, 'logout generation') ~= num(ARGV[11], 'generation') then
  local member = session_ended(sid, until_)
  revoke(member, until_, now)
  return {0, member}
end
local ttl = math.max(num(ARGV[5], 'exp') - now, 1)
local s = skey(sid)
redis.call('DEL', s)
redis.call('HSET', s, 'sub', sub, 'data', ARGV[4], 'exp', ARGV[5], 'end', ARGV[6],
  'ref', '', 'ua', ARGV[7], 'cur', ARGV[8], 'mgr', ARGV[10], 'cat', ARGV[9])
redis.call('EXPIRE', s, ttl)
redis.call('SET', rtkey(ARGV[8]), sid, 'EX', ttl)
local u = ukey(sub)
-- The cap: the subject's other live sessions, oldest first, beyond the newest (max - 1).
local others = {}
for _, id in ipairs(redis.call('SMEMBERS', u)) do
  local f = redis.call('HMGET', skey(id), 'exp', 'end', 'cat', 'data')
  if not f[1] then
    redis.call('SREM', u, id)
  else
    -- A record this store did not write is not counted, so that it cannot block the
    -- subject's logins (the calls that read it report it).
    local exp, fin, ok_end = tonumber(f[1]), nil, true
    if f[2] and f[2] ~= '' then
      fin = tonumber(f[2])
      ok_end = fin ~= nil
    end
    local cat = tonumber(f[3] or '')
    if cat == nil and f[4] then
      local ok, d = pcall(cjson.decode, f[4])
      if ok and type(d) == 'table' then cat = tonumber(d.created_at) end
    end
    if exp ~= nil and ok_end and cat ~= nil and live(exp, fin, now) then
      table.insert(others, {cat, id})
    end
  end
end
local out = {1}
local excess = #others - (num(ARGV[12], 'max sessions') - 1)
if excess > 0 then
  table.sort(others, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for i = 1, excess do
    local id = others[i][2]
    local member = session_ended(id, until_)
    revoke(member, until_, now)
    drop_session(id)
    table.insert(out, member)
  end
end
redis.call('SADD', u, sid)
expire_at_least(u, ttl)
return out
"#;

/// ARGV: prefix, presented hash, successor hash, grace token ('' for none), grace until,
/// now, expires_at, user agent ('' for none), revoke_until, remembered rotations, manager
/// ('' for `LoginManager`: another manager's session is `invalid`, and nothing changes).
///
/// Returns `{'invalid'}`, `{'rotated', data, ref, exp, ua}`, `{'repeated', data, ref, exp,
/// ua, token}` or `{'reused', sid, revocation}`.
const ROTATE: &str = r#"
local presented, succ = ARGV[2], ARGV[3]
local now = num(ARGV[6], 'now')
local sid = redis.call('GET', rtkey(presented))
if not sid then return {'invalid'} end
local s = skey(sid)
local f = redis.call('HMGET', s, 'cur', 'exp', 'end', 'sub', 'data', 'ref', 'ua', 'mgr')
if not f[1] then return {'invalid'} end
if (f[8] or '') ~= ARGV[11] then return {'invalid'} end
local exp, fin = num(f[2], 'exp'), optnum(f[3], 'end')
if not live(exp, fin, now) then return {'invalid'} end
if f[1] == presented then
  local newexp = num(ARGV[7], 'expires_at')
  if fin ~= nil and fin < newexp then newexp = fin end
  local ttl = math.max(newexp - now, 1)
  redis.call('HSET', s, 'cur', succ, 'exp', newexp, 'ref', now)
  local ua = f[7] or ''
  if ARGV[8] ~= '' then
    ua = ARGV[8]
    redis.call('HSET', s, 'ua', ua)
  end
  redis.call('EXPIRE', s, ttl)
  if ARGV[4] ~= '' then
    local gttl = math.max(num(ARGV[5], 'grace') - now, 1)
    redis.call('SET', gracekey(sid), presented .. ' ' .. ARGV[4] .. ' ' .. ARGV[5], 'EX', gttl)
  else
    redis.call('DEL', gracekey(sid))
  end
  redis.call('SET', rtkey(succ), sid, 'EX', ttl)
  redis.call('EXPIRE', rtkey(presented), ttl)
  local rk = rotkey(sid)
  redis.call('LPUSH', rk, presented)
  local remember = num(ARGV[10], 'remember')
  while redis.call('LLEN', rk) > remember do
    redis.call('DEL', rtkey(redis.call('RPOP', rk)))
  end
  redis.call('EXPIRE', rk, ttl)
  if f[4] then expire_at_least(ukey(f[4]), ttl) end
  return {'rotated', f[5], tostring(now), tostring(newexp), ua}
end
local grace = redis.call('GET', gracekey(sid))
if grace then
  local from, token, until_ = string.match(grace, '^(%S+) (%S+) (%S+)$')
  if from == nil then error('login: the grace record of a session is malformed') end
  if from == presented and now < num(until_, 'grace') then
    return {'repeated', f[5], f[6] or '', tostring(exp), f[7] or '', token}
  end
end
local until_ = num(ARGV[9], 'revoke_until')
local member = session_ended(sid, until_)
revoke(member, until_, now)
drop_session(sid)
return {'reused', sid, member}
"#;

/// ARGV: prefix, refresh-token hash. Returns `{data, ref, exp, end, ua}` or `{}`.
const FIND: &str = r#"
local sid = redis.call('GET', rtkey(ARGV[2]))
if not sid then return {} end
local f = redis.call('HMGET', skey(sid), 'data', 'ref', 'exp', 'end', 'ua')
if not f[1] then return {} end
return {f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or ''}
"#;

/// ARGV: prefix, sid, now, until. Returns `{was_live, revocation}`.
const END_SESSION: &str = r#"
local sid = ARGV[2]
local now, until_ = num(ARGV[3], 'now'), num(ARGV[4], 'until')
local f = redis.call('HMGET', skey(sid), 'exp', 'end')
local was_live = 0
if f[1] and live(num(f[1], 'exp'), optnum(f[2], 'end'), now) then was_live = 1 end
local member = session_ended(sid, until_)
revoke(member, until_, now)
drop_session(sid)
return {was_live, member}
"#;

/// ARGV: prefix, subject, now, until. Returns `{live_count, revocation...}`.
const END_SUBJECT: &str = r#"
local sub = ARGV[2]
local now, until_ = num(ARGV[3], 'now'), num(ARGV[4], 'until')
local out = {0}
for _, sid in ipairs(redis.call('SMEMBERS', ukey(sub))) do
  local f = redis.call('HMGET', skey(sid), 'exp', 'end')
  if f[1] then
    if live(num(f[1], 'exp'), optnum(f[2], 'end'), now) then out[1] = out[1] + 1 end
    local member = session_ended(sid, until_)
    revoke(member, until_, now)
    drop_session(sid)
    table.insert(out, member)
  end
end
redis.call('DEL', ukey(sub))
local lk = lokey(sub)
num(redis.call('GET', lk) or '0', 'logout generation')
redis.call('INCR', lk)
expire_at_least(lk, math.max(until_ - now, 1))
local member = cjson.encode({kind = 'subject_logged_out', subject = sub, before = now,
  ['until'] = until_})
revoke(member, until_, now)
table.insert(out, member)
return out
"#;

/// ARGV: prefix, revocation (JSON), until, now.
const REVOKE: &str = r#"
revoke(ARGV[2], num(ARGV[3], 'until'), num(ARGV[4], 'now'))
return 1
"#;

/// ARGV: prefix, subject. Returns `{sid, data, ref, exp, end, ua, ...}` for each session
/// still stored, and forgets the ids of the sessions that are gone.
const SESSIONS: &str = r#"
local u = ukey(ARGV[2])
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', u)) do
  local f = redis.call('HMGET', skey(sid), 'data', 'ref', 'exp', 'end', 'ua')
  if f[1] then
    for _, v in ipairs({sid, f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or ''}) do
      table.insert(out, v)
    end
  else
    redis.call('SREM', u, sid)
  end
end
return out
"#;

/// The scripts, compiled once (redis-rs sends `EVALSHA`, and the source when the server
/// does not know it yet, after a restart for example).
pub(super) struct Scripts {
    pub(super) create: redis::Script,
    pub(super) rotate: redis::Script,
    pub(super) find: redis::Script,
    pub(super) end_session: redis::Script,
    pub(super) end_subject: redis::Script,
    pub(super) revoke: redis::Script,
    pub(super) sessions: redis::Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let script = |body: &str| redis::Script::new(&format!("{COMMON}\n{body}"));
        Scripts {
            create: script(CREATE),
            rotate: script(ROTATE),
            find: script(FIND),
            end_session: script(END_SESSION),
            end_subject: script(END_SUBJECT),
            revoke: script(REVOKE),
            sessions: script(SESSIONS),
        }
    }
}
