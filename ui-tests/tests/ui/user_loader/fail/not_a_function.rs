// Fails: `#[user_loader]` on something other than a function.
use login::user_loader;

#[user_loader]
static USER: &str = "john";

fn main() {}
