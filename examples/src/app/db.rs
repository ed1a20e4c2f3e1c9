//! The store: users and posts in SQLite through sqlx's query API (checked at run time, so the
//! build needs no `DATABASE_URL`), and an embedded migration run at start-up.

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{FromRow, SqlitePool};

/// The schema, in order. Each entry is applied once, in a transaction, and recorded in SQLite's
/// `user_version` header field.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_users_and_posts.sql"),
    include_str!("../../migrations/0002_auth_events.sql"),
];

/// Opens the database named by `url` and brings its schema up to date.
///
/// `url` is a sqlx SQLite URL (`sqlite:app.db`, `sqlite::memory:`) or a plain file path. A file
/// is created when missing. An in-memory database lives as long as the pool: the pool keeps its
/// one connection open for good.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url)?
    } else {
        SqliteConnectOptions::new().filename(url)
    }
    .create_if_missing(true)
    .foreign_keys(true)
    .busy_timeout(Duration::from_secs(5));
    let pool = if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?
    } else {
        SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.journal_mode(SqliteJournalMode::Wal))
            .await?
    };
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies the migrations the database has not seen yet.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (current,): (i64,) = sqlx::query_as("PRAGMA user_version")
        .fetch_one(&mut *tx)
        .await?;
    for (version, sql) in (1i64..).zip(MIGRATIONS) {
        if version > current {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            // PRAGMA takes no bound parameters; `version` is a number we made.
            sqlx::raw_sql(&format!("PRAGMA user_version = {version}"))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}

/// A user of the app. The token's subject is the e-mail address. Its `Debug` leaves the
/// password hash out, so that `tracing::debug!(?user)` never logs it.
#[derive(Clone, Serialize, FromRow)]
pub struct User {
    /// The row id.
    pub id: i64,
    /// The e-mail address (unique, stored lower-cased).
    pub email: String,
    /// The display name.
    pub name: String,
    /// The Argon2id PHC string. Never serialized.
    #[serde(skip)]
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A post, with its author's name.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Post {
    /// The row id.
    pub id: i64,
    /// The owner's user id: only the owner may change or delete the post.
    pub owner_id: i64,
    /// The owner's display name.
    pub author: String,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// When it was written (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub created_at: String,
    /// When it was last changed.
    pub updated_at: String,
}

const POST_COLUMNS: &str = "posts.id, posts.owner_id, users.name AS author, posts.title, \
     posts.body, posts.created_at, posts.updated_at \
     FROM posts JOIN users ON users.id = posts.owner_id";

/// Finds a user by e-mail (compared lower-cased).
pub async fn find_user(pool: &SqlitePool, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, name, password_hash FROM users WHERE email = ?")
        .bind(email.to_lowercase())
        .fetch_optional(pool)
        .await
}

/// Replaces a user's password hash (after a login found it made with older parameters).
pub async fn set_password_hash(
    pool: &SqlitePool,
    id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Why a user could not be created.
#[derive(Debug)]
pub enum CreateUserError {
    /// The e-mail address is taken.
    Duplicate,
    /// The database failed.
    Db(sqlx::Error),
}

/// Creates a user; `email` should already be normalized (trimmed, lower-cased).
pub async fn create_user(
    pool: &SqlitePool,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<User, CreateUserError> {
    sqlx::query_as(
        "INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?) \
         RETURNING id, email, name, password_hash",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .fetch_one(pool)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => CreateUserError::Duplicate,
        e => CreateUserError::Db(e),
    })
}

/// The posts of one user, newest first.
pub async fn posts_of(pool: &SqlitePool, owner_id: i64) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {POST_COLUMNS} WHERE posts.owner_id = ? ORDER BY posts.id DESC"
    ))
    .bind(owner_id)
    .fetch_all(pool)
    .await
}

/// One post.
pub async fn find_post(pool: &SqlitePool, id: i64) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {POST_COLUMNS} WHERE posts.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Creates a post owned by `owner_id`.
pub async fn create_post(
    pool: &SqlitePool,
    owner_id: i64,
    title: &str,
    body: &str,
) -> Result<Post, sqlx::Error> {
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO posts (owner_id, title, body) VALUES (?, ?, ?) RETURNING id")
            .bind(owner_id)
            .bind(title)
            .bind(body)
            .fetch_one(pool)
            .await?;
    find_post(pool, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Changes a post's title and text. The caller checks ownership first.
pub async fn update_post(
    pool: &SqlitePool,
    id: i64,
    title: &str,
    body: &str,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query(
        "UPDATE posts SET title = ?, body = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?",
    )
    .bind(title)
    .bind(body)
    .bind(id)
    .execute(pool)
    .await?;
    find_post(pool, id).await
}

/// Deletes a post. The caller checks ownership first.
pub async fn delete_post(pool: &SqlitePool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM posts WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
