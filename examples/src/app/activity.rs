//! "Recent sign-in activity": the manager's auth events, recorded in SQLite by
//! [`SignInLog`] (the hook set on the manager's builder) and shown to each user, their own
//! only, at `GET /activity`.
//!
//! The hook runs on the request's task and must not wait for the database: it hands each event
//! to a bounded queue that one task drains into the `auth_events` table (an event that finds
//! the queue full is dropped with a warning, so memory stays bounded). It also keeps the
//! library's `tracing` lines (`login::events`).
//!
//! An event the manager reports without a subject but with a session (a refresh token
//! presented again, a session ended by id) is filed under the subject of that session's
//! sign-in, so the user sees it too. Failed sign-ins of unknown accounts are stored without
//! the user name submitted, and shown to nobody.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use login::events::{AuthEvent, AuthEventKind, AuthEvents, TracingEvents};
use login::protected;
use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, SqlitePool};
use tokio::sync::mpsc;

use super::db::User;
use super::web::{AppError, Format};
use super::{AppState, html};

/// How many events wait for the database at most; more are dropped (with a warning).
pub const QUEUE: usize = 1024;
/// How many events the activity page shows, newest first.
pub const SHOWN: i64 = 50;

/// The auth events hook of the app: each event goes to the `auth_events` table.
#[derive(Debug, Clone)]
pub struct SignInLog {
    queue: mpsc::Sender<AuthEvent>,
}

impl SignInLog {
    /// A hook writing to `db`, and the task that drains its queue (call it inside a Tokio
    /// runtime; the task ends when the manager holding the hook is dropped).
    pub fn new(db: SqlitePool) -> Self {
        let (queue, mut events) = mpsc::channel::<AuthEvent>(QUEUE);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let Err(error) = insert(&db, &event).await {
                    tracing::error!(%error, "could not record a sign-in event");
                }
            }
        });
        SignInLog { queue }
    }
}

impl AuthEvents for SignInLog {
    fn record(&self, event: &AuthEvent) {
        TracingEvents.record(event);
        if self.queue.try_send(event.clone()).is_err() {
            tracing::warn!(
                event = event.kind.name(),
                "sign-in activity queue full: event dropped"
            );
        }
    }
}

async fn insert(db: &SqlitePool, event: &AuthEvent) -> Result<(), sqlx::Error> {
    let reason = match event.kind {
        AuthEventKind::LoginFailed(reason) => Some(reason.name()),
        _ => None,
    };
    sqlx::query(
        "INSERT INTO auth_events (at, kind, reason, subject, address, user_agent, session_id) \
         VALUES (?, ?, ?, COALESCE(?, (SELECT subject FROM auth_events \
         WHERE session_id = ? AND subject IS NOT NULL LIMIT 1)), ?, ?, ?)",
    )
    .bind(event.at)
    .bind(event.kind.name())
    .bind(reason)
    .bind(event.subject.as_deref())
    .bind(event.session_id.as_deref())
    .bind(event.address.map(|a| a.to_string()))
    .bind(event.user_agent.as_deref())
    .bind(event.session_id.as_deref())
    .execute(db)
    .await?;
    Ok(())
}

/// One line of the activity page.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Activity {
    /// When (seconds since the Unix epoch).
    pub at: i64,
    /// What (`login::events::AuthEventKind::name`).
    pub kind: String,
    /// Why a sign-in failed, if it did.
    pub reason: Option<String>,
    /// From which address, if known.
    pub address: Option<String>,
    /// With which browser, if known.
    pub user_agent: Option<String>,
}

impl Activity {
    /// The kind in words.
    pub fn label(&self) -> &str {
        match self.kind.as_str() {
            "login_succeeded" => "Signed in",
            "login_failed" => "Failed sign-in",
            "login_throttled" => "Sign-in refused after too many failures",
            "device_token_used" => "Signed in from a known device",
            "refresh_reuse_detected" => "Session ended: its refresh token was used twice",
            "logout" => "Signed out",
            "logout_everywhere" => "Signed out everywhere",
            "token_revoked" => "Access token revoked",
            other => other,
        }
    }
}

/// The latest events of `email`'s account, newest first.
pub async fn recent(db: &SqlitePool, email: &str) -> Result<Vec<Activity>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, kind, reason, address, user_agent FROM auth_events \
         WHERE subject = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(email)
    .bind(SHOWN)
    .fetch_all(db)
    .await
}

/// `GET /activity`: the user's recent sign-in activity.
#[protected]
pub async fn activity_page(
    user: User,
    State(state): State<AppState>,
    format: Format,
) -> Result<Response, AppError> {
    let events = recent(&state.db, &user.email)
        .await
        .map_err(|e| format.db_error(e))?;
    Ok(match format {
        Format::Json => Json(json!({ "events": events })).into_response(),
        Format::Html => (StatusCode::OK, Html(html::activity_page(&user, &events))).into_response(),
    })
}
