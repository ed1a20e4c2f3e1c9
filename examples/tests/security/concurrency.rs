//! Concurrency: 64 tokio tasks on a multi-threaded runtime send 1,600 requests mixing 22
//! users' valid tokens (header and cookie, on every route) with invalid ones. Every response
//! is accounted for, every 200 names the user whose token was sent, nothing is a 5xx, and the
//! store was asked exactly as often as the requests that should reach it — so the shared
//! token cache and the per-request user cache never cross two requests.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use login_test_support::forge::{claims, parts, valid_claims};
use login_test_support::{NOW, request, send};
use serde_json::{Value, json};

use crate::common::{GHOST, Harness, JANE, JOHN, count};

const TASKS: usize = 64;
const PER_TASK: usize = 25;
const EXTRA_USERS: usize = 20;

/// One kind of request and what it must get.
#[derive(Clone)]
struct Plan {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
    /// The user a 200 must name (`None`: anonymous, or not a 200).
    user: Option<String>,
    loads: usize,
}

fn plans(h: &Harness, users: &[String]) -> Vec<Plan> {
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let cookie = |t: &str| vec![("cookie", format!("access-token={t}"))];
    let ok = |path, headers, user: &str| Plan {
        path,
        headers,
        status: StatusCode::OK,
        user: Some(user.to_owned()),
        loads: 1,
    };
    let refused = |path, headers, status, loads| Plan {
        path,
        headers,
        status,
        user: None,
        loads,
    };
    let mut plans = Vec::new();
    for user in users {
        let token = h.token(user, &["read", "write"]);
        plans.push(ok("/protected", bearer(&token), user));
        plans.push(ok("/scoped", cookie(&token), user));
        plans.push(ok("/optional", bearer(&token), user));
    }
    let jane = h.jane();
    let john = h.john();
    plans.push(ok("/protected", cookie(&jane), JANE));
    plans.push(refused("/scoped", bearer(&jane), StatusCode::FORBIDDEN, 0));
    // Invalid ones.
    let (jh, jp, _) = parts(&john);
    let (_, _, ns) = parts(&jane);
    let tampered = format!("{jh}.{jp}.{ns}");
    let expired = claims(&valid_claims(JOHN, json!({ "exp": NOW })));
    let ghost = h.token(GHOST, &["read", "write"]);
    let unauthorized = StatusCode::UNAUTHORIZED;
    plans.push(refused("/protected", bearer(&tampered), unauthorized, 0));
    plans.push(refused("/protected", cookie(&expired), unauthorized, 0));
    plans.push(refused("/protected", bearer("x.y.z"), unauthorized, 0));
    plans.push(refused("/protected", vec![], unauthorized, 0));
    plans.push(refused("/scoped", bearer(&ghost), unauthorized, 1));
    plans.push(refused(
        "/protected",
        vec![(
            "cookie",
            format!("access-token={john}; access-token={jane}"),
        )],
        StatusCode::BAD_REQUEST,
        0,
    ));
    // The header decides; the cookie is not read.
    plans.push(refused(
        "/protected",
        vec![
            ("cookie", format!("access-token={john}")),
            ("authorization", "Bearer x.y.z".to_owned()),
        ],
        unauthorized,
        0,
    ));
    plans.push(ok(
        "/protected",
        vec![
            ("cookie", "access-token=x.y.z".to_owned()),
            ("authorization", format!("Bearer {john}")),
        ],
        JOHN,
    ));
    let mut anonymous = refused("/optional", bearer(&tampered), StatusCode::OK, 0);
    anonymous.user = None;
    plans.push(anonymous);
    plans
}

async fn run(router: Router, plans: Vec<Plan>, task: usize) -> Vec<(usize, StatusCode, Value)> {
    let mut results = Vec::with_capacity(PER_TASK);
    for i in 0..PER_TASK {
        let index = (task * 31 + i * 7) % plans.len();
        let plan = &plans[index];
        let headers: Vec<(&str, &[u8])> = plan
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_bytes()))
            .collect();
        let reply = send(
            &router,
            request(Method::GET, plan.path, &headers, Body::empty()),
        )
        .await;
        // Only a 200's body is read (and it is JSON); the others go into messages.
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        results.push((index, reply.status, body));
        tokio::task::yield_now().await;
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_at_once_nothing_lost_nothing_crossed() {
    let h = Harness::uncaptured();
    let hash = login::password::Passwords::default()
        .hash_blocking("unused-password")
        .unwrap();
    let mut users: Vec<String> = (0..EXTRA_USERS)
        .map(|i| format!("user{i}@mail.com"))
        .collect();
    for (i, user) in users.iter().enumerate() {
        h.db.add_user(user, &format!("User {i}"), hash.clone(), &["read", "write"]);
    }
    users.push(JOHN.to_owned());
    users.push(JANE.to_owned());
    let plans = plans(&h, &users);

    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        tasks.spawn(run(h.router.clone(), plans.clone(), task));
    }
    let mut responses = 0;
    let mut expected_loads = 0;
    let mut per_plan: HashMap<usize, usize> = HashMap::new();
    while let Some(results) = tasks.join_next().await {
        for (index, status, body) in results.expect("a task panicked") {
            let plan = &plans[index];
            responses += 1;
            expected_loads += plan.loads;
            *per_plan.entry(index).or_default() += 1;
            assert!(!status.is_server_error(), "5xx for plan {index}");
            assert_eq!(status, plan.status, "plan {index} ({}): {body}", plan.path);
            if status == StatusCode::OK {
                let named = body["user"]["email"].as_str().map(str::to_owned);
                assert_eq!(named, plan.user, "plan {index}: the wrong user was named");
            }
        }
    }
    assert_eq!(responses, TASKS * PER_TASK, "responses lost");
    assert_eq!(h.loads(), expected_loads, "store lookups");
    assert!(per_plan.len() > plans.len() / 2, "too few kinds exercised");
    count("concurrency", 1);
}
