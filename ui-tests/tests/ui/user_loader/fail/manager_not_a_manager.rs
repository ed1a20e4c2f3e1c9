// Fails: `manager = ...` names a type that holds no `LoginManager`; the error is at that type.
use login::user_loader;

#[derive(Clone)]
struct Admin;

#[derive(Clone)]
struct Db;

#[user_loader(manager = Db)]
async fn load_admin(_subject: String) -> Option<Admin> {
    Some(Admin)
}

fn main() {}
