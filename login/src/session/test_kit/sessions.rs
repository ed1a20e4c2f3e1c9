//! The session-store cases of the contract suite.

use std::sync::Arc;

use super::{CaseFuture, Instances, Recorder, SessionCase, now, session, token, unique};
use crate::session::store::{NewSession, Revocation, Rotated, Rotation, SessionStore};
use crate::session::{Session, TokenHash};

pub(super) const CASES: &[SessionCase] = &[
    SessionCase {
        name: "a_created_session_is_found_by_its_refresh_token_on_both_instances",
        run: create_and_find,
    },
    SessionCase {
        name: "rotation_consumes_the_token_and_installs_the_successor",
        run: rotates,
    },
    SessionCase {
        name: "within_the_grace_window_a_repeated_refresh_gets_the_same_successor",
        run: grace_window,
    },
    SessionCase {
        name: "a_rotated_token_presented_again_ends_the_session_and_publishes_it",
        run: reuse,
    },
    SessionCase {
        name: "two_rotations_of_one_token_at_once_on_two_instances_install_one_successor",
        run: concurrent_rotations,
    },
    SessionCase {
        name: "unknown_tokens_and_other_managers_sessions_are_invalid_and_change_nothing",
        run: invalid_rotations,
    },
    SessionCase {
        name: "ending_one_session_stops_its_tokens_and_publishes_its_end",
        run: end_one,
    },
    SessionCase {
        name: "a_reauthentication_renews_the_sessions_amr_and_auth_time_for_its_refreshes",
        run: reauthenticate,
    },
    SessionCase {
        name: "logging_out_everywhere_ends_every_session_of_the_subject_only",
        run: end_all,
    },
    SessionCase {
        name: "a_login_that_read_the_generation_before_log_out_everywhere_is_not_stored",
        run: same_second_rule,
    },
    SessionCase {
        name: "a_revoked_access_token_is_published_and_in_the_snapshot_until_it_expires",
        run: revoke_access_token,
    },
    SessionCase {
        name: "sessions_are_listed_live_only_oldest_first",
        run: list,
    },
    SessionCase {
        name: "past_the_cap_a_login_ends_the_oldest_sessions",
        run: cap,
    },
    SessionCase {
        name: "a_subscriber_gets_the_revocations_in_force_then_each_new_one",
        run: stream,
    },
];

fn new_session(session: &Session, refresh: TokenHash, generation: u64) -> NewSession {
    NewSession {
        session: session.clone(),
        refresh,
        logout_generation: generation,
        max_sessions: 100,
        revoke_until: session.created_at + 900,
    }
}

async fn create(store: &dyn SessionStore, session: &Session) -> (String, TokenHash) {
    let (token, hash) = token();
    let generation = store
        .logout_generation(&session.subject)
        .await
        .expect("logout_generation");
    store
        .create(new_session(session, hash, generation))
        .await
        .expect("create");
    (token, hash)
}

fn rotation(presented: TokenHash, now: i64, grace: Option<(String, i64)>) -> (String, Rotation) {
    let (successor, hash) = token();
    let rotation = Rotation {
        presented,
        successor: hash,
        grace: grace.map(|(_, until)| (successor.clone(), until)),
        now,
        expires_at: now + 7200,
        user_agent: Some("rotated-by-test-kit".to_owned()),
        revoke_until: now + 900,
        manager: None,
    };
    (successor, rotation)
}

fn ended(sid: &str, until: i64) -> Revocation {
    Revocation::SessionEnded {
        sid: sid.to_owned(),
        until,
    }
}

async fn found(store: &dyn SessionStore, hash: TokenHash, now: i64) -> Option<Session> {
    store.find(hash, now).await.expect("find")
}

fn create_and_find(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let subject = unique("alice");
        assert_eq!(
            i.a.logout_generation(&subject).await.expect("generation"),
            0,
            "a subject that never logged out everywhere has generation 0"
        );
        let s = session(&subject, t);
        let (_, hash) = create(&*i.a, &s).await;
        assert_eq!(found(&*i.a, hash, t).await.as_ref(), Some(&s), "on A");
        assert_eq!(
            found(&*i.b, hash, t).await.as_ref(),
            Some(&s),
            "a session created on A is found, unchanged, on B"
        );
        assert_eq!(found(&*i.b, token().1, t).await, None, "an unknown token");
        assert_eq!(
            found(&*i.b, hash, s.expires_at).await,
            None,
            "a session is not found once its refresh token has expired"
        );
        let mut ending = session(&subject, t);
        ending.ends_at = Some(t + 60);
        let (_, hash) = create(&*i.a, &ending).await;
        assert_eq!(
            found(&*i.b, hash, t + 60).await,
            None,
            "a session is not found once its absolute end has passed"
        );
    })
}

fn rotates(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let mut s = session(&unique("bob"), t);
        s.ends_at = Some(t + 5000);
        let (_, first) = create(&*i.a, &s).await;
        let (_, r) = rotation(first, t + 1, None);
        let second = r.successor;
        let Rotated::Rotated(rotated) = i.b.rotate(r).await.expect("rotate") else {
            panic!("the current token rotates");
        };
        assert_eq!(rotated.id, s.id);
        assert_eq!(
            rotated.refreshed_at,
            Some(t + 1),
            "refreshed_at is the rotation's now"
        );
        assert_eq!(
            rotated.expires_at,
            t + 5000,
            "the successor's expiry is capped at the session's end"
        );
        assert_eq!(rotated.user_agent.as_deref(), Some("rotated-by-test-kit"));
        assert_eq!(
            found(&*i.a, second, t + 1).await.as_ref(),
            Some(&rotated),
            "the successor finds the session, as rotated, on the other instance"
        );
        // The successor rotates in its turn.
        let (_, r) = rotation(second, t + 2, None);
        assert!(
            matches!(i.a.rotate(r).await.expect("rotate"), Rotated::Rotated(_)),
            "the successor is the current token now"
        );
    })
}

fn grace_window(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let s = session(&unique("carol"), t);
        let (_, first) = create(&*i.a, &s).await;
        let (successor, r) = rotation(first, t, Some((String::new(), t + 10)));
        assert!(matches!(
            i.a.rotate(r).await.expect("rotate"),
            Rotated::Rotated(_)
        ));
        let (_, again) = rotation(first, t + 9, None);
        match i.b.rotate(again).await.expect("rotate") {
            Rotated::Repeated {
                session,
                refresh_token,
            } => {
                assert_eq!(session.id, s.id);
                assert_eq!(
                    refresh_token, successor,
                    "a repeated refresh within the window gets the first rotation's successor"
                );
            }
            other => panic!("within the grace window: expected Repeated, got {other:?}"),
        }
        let (_, late) = rotation(first, t + 10, None);
        assert_eq!(
            i.b.rotate(late).await.expect("rotate"),
            Rotated::Reused { sid: s.id.clone() },
            "at the end of the grace window, the old token is reuse"
        );
        assert_eq!(
            found(&*i.a, TokenHash::of(&successor), t + 10).await,
            None,
            "reuse ended the session: its successor is dead too"
        );
    })
}

fn reuse(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        let s = session(&unique("dave"), t);
        let (_, first) = create(&*i.a, &s).await;
        let (_, r) = rotation(first, t, None);
        let second = r.successor;
        assert!(matches!(
            i.a.rotate(r).await.expect("rotate"),
            Rotated::Rotated(_)
        ));
        let (_, stolen) = rotation(first, t, None);
        let revoke_until = stolen.revoke_until;
        assert_eq!(
            i.a.rotate(stolen).await.expect("rotate"),
            Rotated::Reused { sid: s.id.clone() },
            "an already rotated token, without a grace window, is reuse"
        );
        let (_, r) = rotation(second, t, None);
        assert_eq!(
            i.b.rotate(r).await.expect("rotate"),
            Rotated::Invalid,
            "after reuse, the session's current token is dead"
        );
        assert_eq!(found(&*i.b, second, t).await, None);
        recorder.wait_for(&ended(&s.id, revoke_until)).await;
    })
}

fn concurrent_rotations(i: Instances) -> CaseFuture {
    Box::pin(async move {
        for round in 0..20 {
            let t = now();
            let s = session(&unique("erin"), t);
            let (_, first) = create(&*i.a, &s).await;
            let (token_a, ra) = rotation(first, t, Some((String::new(), t + 10)));
            let (token_b, rb) = rotation(first, t, Some((String::new(), t + 10)));
            let (a, b) = (i.a.clone(), i.b.clone());
            let on_a = tokio::spawn(async move { a.rotate(ra).await });
            let on_b = tokio::spawn(async move { b.rotate(rb).await });
            let outcome_a = on_a.await.expect("join").expect("rotate on A");
            let outcome_b = on_b.await.expect("join").expect("rotate on B");
            let (winner, repeated) = match (&outcome_a, &outcome_b) {
                (Rotated::Rotated(_), Rotated::Repeated { refresh_token, .. }) => {
                    (&token_a, refresh_token)
                }
                (Rotated::Repeated { refresh_token, .. }, Rotated::Rotated(_)) => {
                    (&token_b, refresh_token)
                }
                _ => panic!(
                    "round {round}: two rotations of one token at once must give one Rotated \
                     and one Repeated, got {outcome_a:?} and {outcome_b:?}"
                ),
            };
            assert_eq!(
                repeated, winner,
                "round {round}: the loser is handed the winner's successor"
            );
            let loser = if winner == &token_a {
                &token_b
            } else {
                &token_a
            };
            assert_eq!(
                found(&*i.a, TokenHash::of(loser), t).await,
                None,
                "round {round}: the losing successor was never installed"
            );
            assert!(found(&*i.b, TokenHash::of(winner), t).await.is_some());
        }
    })
}

fn invalid_rotations(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let (_, r) = rotation(token().1, t, None);
        assert_eq!(
            i.a.rotate(r).await.expect("rotate"),
            Rotated::Invalid,
            "an unknown token"
        );
        let s = session(&unique("frank"), t);
        let (_, first) = create(&*i.a, &s).await;
        let (_, mut other) = rotation(first, t, None);
        other.manager = Some("OtherManager".to_owned());
        assert_eq!(
            i.b.rotate(other).await.expect("rotate"),
            Rotated::Invalid,
            "a session another manager started"
        );
        assert_eq!(
            found(&*i.a, first, t).await.as_ref(),
            Some(&s),
            "invalid rotations changed nothing"
        );
        let (_, r) = rotation(first, t, None);
        let second = r.successor;
        let Rotated::Rotated(rotated) = i.a.rotate(r).await.expect("rotate") else {
            panic!("the session's own manager rotates it");
        };
        // Last, as it moves the store's clock past the session's expiry.
        let (_, expired) = rotation(second, rotated.expires_at, None);
        assert_eq!(
            i.b.rotate(expired).await.expect("rotate"),
            Rotated::Invalid,
            "an expired token"
        );
    })
}

fn end_one(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        let own = Arc::new(Recorder::default());
        i.a.subscribe(own.clone());
        let subject = unique("grace");
        let s = session(&subject, t);
        let other = session(&subject, t);
        let (_, hash) = create(&*i.a, &s).await;
        let (_, kept) = create(&*i.a, &other).await;
        assert!(
            i.a.end_session(&s.id, t, t + 900).await.expect("end"),
            "a live session: ending it answers true"
        );
        assert!(
            own.holds(&ended(&s.id, t + 900)),
            "the instance that ended the session has applied its end to its own subscribers \
             before end_session returned (it refuses from the next request on)"
        );
        assert!(
            !i.b.end_session(&s.id, t, t + 900).await.expect("end"),
            "ending it again answers false"
        );
        assert_eq!(found(&*i.b, hash, t).await, None);
        let (_, r) = rotation(hash, t, None);
        assert_eq!(i.b.rotate(r).await.expect("rotate"), Rotated::Invalid);
        assert_eq!(
            found(&*i.b, kept, t).await.as_ref(),
            Some(&other),
            "the subject's other session lives on"
        );
        recorder.wait_for(&ended(&s.id, t + 900)).await;
        let snapshot = i.b.snapshot(t).await.expect("snapshot");
        assert!(snapshot.contains(&ended(&s.id, t + 900)), "{snapshot:?}");
    })
}

fn reauthenticate(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let subject = unique("reauth");
        let mut s = session(&subject, t);
        s.extra.insert("amr".into(), serde_json::json!(["pwd"]));
        s.extra
            .insert("auth_time".into(), serde_json::json!(t - 600));
        s.extra.insert("tenant".into(), serde_json::json!(7));
        let (_, hash) = create(&*i.a, &s).await;
        let amr = vec!["pwd".to_owned(), "otp".to_owned(), "mfa".to_owned()];
        assert!(
            i.b.reauthenticate(&subject, &s.id, amr.clone(), t, t)
                .await
                .expect("reauthenticate"),
            "a live session is re-authenticated"
        );
        let renewed = found(&*i.a, hash, t).await.expect("the session lives on");
        assert_eq!(renewed.amr(), amr, "the other instance reads the new amr");
        assert_eq!(renewed.auth_time(), Some(t));
        assert_eq!(
            renewed.extra.get("tenant"),
            Some(&serde_json::json!(7)),
            "the other extra claims are kept"
        );
        assert_eq!(
            (renewed.id.as_str(), renewed.created_at, renewed.expires_at),
            (s.id.as_str(), s.created_at, s.expires_at),
            "the same session: nothing else changes"
        );
        let (_, r) = rotation(hash, t, None);
        match i.b.rotate(r).await.expect("rotate") {
            Rotated::Rotated(rotated) => {
                assert_eq!(
                    rotated.amr(),
                    amr,
                    "a refresh carries the re-authentication's"
                );
                assert_eq!(rotated.auth_time(), Some(t));
            }
            other => panic!("the session rotates as before: {other:?}"),
        }
        assert!(
            !i.a.reauthenticate("someone-else", &s.id, amr.clone(), t, t)
                .await
                .expect("reauthenticate"),
            "another subject's session is not touched"
        );
        assert!(
            !i.a.reauthenticate(&subject, &unique("sid"), amr.clone(), t, t)
                .await
                .expect("reauthenticate"),
            "an unknown session"
        );
        i.a.end_session(&s.id, t, t + 900).await.expect("end");
        assert!(
            !i.b.reauthenticate(&subject, &s.id, amr, t, t)
                .await
                .expect("reauthenticate"),
            "an ended session is not re-authenticated"
        );
    })
}

fn end_all(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        let subject = unique("heidi");
        let bystander = session(&unique("ivan"), t);
        let (_, kept) = create(&*i.a, &bystander).await;
        let mut hashes = Vec::new();
        let mut sids = Vec::new();
        for _ in 0..3 {
            let s = session(&subject, t);
            hashes.push(create(&*i.a, &s).await.1);
            sids.push(s.id);
        }
        let before = i.a.logout_generation(&subject).await.expect("generation");
        assert_eq!(
            i.b.end_subject(&subject, t, t + 900)
                .await
                .expect("end_subject"),
            3,
            "three live sessions ended"
        );
        assert_ne!(
            i.a.logout_generation(&subject).await.expect("generation"),
            before,
            "log out everywhere changes the subject's logout generation, on every instance"
        );
        for hash in hashes {
            assert_eq!(found(&*i.a, hash, t).await, None);
        }
        assert!(
            i.a.sessions(&subject, t)
                .await
                .expect("sessions")
                .is_empty()
        );
        assert!(
            found(&*i.a, kept, t).await.is_some(),
            "another subject's session lives on"
        );
        let logout = Revocation::SubjectLoggedOut {
            subject: subject.clone(),
            before: t,
            until: t + 900,
        };
        recorder.wait_for(&logout).await;
        for sid in &sids {
            recorder.wait_for(&ended(sid, t + 900)).await;
        }
        let snapshot = i.a.snapshot(t).await.expect("snapshot");
        assert!(snapshot.contains(&logout), "{snapshot:?}");
    })
}

fn same_second_rule(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.a.subscribe(recorder.clone());
        let subject = unique("judy");
        // The login reads the generation and mints its tokens, then "log out everywhere" runs
        // on the other instance in the same second, then the login stores its session.
        let raced = session(&subject, t);
        let stale = i.a.logout_generation(&subject).await.expect("generation");
        i.b.end_subject(&subject, t, t + 900)
            .await
            .expect("end_subject");
        let (_, hash) = token();
        i.a.create(new_session(&raced, hash, stale))
            .await
            .expect("a login that raced the logout answers Ok");
        assert_eq!(
            found(&*i.b, hash, t).await,
            None,
            "the raced login's session is not stored, though it started in the logout's second"
        );
        recorder.wait_for(&ended(&raced.id, t + 900)).await;
        // A login after the logout (same second, current generation) is stored.
        let after = session(&subject, t);
        let (_, hash) = create(&*i.a, &after).await;
        assert_eq!(found(&*i.b, hash, t).await.as_ref(), Some(&after));
        // And the two races, at once, many times: the login is either stored and then ended
        // by the logout, or not stored; never alive after both.
        for round in 0..20 {
            let subject = unique("mallory");
            let s = session(&subject, t);
            let (_, hash) = token();
            let generation = i.a.logout_generation(&subject).await.expect("generation");
            let (a, b) = (i.a.clone(), i.b.clone());
            let new = new_session(&s, hash, generation);
            let login = tokio::spawn(async move { a.create(new).await });
            let logout_subject = subject.clone();
            let logout =
                tokio::spawn(async move { b.end_subject(&logout_subject, t, t + 900).await });
            login.await.expect("join").expect("create");
            logout.await.expect("join").expect("end_subject");
            assert_eq!(
                found(&*i.a, hash, t).await,
                None,
                "round {round}: a login racing log out everywhere survived it"
            );
        }
    })
}

fn revoke_access_token(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        let jti = unique("jti");
        i.a.revoke_access_token(&jti, t + 300)
            .await
            .expect("revoke");
        let revoked = Revocation::AccessTokenRevoked {
            jti: jti.clone(),
            until: t + 300,
        };
        recorder.wait_for(&revoked).await;
        let snapshot = i.b.snapshot(t).await.expect("snapshot");
        assert!(snapshot.contains(&revoked), "{snapshot:?}");
        let later = i.b.snapshot(t + 301).await.expect("snapshot");
        assert!(
            !later.contains(&revoked),
            "a snapshot past the revocation's until no longer holds it: {later:?}"
        );
    })
}

fn list(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let subject = unique("ken");
        let newer = session(&subject, t);
        let older = session(&subject, t - 100);
        let mut short = session(&subject, t - 50);
        short.expires_at = t + 10;
        create(&*i.a, &newer).await;
        create(&*i.a, &older).await;
        create(&*i.a, &short).await;
        create(&*i.a, &session(&unique("liz"), t)).await;
        let listed = i.b.sessions(&subject, t).await.expect("sessions");
        assert_eq!(
            listed.iter().map(|s| &s.id).collect::<Vec<_>>(),
            vec![&older.id, &short.id, &newer.id],
            "the subject's sessions only, oldest first"
        );
        let listed = i.b.sessions(&subject, t + 10).await.expect("sessions");
        assert_eq!(
            listed.iter().map(|s| &s.id).collect::<Vec<_>>(),
            vec![&older.id, &newer.id],
            "an expired session is not listed"
        );
        assert!(
            i.b.sessions(&unique("nobody"), t)
                .await
                .expect("sessions")
                .is_empty()
        );
    })
}

fn cap(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        let subject = unique("nina");
        let mut hashes = Vec::new();
        let mut sessions = Vec::new();
        for age in [300, 200, 100] {
            let s = session(&subject, t - age);
            let (_, hash) = token();
            let generation = i.a.logout_generation(&subject).await.expect("generation");
            let mut new = new_session(&s, hash, generation);
            new.max_sessions = 2;
            i.a.create(new).await.expect("create");
            hashes.push(hash);
            sessions.push(s);
        }
        assert_eq!(
            found(&*i.b, hashes[0], t).await,
            None,
            "past the cap of 2, the oldest session is ended"
        );
        let listed = i.b.sessions(&subject, t).await.expect("sessions");
        assert_eq!(
            listed.iter().map(|s| &s.id).collect::<Vec<_>>(),
            vec![&sessions[1].id, &sessions[2].id]
        );
        recorder
            .wait_for(&ended(&sessions[0].id, sessions[2].created_at + 900))
            .await;
    })
}

fn stream(i: Instances) -> CaseFuture {
    Box::pin(async move {
        let t = now();
        let jti = unique("jti");
        i.a.revoke_access_token(&jti, t + 300)
            .await
            .expect("revoke");
        let earlier = Revocation::AccessTokenRevoked {
            jti,
            until: t + 300,
        };
        // A subscriber that arrives later is handed what is in force.
        let recorder = Arc::new(Recorder::default());
        i.b.subscribe(recorder.clone());
        recorder.wait_for(&earlier).await;
        assert!(
            recorder
                .events()
                .iter()
                .any(|e| matches!(e, super::Event::Replace(_))),
            "subscribing hands the revocations in force with replace"
        );
        // Then each new one, from either instance.
        let s = session(&unique("oscar"), t);
        create(&*i.a, &s).await;
        i.a.end_session(&s.id, t, t + 600).await.expect("end");
        recorder.wait_for(&ended(&s.id, t + 600)).await;
        let subject = unique("peggy");
        i.b.end_subject(&subject, t, t + 600)
            .await
            .expect("end_subject");
        recorder
            .wait_for(&Revocation::SubjectLoggedOut {
                subject,
                before: t,
                until: t + 600,
            })
            .await;
        let snapshot = i.a.snapshot(t).await.expect("snapshot");
        assert!(snapshot.contains(&earlier), "{snapshot:?}");
        assert!(snapshot.contains(&ended(&s.id, t + 600)), "{snapshot:?}");
    })
}
