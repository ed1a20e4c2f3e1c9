//! The `chat` app: a `#[protected]` WebSocket route.
//!
//! - `POST /login` (form `username`, `password`) → the token response (users `alice` and `bob`,
//!   password `wonderland`); `POST /login/cookie` sets the token cookie for browsers.
//! - `GET /ws` (`#[protected]`, WebSocket upgrade): every text message is broadcast to every
//!   connection as `{"from": <sender>, "text": <message>}`.
//!
//! Authentication happens on the upgrade request, like any other route: the
//! `Authorization: Bearer` header for programs, the cookie for browsers (a browser cannot set
//! headers on a WebSocket). The handshake is a `GET`, but a cookie-authenticated upgrade from
//! another origin is refused (403: cross-site WebSocket hijacking). The token is never read
//! from the query string (RFC 6750 §2.3: it would end up in logs).
//!
//! A connection outlives the request that opened it, so the handler re-checks the token's
//! claims with [`LoginManager::still_valid`] on a timer: when the token expires, or its
//! session is ended (log out, log out everywhere), the server closes the connection with code
//! 1008 (policy violation) and the reason ("token expired" or "signed out").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use login::password::{self, Passwords};
use login::{
    Claims, CookieJar, LoginAccount, LoginError, LoginManager, PasswordGrant, extract::SameOrigin,
    protected, rejection::VerifyError, user_loader,
};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A chat user.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// The user's name: the token's subject, and the sender tag of their messages.
    pub name: String,
    #[serde(skip)]
    password_hash: String,
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }
}

/// The users, by name.
#[derive(Clone)]
pub struct Users(Arc<HashMap<String, User>>);

impl Users {
    /// `alice` and `bob`, password `wonderland`.
    pub fn demo() -> Self {
        let users = ["alice", "bob"].map(|name| {
            let hash = password::Passwords::default()
                .hash_blocking("wonderland")
                .expect("a password within bounds");
            let user = User {
                name: name.to_owned(),
                password_hash: hash,
            };
            (name.to_owned(), user)
        });
        Users(Arc::new(HashMap::from(users)))
    }
}

/// A message as every connection receives it.
#[derive(Clone, Debug, Serialize)]
pub struct Chat {
    /// The sender's name (from their token, never from the message).
    pub from: String,
    /// What they wrote.
    pub text: String,
}

/// The app's state.
#[derive(Clone, FromRef)]
pub struct ChatState {
    /// The login manager.
    pub manager: LoginManager,
    /// The users.
    pub users: Users,
    /// Password checks.
    pub passwords: Passwords,
    /// Every connection's feed.
    pub room: broadcast::Sender<Chat>,
    /// How often an open connection re-checks its token.
    pub recheck: Recheck,
}

/// How often an open connection re-checks its token ([`LoginManager::still_valid`]).
#[derive(Clone, Copy, Debug)]
pub struct Recheck(pub Duration);

/// The chat manager's settings: both token sources, sessions on (so a logout ends open
/// connections too).
pub fn manager(secret: &str) -> Result<LoginManager, login::ConfigError> {
    LoginManager::builder("/login")
        .secret(secret)
        .use_cookie(true)
        .sessions()
        .build()
}

/// The app's router.
pub fn app(manager: LoginManager, users: Users, recheck: Duration) -> Router {
    let (room, _) = broadcast::channel(256);
    Router::new()
        .route("/login", post(login))
        .route("/login/cookie", post(login_cookie))
        .route("/ws", get(chat))
        .with_state(ChatState {
            manager,
            users,
            passwords: Passwords::default(),
            room,
            recheck: Recheck(recheck),
        })
}

/// Turns a token's subject into a user.
#[user_loader]
pub async fn load_user(name: String, State(users): State<Users>) -> Option<User> {
    users.0.get(&name).cloned()
}

async fn login(
    State(state): State<ChatState>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let user = load_user(grant.username().to_owned(), State(state.users.clone())).await;
    let login = grant.authenticate(&state.passwords, user).await?;
    login.token_response(&state.manager).await
}

async fn login_cookie(
    _: SameOrigin,
    State(state): State<ChatState>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<(CookieJar, Json<Value>), LoginError> {
    let user = load_user(grant.username().to_owned(), State(state.users.clone())).await;
    let login = grant.authenticate(&state.passwords, user).await?;
    let jar = login.set_cookies(&state.manager, jar).await?;
    Ok((jar, Json(json!({ "status": "Success" }))))
}

/// `GET /ws`: `#[protected]` authenticates the upgrade request (and refuses a cross-site one
/// carrying the cookie) before the connection is accepted.
#[protected]
async fn chat(
    user: User,
    claims: Claims,
    State(state): State<ChatState>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| connection(socket, user, claims, state))
}

/// One connection: relays messages both ways, and closes when the token stops being valid.
async fn connection(mut socket: WebSocket, user: User, claims: Claims, state: ChatState) {
    let mut feed = state.room.subscribe();
    let mut recheck = tokio::time::interval(state.recheck.0);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let chat = Chat { from: user.name.clone(), text: text.to_string() };
                    // No receiver is not an error: the sender is subscribed too.
                    let _ = state.room.send(chat);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            chat = feed.recv() => match chat {
                Ok(chat) => {
                    let text = serde_json::to_string(&chat).unwrap_or_default();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                // A slow connection missed messages; carry on with the next ones.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = recheck.tick() => {
                if let Err(error) = state.manager.still_valid(&claims) {
                    let reason = match error {
                        VerifyError::Expired => "token expired",
                        _ => "signed out",
                    };
                    tracing::debug!(%error, user = %user.name, "chat: closing a connection");
                    let frame = CloseFrame { code: 1008, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
            }
        }
    }
}
