//! Property tests for the two kinds of token (RFC 8725 §3.11): no mutation of a refresh token
//! is ever accepted as an access token, nor as another refresh token; no access token, nor any
//! mutation of one, is ever accepted as a refresh token; and a refused refresh never changes
//! the store.

use std::sync::Arc;

use login::{LoginManager, session::MemoryStore, session::RefreshError};
use login_test_support::NOW;
use login_tests::builder;
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn manager(store: Arc<MemoryStore>) -> LoginManager {
    builder()
        .clock(|| NOW)
        .use_cookie(true)
        .session_store(store)
        .build()
        .unwrap()
}

/// One change to a token: replace, insert or delete a character, truncate, or append.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
    Truncate(usize),
    Append(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![
        proptest::char::range('!', '~'),
        Just('.'),
        Just(' '),
        Just('é'),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        "[A-Za-z0-9._-]{1,40}".prop_map(Mutation::Append),
    ]
}

fn apply(token: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = token.chars().collect();
    let n = chars.len();
    let mut out = chars.clone();
    if n == 0 {
        if let Mutation::Insert(_, c) = mutation {
            out.push(*c);
        } else if let Mutation::Append(s) = mutation {
            out.extend(s.chars());
        }
        return out.into_iter().collect();
    }
    match mutation {
        Mutation::Replace(i, c) => out[i % n] = *c,
        Mutation::Insert(i, c) => out.insert(i % (n + 1), *c),
        Mutation::Delete(i) => {
            out.remove(i % n);
        }
        Mutation::Truncate(i) => out.truncate(i % n),
        Mutation::Append(s) => out.extend(s.chars()),
    }
    out.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_mutated_refresh_token_is_neither_an_access_token_nor_a_refresh_token(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let rt = runtime();
        let store = MemoryStore::shared();
        let manager = manager(store.clone());
        let tokens = rt.block_on(manager.start_session("alice", None)).unwrap();
        let mut token = tokens.refresh_token.clone();
        for m in &mutations {
            token = apply(&token, m);
        }
        prop_assert!(manager.verify_token(&tokens.refresh_token).is_err());
        prop_assert!(manager.verify_token(&token).is_err());
        if token != tokens.refresh_token {
            let refused = rt.block_on(manager.refresh(&token, None));
            prop_assert!(matches!(refused, Err(RefreshError::InvalidGrant)));
            // Nothing changed: the original still refreshes.
            prop_assert_eq!(store.refresh_tokens(), 1);
            prop_assert!(rt.block_on(manager.refresh(&tokens.refresh_token, None)).is_ok());
        }
    }

    #[test]
    fn no_access_token_nor_a_mutation_of_one_is_a_refresh_token(
        mutations in proptest::collection::vec(mutation(), 0..3)
    ) {
        let rt = runtime();
        let store = MemoryStore::shared();
        let manager = manager(store.clone());
        let tokens = rt.block_on(manager.start_session("alice", None)).unwrap();
        let mut token = tokens.access_token.clone();
        for m in &mutations {
            token = apply(&token, m);
        }
        let refused = rt.block_on(manager.refresh(&token, None));
        prop_assert!(matches!(refused, Err(RefreshError::InvalidGrant)));
        prop_assert_eq!(store.refresh_tokens(), 1);
        prop_assert!(rt.block_on(manager.refresh(&tokens.refresh_token, None)).is_ok());
    }
}
