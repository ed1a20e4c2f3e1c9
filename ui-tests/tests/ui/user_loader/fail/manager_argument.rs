// Fails: malformed arguments to `#[user_loader]`; each is one error at its token.
use login::user_loader;

#[derive(Clone)]
struct A;
#[derive(Clone)]
struct B;
#[derive(Clone)]
struct C;

#[user_loader(admins)]
async fn load_a(_subject: String) -> Option<A> {
    Some(A)
}

#[user_loader(manager)]
async fn load_b(_subject: String) -> Option<B> {
    Some(B)
}

#[user_loader(manager = login::LoginManager, scopes)]
async fn load_c(_subject: String) -> Option<C> {
    Some(C)
}

fn main() {}
