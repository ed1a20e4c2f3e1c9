//! Posts: every route needs a signed-in user (`#[protected]`); only a post's owner may edit or
//! delete it (403 for anyone else).
//!
//! Browsers use the HTML forms (`POST /posts/{id}` to save, `POST /posts/{id}/delete`); API
//! clients use JSON on the same resources (`PUT` and `DELETE /posts/{id}`). State-changing
//! requests authenticated by the cookie pass the library's CSRF check before these handlers
//! run; requests with `Authorization: Bearer` are not subject to it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use login::protected;
use serde::Deserialize;
use serde_json::json;
use sqlx::SqlitePool;

use super::db::{self, Post, User};
use super::html;
use super::web::{AppError, Format, Input};

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest text, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// A post as sent by the form or a JSON client.
#[derive(Debug, Deserialize)]
pub struct PostInput {
    title: String,
    #[serde(default)]
    body: String,
}

impl PostInput {
    fn validate(&self) -> Result<(&str, &str), &'static str> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err("The title must be 1 to 200 characters long.");
        }
        if self.body.chars().count() > MAX_BODY_CHARS {
            return Err("The text must be at most 10000 characters long.");
        }
        Ok((title, &self.body))
    }
}

/// The post `id`, if `user` owns it: 404 when there is no such post, 403 when it is someone
/// else's.
async fn owned_post(
    db: &SqlitePool,
    id: i64,
    user: &User,
    format: Format,
) -> Result<Post, AppError> {
    let post = db::find_post(db, id)
        .await
        .map_err(|e| format.db_error(e))?
        .ok_or_else(|| format.error(StatusCode::NOT_FOUND, "No such post"))?;
    if post.owner_id != user.id {
        tracing::info!(user_id = user.id, post_id = id, "refused: not the owner");
        return Err(format.error(
            StatusCode::FORBIDDEN,
            "Only the author may change this post",
        ));
    }
    Ok(post)
}

/// `GET /posts`: my posts.
#[protected]
pub async fn list_posts(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
) -> Result<Response, AppError> {
    let posts = db::posts_of(&db, user.id)
        .await
        .map_err(|e| format.db_error(e))?;
    Ok(match format {
        Format::Html => Html(html::posts_page(&user, &posts)).into_response(),
        Format::Json => Json(json!({ "posts": posts })).into_response(),
    })
}

/// `GET /posts/new`: the form.
#[protected]
pub async fn new_post_form(user: User) -> Html<String> {
    Html(html::post_form_page(&user, None, "", "", None))
}

/// `POST /posts`: creates a post owned by the signed-in user.
#[protected]
pub async fn create_post(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
    Input(input): Input<PostInput>,
) -> Result<Response, AppError> {
    let (title, body) = match input.validate() {
        Ok(valid) => valid,
        Err(message) => {
            return Ok(invalid(format, &user, None, &input, message));
        }
    };
    let post = db::create_post(&db, user.id, title, body)
        .await
        .map_err(|e| format.db_error(e))?;
    tracing::info!(user_id = user.id, post_id = post.id, "post created");
    Ok(match format {
        Format::Html => Redirect::to("/posts").into_response(),
        Format::Json => (
            StatusCode::CREATED,
            [(header::LOCATION, format!("/posts/{}", post.id))],
            Json(json!({ "post": post })),
        )
            .into_response(),
    })
}

fn invalid(
    format: Format,
    user: &User,
    id: Option<i64>,
    input: &PostInput,
    message: &str,
) -> Response {
    match format {
        Format::Json => format
            .error(StatusCode::BAD_REQUEST, message)
            .into_response(),
        Format::Html => (
            StatusCode::BAD_REQUEST,
            Html(html::post_form_page(
                user,
                id,
                &input.title,
                &input.body,
                Some(message),
            )),
        )
            .into_response(),
    }
}

/// `GET /posts/{id}`: any signed-in user may read a post.
#[protected]
pub async fn show_post(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let post = db::find_post(&db, id)
        .await
        .map_err(|e| format.db_error(e))?
        .ok_or_else(|| format.error(StatusCode::NOT_FOUND, "No such post"))?;
    Ok(match format {
        Format::Html => Html(html::post_page(&user, &post)).into_response(),
        Format::Json => Json(json!({ "post": post })).into_response(),
    })
}

/// `GET /posts/{id}/edit`: the form, for the owner only.
#[protected]
pub async fn edit_post_form(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let post = owned_post(&db, id, &user, format).await?;
    Ok(Html(html::post_form_page(
        &user,
        Some(post.id),
        &post.title,
        &post.body,
        None,
    )))
}

/// `POST /posts/{id}` (the edit form) and `PUT /posts/{id}` (JSON): saves, owner only.
#[protected]
pub async fn update_post(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
    Path(id): Path<i64>,
    Input(input): Input<PostInput>,
) -> Result<Response, AppError> {
    owned_post(&db, id, &user, format).await?;
    let (title, body) = match input.validate() {
        Ok(valid) => valid,
        Err(message) => return Ok(invalid(format, &user, Some(id), &input, message)),
    };
    let post = db::update_post(&db, id, title, body)
        .await
        .map_err(|e| format.db_error(e))?
        .ok_or_else(|| format.error(StatusCode::NOT_FOUND, "No such post"))?;
    Ok(match format {
        Format::Html => Redirect::to(&format!("/posts/{id}")).into_response(),
        Format::Json => Json(json!({ "post": post })).into_response(),
    })
}

/// `POST /posts/{id}/delete` (the button) and `DELETE /posts/{id}` (JSON): owner only.
#[protected]
pub async fn delete_post(
    user: User,
    format: Format,
    State(db): State<SqlitePool>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    owned_post(&db, id, &user, format).await?;
    db::delete_post(&db, id)
        .await
        .map_err(|e| format.db_error(e))?;
    tracing::info!(user_id = user.id, post_id = id, "post deleted");
    Ok(match format {
        Format::Html => Redirect::to("/posts").into_response(),
        Format::Json => StatusCode::NO_CONTENT.into_response(),
    })
}
