//! The `chat` example over a real loopback socket, with a real WebSocket client
//! (tokio-tungstenite): messages tagged with the sender, refused handshakes (no token,
//! cross-site cookie), and connections closed when their token expires or their session ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use login::LoginManager;
use login_examples::chat;
use login_test_support::SECRET;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const NOW: i64 = 1_800_000_000;

/// Serves the chat app on a free loopback port; the manager's clock is `clock`.
async fn serve(clock: Arc<AtomicI64>) -> (String, LoginManager) {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .use_cookie(true)
        .sessions()
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let app = chat::app(
        manager.clone(),
        chat::Users::demo(),
        Duration::from_millis(20),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("127.0.0.1:{}", addr.port()), manager)
}

/// Opens `/ws` with these extra headers.
async fn connect(addr: &str, headers: &[(&str, &str)]) -> Result<Socket, WsError> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let connecting = tokio_tungstenite::connect_async(request);
    let (socket, _) = tokio::time::timeout(Duration::from_secs(10), connecting)
        .await
        .expect("the handshake answers")?;
    Ok(socket)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The next data message (JSON), skipping pings.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within the bound")
            .expect("the connection is open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The close frame the server sends, skipping anything before it.
async fn close_frame(socket: &mut Socket) -> (CloseCode, String) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server closes within the bound");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code, frame.reason.to_string()),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The HTTP status of a refused handshake.
fn refused(result: Result<Socket, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

#[tokio::test]
async fn two_users_see_each_others_messages_tagged_with_the_sender() {
    let (addr, manager) = serve(Arc::new(AtomicI64::new(NOW))).await;
    let alice_token = manager.create_access_token("alice").unwrap();
    let bob_token = manager.create_access_token("bob").unwrap();
    let mut alice = connect(&addr, &[("authorization", &bearer(&alice_token))])
        .await
        .unwrap();
    let mut bob = connect(&addr, &[("authorization", &bearer(&bob_token))])
        .await
        .unwrap();
    alice.send(Message::Text("hello bob".into())).await.unwrap();
    let expected = json!({ "from": "alice", "text": "hello bob" });
    assert_eq!(next_json(&mut bob).await, expected);
    assert_eq!(next_json(&mut alice).await, expected);
    // The sender is the token's user, whatever the message claims.
    bob.send(Message::Text(r#"{"from":"alice"}"#.into()))
        .await
        .unwrap();
    let expected = json!({ "from": "bob", "text": r#"{"from":"alice"}"# });
    assert_eq!(next_json(&mut alice).await, expected);
    assert_eq!(next_json(&mut bob).await, expected);
}

#[tokio::test]
async fn handshakes_without_valid_credentials_are_refused() {
    let (addr, manager) = serve(Arc::new(AtomicI64::new(NOW))).await;
    // No token at all: the RFC 6750 401 of any protected route.
    assert_eq!(refused(connect(&addr, &[]).await), 401);
    assert_eq!(
        refused(connect(&addr, &[("authorization", "Bearer not-a-token")]).await),
        401
    );
    // Never the query string.
    let token = manager.create_access_token("alice").unwrap();
    let in_query = format!("{addr}/ws?access_token={token}");
    let result = tokio_tungstenite::connect_async(format!("ws://{in_query}")).await;
    assert_eq!(refused(result.map(|(socket, _)| socket)), 401);
    // The cookie from another origin (cross-site WebSocket hijacking): 403, as a cross-site
    // POST would get; from the app's own origin it is accepted.
    let cookie = format!("access-token={token}");
    let evil = [
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    assert_eq!(refused(connect(&addr, &evil).await), 403);
    let own = format!("http://{addr}");
    let same = [("cookie", cookie.as_str()), ("origin", own.as_str())];
    assert!(connect(&addr, &same).await.is_ok());
}

#[tokio::test]
async fn a_connection_is_closed_when_its_token_expires() {
    let clock = Arc::new(AtomicI64::new(NOW));
    let (addr, manager) = serve(clock.clone()).await;
    let token = manager.create_access_token("alice").unwrap();
    let exp = manager.verify_token(&token).unwrap().exp;
    let mut alice = connect(&addr, &[("authorization", &bearer(&token))])
        .await
        .unwrap();
    alice
        .send(Message::Text("still here".into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut alice).await["from"], "alice");
    clock.store(exp, Ordering::SeqCst);
    assert_eq!(
        close_frame(&mut alice).await,
        (CloseCode::Policy, "token expired".to_owned())
    );
}

#[tokio::test]
async fn a_connection_is_closed_when_its_session_ends() {
    let (addr, manager) = serve(Arc::new(AtomicI64::new(NOW))).await;
    let tokens = manager.start_session("bob", None).await.unwrap();
    let other = manager.start_session("bob", None).await.unwrap();
    let mut here = connect(&addr, &[("authorization", &bearer(&tokens.access_token))])
        .await
        .unwrap();
    let mut there = connect(&addr, &[("authorization", &bearer(&other.access_token))])
        .await
        .unwrap();
    // "Log out this device": this connection closes, the other session's stays open.
    assert!(manager.end_session(&tokens.session_id).await.unwrap());
    assert_eq!(
        close_frame(&mut here).await,
        (CloseCode::Policy, "signed out".to_owned())
    );
    there.send(Message::Text("ping".into())).await.unwrap();
    assert_eq!(next_json(&mut there).await["text"], "ping");
    // "Log out everywhere" closes the rest.
    manager.end_all_sessions("bob").await.unwrap();
    assert_eq!(
        close_frame(&mut there).await,
        (CloseCode::Policy, "signed out".to_owned())
    );
}
