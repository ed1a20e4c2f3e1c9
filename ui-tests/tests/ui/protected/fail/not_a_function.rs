// Fails: `#[protected]` on something other than a function.
use login::protected;

#[protected]
struct User;

fn main() {}
