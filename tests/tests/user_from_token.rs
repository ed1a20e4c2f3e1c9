//! `LoginManager::user_from_token`: fastapi-login's `get_current_user(token)`, outside a
//! request, with the extractors' checks and outcomes.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use login::{
    LoginManager, loader::TokenUserError, rejection::RejectionKind, rejection::VerifyError,
};
use login_test_support::{NOW, forge};
use login_tests::{AppState, DB_DOWN, GHOST, Probe, STORE_DOWN_BODY, TestApp, User};
use serde_json::json;

fn state(manager: &LoginManager) -> AppState {
    AppState {
        manager: manager.clone(),
        probe: Probe::default(),
    }
}

#[tokio::test]
async fn a_valid_token_names_its_user() {
    let app = TestApp::new();
    let state = state(&app.manager);
    let token = app.token("alice");
    let user: User = app.manager.user_from_token(&token, &state).await.unwrap();
    assert_eq!(user.name, "alice");
    assert_eq!(state.probe.loads(), 1);
}

#[tokio::test]
async fn the_same_rejections_as_the_extractors() {
    let app = TestApp::new();
    let state = state(&app.manager);
    // An unknown subject: 401 invalid_token, as the extractors answer.
    let error = app
        .manager
        .user_from_token::<User, _>(&app.token(GHOST), &state)
        .await
        .unwrap_err();
    assert!(matches!(error, TokenUserError::UnknownUser), "{error:?}");
    assert_eq!(error.kind(), Some(RejectionKind::InvalidToken));
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    // Expired, forged and garbage tokens never reach the loader.
    let loads = state.probe.loads();
    let expired = forge::claims(&json!({ "sub": "alice", "exp": NOW }));
    for (token, reason) in [
        (expired.as_str(), VerifyError::Expired),
        ("not.a.token", VerifyError::Malformed(String::new())),
    ] {
        match app.manager.user_from_token::<User, _>(token, &state).await {
            Err(TokenUserError::InvalidToken(error)) => {
                assert_eq!(
                    std::mem::discriminant(&error),
                    std::mem::discriminant(&reason)
                );
            }
            other => panic!("{token}: {other:?}"),
        }
    }
    assert_eq!(state.probe.loads(), loads, "the loader ran for a bad token");
}

#[tokio::test]
async fn a_failing_loader_is_its_own_answer_never_an_unknown_user() {
    let app = TestApp::new();
    let state = state(&app.manager);
    let error = app
        .manager
        .user_from_token::<User, _>(&app.token(DB_DOWN), &state)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), None);
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(body, STORE_DOWN_BODY.as_bytes());
}

#[tokio::test]
async fn an_ended_session_ends_the_token_here_too() {
    let manager = login_tests::builder().sessions().build().unwrap();
    let state = state(&manager);
    let tokens = manager.start_session("alice", None).await.unwrap();
    let user: User = manager
        .user_from_token(&tokens.access_token, &state)
        .await
        .unwrap();
    assert_eq!(user.name, "alice");
    assert!(manager.end_session(&tokens.session_id).await.unwrap());
    assert!(matches!(
        manager
            .user_from_token::<User, _>(&tokens.access_token, &state)
            .await,
        Err(TokenUserError::InvalidToken(_))
    ));
}
