//! The token cache's memory, measured with a counting allocator: what an entry really costs
//! (the figure behind `TOKEN_CACHE_ENTRY_BYTES`), and the budget respected however many
//! tokens go through.
//!
//! Only this thread's allocations are counted (while `COUNTING` is set), each with the bytes
//! the allocator really gives (`malloc_usable_size`) plus glibc's 8-byte chunk header.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use login::{LoginManager, TokenRequest};

/// The documented charge of a typical token in the cache: about 1 KiB.
const TOKEN_CACHE_ENTRY_BYTES: usize = 1024;
/// The documented default budget of the token cache: 4 MiB.
const DEFAULT_TOKEN_CACHE_BYTES: usize = 4 << 20;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// The bytes an allocation really takes.
fn real(ptr: *mut u8) -> isize {
    // SAFETY: `ptr` is a live allocation of the system allocator.
    (unsafe { libc::malloc_usable_size(ptr.cast()) } + 8) as isize
}

fn count(ptr: *mut u8, sign: isize) {
    if !ptr.is_null() && COUNTING.with(Cell::get) {
        LIVE.with(|live| live.set(live.get() + sign * real(ptr)));
    }
}

// SAFETY: every call is forwarded to the system allocator; the counting has no effect on it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        count(ptr, 1);
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(ptr, -1);
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The live bytes this thread allocated while running `f`.
fn retained(f: impl FnOnce()) -> isize {
    LIVE.with(|live| live.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    LIVE.with(Cell::get)
}

const SECRET: &str = "a-32-byte-or-longer-secret-for-tests!";

/// `n` distinct tokens as the simple example's `/login` issues them (a session each: `sid`),
/// and a manager with the same settings that verifies them with a cache of `budget` bytes
/// (and room for that many sessions of one subject: past the cap, the oldest would end).
fn tokens(n: usize, budget: usize) -> (LoginManager, Vec<String>) {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .sessions()
        .max_sessions_per_subject(n.max(1))
        .token_cache_bytes(budget)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tokens = (0..n)
        .map(|_| {
            // The password login's `amr` and `auth_time` too.
            let request = TokenRequest::new("johndoe@mail.com")
                .scopes(["read", "write"])
                .amr(["pwd"])
                .auth_time(manager.now());
            rt.block_on(manager.start_session(request, None))
                .unwrap()
                .access_token
        })
        .collect();
    (manager, tokens)
}

#[test]
fn an_entry_costs_at_most_its_stated_bytes_and_the_budget_holds() {
    // While the cache has room, every verified token is inserted: the bytes retained per
    // token are what an entry costs.
    let (manager, pool) = tokens(2000, 4096 * TOKEN_CACHE_ENTRY_BYTES);
    let per_entry = retained(|| {
        for token in &pool {
            assert_eq!(manager.verify_token(token).unwrap().sub, "johndoe@mail.com");
        }
    }) / pool.len() as isize;
    println!(
        "a token of {} bytes costs {per_entry} bytes in the cache",
        pool[0].len()
    );
    assert!(per_entry > 0);
    assert!(
        per_entry <= TOKEN_CACHE_ENTRY_BYTES as isize,
        "{per_entry} > {TOKEN_CACHE_ENTRY_BYTES}"
    );

    // A budget of 100 typical entries, and 3,000 tokens through it, each verified twice (so
    // admitted once the cache is full): what stays is within the budget.
    let budget = 100 * TOKEN_CACHE_ENTRY_BYTES;
    let (manager, pool) = tokens(3000, budget);
    let held = retained(|| {
        for token in &pool {
            manager.verify_token(token).unwrap();
            manager.verify_token(token).unwrap();
        }
    });
    println!("a budget of {budget} bytes holds {held} bytes after 3000 tokens");
    assert!(held <= budget as isize, "{held} > {budget}");
    assert!(held > budget as isize / 2, "{held}: the cache is not used");

    // What an empty cache of the default budget takes up front (the map's index and the
    // doorkeeper's filter), outside the budget: small next to it.
    let build = |bytes| {
        retained(|| {
            let manager = LoginManager::builder("/login")
                .secret(SECRET)
                .token_cache_bytes(bytes)
                .build()
                .unwrap();
            std::mem::forget(manager);
        })
    };
    let fixed = build(DEFAULT_TOKEN_CACHE_BYTES) - build(0);
    println!(
        "an empty cache of {} bytes takes {fixed} bytes",
        DEFAULT_TOKEN_CACHE_BYTES
    );
    assert!(fixed < DEFAULT_TOKEN_CACHE_BYTES as isize / 8, "{fixed}");
}
