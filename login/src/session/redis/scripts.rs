//! The Lua scripts of the [`RedisStore`](super::RedisStore). Each script touches the keys of
//! one hash slot only, so that it runs on a Redis Cluster as on one server: the scripts of a
//! session work on its subject's keys (all tagged `{T}`, see [`conn`](super::conn)), the
//! revocations have a script of their own, and the indexes in between are plain commands.
//! What one script does is atomic on the server: two instances racing on one refresh token
//! see one rotation.
//!
//! Keys (`P` is the configurable prefix, default `login:`; `T` the subject's tag):
//!
//! | key | type | holds | TTL |
//! |---|---|---|---|
//! | `P s:{T}:<sid>` | hash | a session: `sub`, `data` (its JSON), `exp`, `end`, `ref`, `ua`, `cur` (the current refresh-token hash), `mgr` (the manager that started it; `''` for `LoginManager`), `cat` | until its refresh token expires |
//! | `P s:{T}:<sid>:rot` | list | the session's last 64 rotated refresh-token hashes (reuse detection) | the session's |
//! | `P s:{T}:<sid>:grace` | string | `presented-hash successor until`: the last rotation's successor | the grace window |
//! | `P u:{T}` | set | the session ids of a subject | its latest session's |
//! | `P lo:{T}` | string | the subject's logout generation, incremented by each "log out everywhere" (a login that read another one is not stored) | that revocation's `until` |
//! | `P rt:<sha256 hex>` | string | `T sid`: the session of a refresh token (current or rotated) | the session's |
//! | `P sid:<sid>` | string | `T`: the subject of a session id | the session's |
//! | `P revocations` | sorted set | each revocation in force (its JSON), scored by its `until` | the latest `until`; entries past theirs are removed on every write |
//!
//! and the channel `P revocations` (a plain channel on one server, a shard channel on a
//! cluster, in the slot of the sorted set), on which the revocation script publishes each
//! revocation it records. TTLs are relative (`EXPIRE`), computed from the manager's clock, so
//! the store does not depend on Redis's clock agreeing with the instances'.
//!
//! The order of the steps across slots keeps the store fail-closed: a revocation that is
//! known before a session is dropped is recorded first (ending a session, "log out
//! everywhere", the sessions past the cap), and an index is written before the token it
//! leads to is handed out.

/// Helpers of the subject scripts. `ARGV[1]` is the prefix, `ARGV[2]` the subject's tag;
/// `KEYS[1]` a key of the subject (its slot is the script's).
const SUBJECT: &str = r#"
local P, T = ARGV[1], ARGV[2]
local function skey(sid) return P .. 's:{' .. T .. '}:' .. sid end
local function rotkey(sid) return skey(sid) .. ':rot' end
local function gracekey(sid) return skey(sid) .. ':grace' end
local U = P .. 'u:{' .. T .. '}'
local LO = P .. 'lo:{' .. T .. '}'
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
-- The index keys (other slots) of the sessions dropped: the caller deletes them.
local GONE = {}
local function drop_session(sid)
  local s = skey(sid)
  local f = redis.call('HMGET', s, 'cur')
  if f[1] then table.insert(GONE, P .. 'rt:' .. f[1]) end
  for _, h in ipairs(redis.call('LRANGE', rotkey(sid), 0, -1)) do
    table.insert(GONE, P .. 'rt:' .. h)
  end
  table.insert(GONE, P .. 'sid:' .. sid)
  redis.call('DEL', s, rotkey(sid), gracekey(sid))
  redis.call('SREM', U, sid)
end
"#;

/// ARGV: prefix, tag, sid, subject, data (JSON), exp, end ('' for none), user agent, current
/// hash, now, manager ('' for `LoginManager`), the logout generation read before minting, the
/// most sessions per subject.
///
/// Returns `{0}` when the generation changed (nothing stored: the caller revokes the session
/// id), else `{1, sid...}`: the older sessions past the cap, oldest first, for the caller to
/// revoke and then drop (with [`DROP`]).
const CREATE: &str = r#"
local sid, sub = ARGV[3], ARGV[4]
local now = num(ARGV[10], 'now')
local gen = redis.call('GET', LO) or '0'
if num(gen, 'logout generation') ~= num(ARGV[12], 'generation') then return {0} end
local ttl = math.max(num(ARGV[6], 'exp') - now, 1)
local s = skey(sid)
redis.call('DEL', s)
redis.call('HSET', s, 'sub', sub, 'data', ARGV[5], 'exp', ARGV[6], 'end', ARGV[7],
  'ref', '', 'ua', ARGV[8], 'cur', ARGV[9], 'mgr', ARGV[11], 'cat', ARGV[10])
redis.call('EXPIRE', s, ttl)
-- The cap: the subject's other live sessions, oldest first, beyond the newest (max - 1).
local others = {}
for _, id in ipairs(redis.call('SMEMBERS', U)) do
  local f = redis.call('HMGET', skey(id), 'exp', 'end', 'cat', 'data')
  if not f[1] then
    redis.call('SREM', U, id)
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
local excess = #others - (num(ARGV[13], 'max sessions') - 1)
if excess > 0 then
  table.sort(others, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for i = 1, excess do table.insert(out, others[i][2]) end
end
redis.call('SADD', U, sid)
expire_at_least(U, ttl)
return out
"#;

/// ARGV: prefix, tag, sid... Drops those sessions (already revoked by the caller). Returns
/// the index keys to delete.
const DROP: &str = r#"
for i = 3, #ARGV do drop_session(ARGV[i]) end
return GONE
"#;

/// ARGV: prefix, tag, sid, presented hash, successor hash, grace token ('' for none), grace
/// until, now, expires_at, user agent ('' for none), remembered rotations, manager ('' for
/// `LoginManager`: another manager's session is `invalid`, and nothing changes).
///
/// The caller has found the session through the presented hash's index and written the
/// successor's index. Returns `{'invalid'}`, `{'rotated', data, ref, exp, ua, gone}`,
/// `{'repeated', data, ref, exp, ua, token}` or `{'reused', gone}` (the session is dropped;
/// the caller revokes it), `gone` the index keys to delete.
const ROTATE: &str = r#"
local sid, presented, succ = ARGV[3], ARGV[4], ARGV[5]
local now = num(ARGV[8], 'now')
local s = skey(sid)
local f = redis.call('HMGET', s, 'cur', 'exp', 'end', 'sub', 'data', 'ref', 'ua', 'mgr')
if not f[1] then return {'invalid'} end
if (f[8] or '') ~= ARGV[12] then return {'invalid'} end
local exp, fin = num(f[2], 'exp'), optnum(f[3], 'end')
if not live(exp, fin, now) then return {'invalid'} end
local rk = rotkey(sid)
if f[1] == presented then
  local newexp = num(ARGV[9], 'expires_at')
  if fin ~= nil and fin < newexp then newexp = fin end
  local ttl = math.max(newexp - now, 1)
  redis.call('HSET', s, 'cur', succ, 'exp', newexp, 'ref', now)
  local ua = f[7] or ''
  if ARGV[10] ~= '' then
    ua = ARGV[10]
    redis.call('HSET', s, 'ua', ua)
  end
  redis.call('EXPIRE', s, ttl)
  if ARGV[6] ~= '' then
    local gttl = math.max(num(ARGV[7], 'grace') - now, 1)
    redis.call('SET', gracekey(sid), presented .. ' ' .. ARGV[6] .. ' ' .. ARGV[7], 'EX', gttl)
  else
    redis.call('DEL', gracekey(sid))
  end
  redis.call('LPUSH', rk, presented)
  local remember = num(ARGV[11], 'remember')
  while redis.call('LLEN', rk) > remember do
    table.insert(GONE, P .. 'rt:' .. redis.call('RPOP', rk))
  end
  redis.call('EXPIRE', rk, ttl)
  expire_at_least(U, ttl)
  return {'rotated', f[5], tostring(now), tostring(newexp), ua, GONE}
end
local grace = redis.call('GET', gracekey(sid))
if grace then
  local from, token, until_ = string.match(grace, '^(%S+) (%S+) (%S+)$')
  if from == nil then error('login: the grace record of a session is malformed') end
  if from == presented and now < num(until_, 'grace') then
    return {'repeated', f[5], f[6] or '', tostring(exp), f[7] or '', token}
  end
end
-- Neither current nor one of the remembered rotated ones: an index left behind.
if not redis.call('LPOS', rk, presented) then return {'invalid'} end
drop_session(sid)
return {'reused', GONE}
"#;

/// ARGV: prefix, tag, sid, now, the session's data as read, its new data. Replaces the data
/// of a live session if it is still what was read. Returns 1 (replaced), 0 (not live), -1
/// (changed since it was read: read again).
const REAUTHENTICATE: &str = r#"
local sid = ARGV[3]
local now = num(ARGV[4], 'now')
local s = skey(sid)
local f = redis.call('HMGET', s, 'data', 'exp', 'end')
if not f[1] then return 0 end
if not live(num(f[2], 'exp'), optnum(f[3], 'end'), now) then return 0 end
if f[1] ~= ARGV[5] then return -1 end
redis.call('HSET', s, 'data', ARGV[6])
return 1
"#;

/// ARGV: prefix, tag, sid, now. Drops the session (already revoked by the caller). Returns
/// `{was_live, gone}`.
const END_SESSION: &str = r#"
local sid = ARGV[3]
local now = num(ARGV[4], 'now')
local f = redis.call('HMGET', skey(sid), 'exp', 'end')
local was_live = 0
if f[1] and live(num(f[1], 'exp'), optnum(f[2], 'end'), now) then was_live = 1 end
drop_session(sid)
return {was_live, GONE}
"#;

/// ARGV: prefix, tag, now, until. Drops every session of the subject (their revocations and
/// the subject's are recorded by the caller first) and moves the logout generation on.
/// Returns `{live_count, {sid...}, gone}`.
const END_SUBJECT: &str = r#"
local now, until_ = num(ARGV[3], 'now'), num(ARGV[4], 'until')
local count, ended = 0, {}
for _, sid in ipairs(redis.call('SMEMBERS', U)) do
  local f = redis.call('HMGET', skey(sid), 'exp', 'end')
  if f[1] then
    if live(num(f[1], 'exp'), optnum(f[2], 'end'), now) then count = count + 1 end
    drop_session(sid)
    table.insert(ended, sid)
  end
end
redis.call('DEL', U)
num(redis.call('GET', LO) or '0', 'logout generation')
redis.call('INCR', LO)
expire_at_least(LO, math.max(until_ - now, 1))
return {count, ended, GONE}
"#;

/// ARGV: prefix, tag. Returns `{sid, data, ref, exp, end, ua, ...}` for each session still
/// stored, and forgets the ids of the sessions that are gone.
const SESSIONS: &str = r#"
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', U)) do
  local f = redis.call('HMGET', skey(sid), 'data', 'ref', 'exp', 'end', 'ua')
  if f[1] then
    for _, v in ipairs({sid, f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or ''}) do
      table.insert(out, v)
    end
  else
    redis.call('SREM', U, sid)
  end
end
return out
"#;

/// KEYS: the revocations. ARGV: now, the publishing command (`PUBLISH` on one server,
/// `SPUBLISH` on a cluster), then each revocation (JSON) and its until. Records and
/// publishes them, and removes the entries past their until.
const REVOKE: &str = r#"
local REV = KEYS[1]
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', REV, '-inf', now)
for i = 3, #ARGV, 2 do
  local member, until_ = ARGV[i], tonumber(ARGV[i + 1])
  if until_ == nil then error('login: a revocation until is not a number') end
  redis.call('ZADD', REV, until_, member)
  local ttl = math.max(until_ - now, 1)
  if redis.call('TTL', REV) < ttl then redis.call('EXPIRE', REV, ttl) end
  redis.call(ARGV[2], REV, member)
end
return 1
"#;

/// The scripts, compiled once (redis-rs sends `EVALSHA`, and the source when the server
/// does not know it yet, after a restart for example).
pub(super) struct Scripts {
    pub(super) create: redis::Script,
    pub(super) drop: redis::Script,
    pub(super) rotate: redis::Script,
    pub(super) end_session: redis::Script,
    pub(super) reauthenticate: redis::Script,
    pub(super) end_subject: redis::Script,
    pub(super) revoke: redis::Script,
    pub(super) sessions: redis::Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let script = |body: &str| redis::Script::new(&format!("{SUBJECT}\n{body}"));
        Scripts {
            create: script(CREATE),
            drop: script(DROP),
            rotate: script(ROTATE),
            end_session: script(END_SESSION),
            reauthenticate: script(REAUTHENTICATE),
            end_subject: script(END_SUBJECT),
            revoke: redis::Script::new(REVOKE),
            sessions: script(SESSIONS),
        }
    }
}
