//! Server-rendered pages: plain `format!` templates, every interpolated value escaped.

use std::fmt::Write as _;

use super::db::{Post, User};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string value (everything but RFC 3986 unreserved characters).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5}nav{display:flex;gap:1rem;align-items:center;\
border-bottom:1px solid #ccc;padding-bottom:.5rem}nav form{margin:0 0 0 auto}\
label{display:block;margin:.5rem 0}input,textarea{display:block;width:100%;\
box-sizing:border-box}textarea{min-height:8rem}.error{color:#b00020}.post{margin:1rem 0}\
.actions{display:flex;gap:.5rem}.actions form{margin:0}";

/// The layout: a navigation bar (with a logout button when signed in) around `body`, which
/// the caller has already escaped.
pub fn page(title: &str, user: Option<&User>, body: &str) -> String {
    let nav = match user {
        Some(user) => format!(
            r#"<a href="/posts">My posts</a><a href="/posts/new">New post</a><a href="/sessions">Sessions</a><a href="/activity">Activity</a>
<span id="whoami">Signed in as {}</span>
<form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>"#,
            escape(&user.name)
        ),
        None => r#"<a href="/login">Log in</a><a href="/register">Register</a>"#.to_owned(),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · login app</title>
<style>{STYLE}</style>
</head>
<body>
<nav>{nav}</nav>
<main>
{body}
</main>
</body>
</html>
"#,
        title = escape(title),
    )
}

fn error_line(error: Option<&str>) -> String {
    error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default()
}

/// The login form. `next` (already checked by `login::middleware::safe_next`) rides along in the form's
/// action, so the login route can send the user back.
pub fn login_page(
    user: Option<&User>,
    next: Option<&str>,
    username: &str,
    error: Option<&str>,
) -> String {
    let action = match next {
        Some(next) => format!("/login?next={}", url_encode(next)),
        None => "/login".to_owned(),
    };
    let signed_in = user
        .map(|u| {
            format!(
                "<p>You are signed in as {}; log in again to switch accounts.</p>",
                escape(&u.email)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Log in</h1>
{signed_in}{error}
<form id="login-form" method="post" action="{action}">
<label>E-mail <input name="username" type="email" autocomplete="username" required value="{username}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p>No account yet? <a href="/register">Register</a>.</p>"#,
        error = error_line(error),
        action = escape(&action),
        username = escape(username),
    );
    page("Log in", user, &body)
}

/// A time (seconds since the Unix epoch) as `YYYY-MM-DD HH:MM UTC`.
pub fn utc(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// "Where you're signed in": one entry per session (this one marked), each with a "sign
/// out" button, and "sign out everywhere".
pub fn sessions_page(
    user: &User,
    sessions: &[login::session::Session],
    current: Option<&str>,
) -> String {
    let mut items = String::new();
    for session in sessions {
        let this = current == Some(session.id.as_str());
        let _ = write!(
            items,
            r#"<li class="session" data-current="{this}"><strong>{agent}</strong>{marker}<br>
signed in {created}, last refreshed {refreshed}
<form method="post" action="/sessions/{id}/end"><button class="end-session" type="submit">Sign out</button></form></li>
"#,
            agent = escape(session.user_agent.as_deref().unwrap_or("Unknown device")),
            marker = if this { " (this browser)" } else { "" },
            created = escape(&utc(session.created_at)),
            refreshed = session
                .refreshed_at
                .map_or_else(|| "never".to_owned(), |t| escape(&utc(t))),
            id = escape(&url_encode(&session.id)),
        );
    }
    let body = format!(
        r#"<h1>Where you're signed in</h1>
<ul id="sessions">
{items}</ul>
<form method="post" action="/logout/all"><button id="logout-all" type="submit">Sign out everywhere</button></form>"#
    );
    page("Sessions", Some(user), &body)
}

/// "Recent sign-in activity": time, what, address, browser.
pub fn activity_page(user: &User, events: &[super::activity::Activity]) -> String {
    let mut rows = String::new();
    for event in events {
        let _ = writeln!(
            rows,
            r#"<tr class="event" data-kind="{kind}"><td>{at}</td><td>{label}</td><td>{address}</td><td>{agent}</td></tr>"#,
            kind = escape(&event.kind),
            at = escape(&utc(event.at)),
            label = escape(event.label()),
            address = escape(event.address.as_deref().unwrap_or("unknown")),
            agent = escape(event.user_agent.as_deref().unwrap_or("unknown")),
        );
    }
    let body = format!(
        r#"<h1>Recent sign-in activity</h1>
<p>Sign-ins, failed sign-ins and sign-outs of your account, newest first. Something you don't recognise? <a href="/sessions">Sign out the sessions</a> you don't know and change your password.</p>
<table id="activity">
<thead><tr><th>When</th><th>What</th><th>Address</th><th>Browser</th></tr></thead>
<tbody>
{rows}</tbody>
</table>"#
    );
    page("Activity", Some(user), &body)
}

/// The registration form.
pub fn register_page(email: &str, name: &str, error: Option<&str>) -> String {
    let body = format!(
        r#"<h1>Register</h1>
{error}
<form id="register-form" method="post" action="/register">
<label>E-mail <input name="email" type="email" autocomplete="username" required value="{email}"></label>
<label>Name <input name="name" autocomplete="name" required value="{name}"></label>
<label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" required minlength="8"></label>
<button type="submit">Create account</button>
</form>
<p>Already registered? <a href="/login">Log in</a>.</p>"#,
        error = error_line(error),
        email = escape(email),
        name = escape(name),
    );
    page("Register", None, &body)
}

fn post_actions(post: &Post) -> String {
    format!(
        r#"<div class="actions"><a href="/posts/{id}/edit">Edit</a>
<form method="post" action="/posts/{id}/delete"><button type="submit">Delete</button></form></div>"#,
        id = post.id
    )
}

/// "My posts".
pub fn posts_page(user: &User, posts: &[Post]) -> String {
    let mut list = String::new();
    for post in posts {
        let _ = write!(
            list,
            r#"<li class="post" id="post-{id}"><a class="post-title" href="/posts/{id}">{title}</a>
<small>{created}</small>{actions}</li>"#,
            id = post.id,
            title = escape(&post.title),
            created = escape(&post.created_at),
            actions = post_actions(post),
        );
    }
    let list = if posts.is_empty() {
        r#"<p id="no-posts">No posts yet.</p>"#.to_owned()
    } else {
        format!(r#"<ul id="posts">{list}</ul>"#)
    };
    let body = format!(
        r#"<h1>My posts</h1>
<p><a href="/posts/new">Write a new post</a></p>
{list}"#
    );
    page("My posts", Some(user), &body)
}

/// One post; its owner also sees the edit and delete buttons.
pub fn post_page(user: &User, post: &Post) -> String {
    let actions = if post.owner_id == user.id {
        post_actions(post)
    } else {
        String::new()
    };
    let body = format!(
        r#"<article><h1 id="post-title">{title}</h1>
<p><small>by {author}, {created}</small></p>
<div id="post-body" style="white-space:pre-wrap">{text}</div>
{actions}</article>"#,
        title = escape(&post.title),
        author = escape(&post.author),
        created = escape(&post.created_at),
        text = escape(&post.body),
    );
    page(&post.title, Some(user), &body)
}

/// The new-post form (`post_id: None`) or the edit form of post `post_id`.
pub fn post_form_page(
    user: &User,
    post_id: Option<i64>,
    title: &str,
    text: &str,
    error: Option<&str>,
) -> String {
    let (heading, action, id) = match post_id {
        Some(id) => ("Edit post", format!("/posts/{id}"), "edit-post-form"),
        None => ("New post", "/posts".to_owned(), "new-post-form"),
    };
    let body = format!(
        r#"<h1>{heading}</h1>
{error}
<form id="{id}" method="post" action="{action}">
<label>Title <input name="title" required maxlength="200" value="{title}"></label>
<label>Text <textarea name="body" maxlength="10000">{text}</textarea></label>
<button type="submit">Save</button>
</form>"#,
        error = error_line(error),
        title = escape(title),
        text = escape(text),
    );
    page(heading, Some(user), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;"
        );
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn url_encodes_query_values() {
        assert_eq!(
            url_encode("/posts?page=2&x=é"),
            "%2Fposts%3Fpage%3D2%26x%3D%C3%A9"
        );
    }
}
