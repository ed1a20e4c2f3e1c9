-- The `app` example's sign-in activity: the auth events the login manager reports (through
-- `app::activity::SignInLog`), never a password or a token.
CREATE TABLE auth_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,  -- seconds since the Unix epoch
    kind       TEXT    NOT NULL,  -- `login::events::AuthEventKind::name`
    reason     TEXT,              -- a failed login's `LoginFailure::name`
    subject    TEXT,              -- the account's e-mail address, when known
    address    TEXT,
    user_agent TEXT,
    session_id TEXT
);

CREATE INDEX auth_events_by_subject ON auth_events (subject, id);
CREATE INDEX auth_events_by_session ON auth_events (session_id);
