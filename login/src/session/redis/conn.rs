//! The command connection of a [`RedisStore`](super::RedisStore): one Redis server (redis-rs's
//! `ConnectionManager`) or a Redis Cluster (its cluster client, feature `redis-cluster`), and
//! the keys every command and script is given.
//!
//! Every key of one subject carries the hash tag `{T}` (`T`: the subject, escaped by [`tag`]),
//! so that each script touches one hash slot and runs on a cluster; the two indexes that lead
//! to a subject's keys (`P rt:<hash>`, `P sid:<sid>`) and the revocations (`P revocations`)
//! are single keys of their own, read or written by single-key commands and scripts.

use redis::aio::ConnectionManager;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// Where the store's commands go.
#[derive(Clone)]
pub(super) enum Conn {
    /// One server (or a Sentinel or managed Redis behind one URL).
    Single(ConnectionManager),
    /// A Redis Cluster: commands and scripts are routed by their first key.
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The hash tag of a subject's keys: the subject with `%`, `{`, `}` and space written as
/// `%25`, `%7B`, `%7D`, `%20` (so that the tag ends where it should, and one subject never
/// shares another's keys), and `%` alone for the empty subject (an empty tag would hash the
/// whole key).
pub(super) fn tag(subject: &str) -> String {
    if subject.is_empty() {
        return "%".to_owned();
    }
    let mut out = String::with_capacity(subject.len());
    for c in subject.chars() {
        match c {
            '%' => out.push_str("%25"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// `P u:{T}`: the subject's set of session ids (the first key of every subject script).
pub(super) fn subject_key(prefix: &str, tag: &str) -> String {
    format!("{prefix}u:{{{tag}}}")
}

/// `P lo:{T}`: the subject's logout generation.
pub(super) fn logout_key(prefix: &str, tag: &str) -> String {
    format!("{prefix}lo:{{{tag}}}")
}

/// `P s:{T}:<sid>`: a session's hash.
pub(super) fn session_key(prefix: &str, tag: &str, sid: &str) -> String {
    format!("{prefix}s:{{{tag}}}:{sid}")
}

/// `P rt:<sha256 hex>`: the index of a refresh token, `T sid`.
pub(super) fn token_key(prefix: &str, hash_hex: &str) -> String {
    format!("{prefix}rt:{hash_hex}")
}

/// `P sid:<sid>`: the index of a session id, `T`.
pub(super) fn sid_key(prefix: &str, sid: &str) -> String {
    format!("{prefix}sid:{sid}")
}

/// An index's value, `T sid` (the tag has no space), split.
pub(super) fn split_index(value: &str) -> Option<(&str, &str)> {
    value.split_once(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag keeps the hash slot of a subject's keys one slot: no brace or space left in it,
    /// never empty, and two subjects never share one.
    #[test]
    fn a_tag_has_no_brace_is_never_empty_and_is_one_to_one() {
        assert_eq!(tag("alice@example.com"), "alice@example.com");
        assert_eq!(tag("}{ %"), "%7D%7B%20%25");
        assert_eq!(tag(""), "%");
        let subjects = ["", "%", "%25", "{", "%7B", "}", " ", "a b", "a%20b", "x}y"];
        let tags: std::collections::HashSet<String> = subjects.iter().map(|s| tag(s)).collect();
        assert_eq!(tags.len(), subjects.len());
        for s in subjects {
            let t = tag(s);
            assert!(
                !t.is_empty() && !t.contains(['{', '}', ' ']),
                "{s:?} -> {t:?}"
            );
            // Every key of the subject has the same hash tag: the text between its first
            // `{` and the next `}`.
            for key in [
                subject_key("login:", &t),
                logout_key("login:", &t),
                session_key("login:", &t, "sid"),
            ] {
                let open = key.find('{').unwrap();
                let close = open + key[open..].find('}').unwrap();
                assert_eq!(&key[open + 1..close], t, "{key}");
            }
        }
        assert_eq!(split_index("a%20b sid1"), Some(("a%20b", "sid1")));
    }
}
