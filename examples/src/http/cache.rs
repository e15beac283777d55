//! The open-file cache: per worker thread, the files it opened lately, kept open with their
//! metadata, so that a request for a small file costs no `open`, `fstat` or `close` (issue 14,
//! nginx's `open_file_cache`).
//!
//! # What is cached, and what is still checked on every request
//!
//! - Key: the request's relative path, after [`relative_path`](super::path::relative_path)
//!   (which refuses `..`, encoded slashes, `\`, `%00`) and after the hidden-name check on the
//!   path as asked for (both are made on the path's text, on every request, hit or miss). The
//!   served root and [`Config::show_hidden`] are part of the entry: an entry made for another
//!   root or setting is a miss.
//! - Value: the open file (an [`Arc`], so a response in flight keeps its file open even if the
//!   entry is evicted or replaced), its canonical path (for the `Content-Type`), its size and
//!   modification time (`Last-Modified`, `If-Modified-Since`), and when it was opened.
//! - Only a regular file named by the path itself is cached: not a folder (listings, redirects),
//!   not a folder's `index.html`, not an error (`404`, `403`).
//! - The checks the file system makes (an `lstat` of each name for symlinks, `O_NOFOLLOW`, the
//!   canonical path staying under the root, the hidden names it resolves to, the permission to
//!   read) are made when the entry is filled.
//!
//! # Staleness
//!
//! An entry is used for [`Config::open_file_cache_valid`] (1 s by default; nginx's
//! `open_file_cache_valid` defaults to 60 s) after it was filled. Past that, the next request
//! for it resolves the path again exactly as without the cache (every check afresh, a new
//! `open` and `fstat`) and the entry is replaced: a file replaced (renamed over), deleted, made
//! unreadable, or turned into a symlink is served as the new state within that period. Within
//! it, the file that was opened is served as it is now: a file renamed over or deleted still
//! serves its old bytes (the old inode, which the open descriptor keeps alive). A file written
//! in place (same inode) within it: a small one (at most [`Config::chunk_size`]) is sent as
//! read now, with its old `Last-Modified` and at most its old length (a shrunk one is sent as
//! read, shorter); a large one is `fstat`ed again on every hit (one call next to a `sendfile`
//! of at least 64 KiB), so it goes out whole at its new length and time.
//!
//! # Bounds
//!
//! At most [`Config::open_file_cache`] entries (1,024 by default) per worker thread, each one
//! open file descriptor: they count against the process's `RLIMIT_NOFILE` along with the
//! connections (the `fileserver` binary lowers the bound to a quarter of the limit shared by
//! its workers). When the table is full, a new entry takes the place of one not used since the
//! clock hand last passed (clock eviction, a cheap LRU). If an `open` fails with `EMFILE` or
//! `ENFILE` (out of descriptors), this thread's entries are dropped and the open is tried once
//! more ([`relieve`]); the accept loop does the same on an accept that fails so. (With
//! [`Config::open_on_worker`] off, files are opened on the blocking pool, whose threads hold no
//! entries: there only the accept loop gives descriptors back.)
//!
//! # Threads
//!
//! The cache is a `thread_local!`: a worker's entries are its own, with no lock and no sharing.
//! It is only touched by synchronous code (a lookup clones the entry's `Arc` out), never across
//! an `.await`, so a connection task that moves to another worker by work stealing simply uses
//! that worker's cache from then on.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::config::Config;

/// An open regular file and what a response needs of its metadata.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// The file, open for reading (an `Arc` of its own for
    /// [`read_range`](ebbtide_std::fs::read_range)'s trip to the blocking pool).
    pub(crate) file: Arc<File>,
    /// Its canonical path (for the `Content-Type`).
    pub(crate) path: PathBuf,
    /// Its size when opened.
    pub(crate) len: u64,
    /// Its modification time when opened.
    pub(crate) modified: Option<SystemTime>,
    /// `modified` as an HTTP date, for `Last-Modified` and `If-Range` (made once per open,
    /// not per response).
    pub(crate) last_modified: Option<String>,
    /// When it was opened and its path checked: the start of its cache entry's validity.
    pub(crate) opened: Instant,
}

/// One entry of the table.
struct Slot {
    /// The relative path asked for (the key of [`Cache::index`]).
    key: PathBuf,
    /// The root it is under.
    root: PathBuf,
    /// [`Config::show_hidden`] of the server that filled it.
    show_hidden: bool,
    file: Arc<OpenFile>,
    /// Used since the clock hand last passed it.
    referenced: bool,
}

/// A worker's table of open files (see the [module docs](self)).
#[derive(Default)]
struct Cache {
    /// Relative path to its slot in `slots`.
    index: HashMap<PathBuf, usize>,
    slots: Vec<Slot>,
    /// The clock hand: the next slot eviction looks at.
    hand: usize,
}

impl Cache {
    /// Removes the slot at `i` (the last slot moves into its place).
    fn remove(&mut self, i: usize) -> Slot {
        let slot = self.slots.swap_remove(i);
        self.index.remove(&slot.key);
        if let Some(moved) = self.slots.get(i) {
            *self
                .index
                .get_mut(&moved.key)
                .expect("every slot is indexed") = i;
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
        slot
    }

    /// The slot to reuse in a full table: the first unreferenced one from the hand on,
    /// clearing the marks it passes.
    fn victim(&mut self) -> usize {
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let slot = &mut self.slots[i];
            if !slot.referenced {
                return i;
            }
            slot.referenced = false;
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
    static STATS: Cell<Stats> = const { Cell::new(Stats { opens: 0, hits: 0 }) };
}

/// What this thread's cache has done (always counted: two thread-local additions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Files this thread opened to serve a request (`open(2)` calls of
    /// [`confine_open`](super::path::confine_open)), cached or not.
    pub(crate) opens: u64,
    /// Requests this thread answered from the cache.
    pub(crate) hits: u64,
}

/// This thread's counts.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn stats() -> Stats {
    STATS.with(Cell::get)
}

/// Counts an `open(2)` of a served file on this thread.
pub(crate) fn count_open() {
    STATS.with(|s| {
        let mut stats = s.get();
        stats.opens += 1;
        s.set(stats);
    });
}

/// Whether `config` has the cache on.
pub(crate) fn enabled(config: &Config) -> bool {
    config.open_file_cache > 0 && !config.open_file_cache_valid.is_zero()
}

/// The file cached for `relative` under `config`'s root, if this thread has it and it was
/// opened less than [`Config::open_file_cache_valid`] ago. An entry past that period (or made
/// for another root or `show_hidden`) is dropped, so that the caller resolves the path afresh.
pub(crate) fn lookup(config: &Config, relative: &Path) -> Option<Arc<OpenFile>> {
    if !enabled(config) {
        return None;
    }
    // An entry past its period is taken out and dropped (its file closed) after the table is
    // released.
    let (found, _stale) = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let Some(&i) = cache.index.get(relative) else {
            return (None, None);
        };
        let slot = &mut cache.slots[i];
        if slot.file.opened.elapsed() < config.open_file_cache_valid
            && slot.show_hidden == config.show_hidden
            && slot.root == config.root()
        {
            slot.referenced = true;
            return (Some(Arc::clone(&slot.file)), None);
        }
        (None, Some(cache.remove(i)))
    });
    if found.is_some() {
        STATS.with(|s| {
            let mut stats = s.get();
            stats.hits += 1;
            s.set(stats);
        });
    }
    found
}

/// Caches `file`, just opened and checked for `relative` under `config`'s root, in this
/// thread's table (replacing an entry for the same path, or evicting one if the table is full).
pub(crate) fn insert(config: &Config, relative: PathBuf, file: Arc<OpenFile>) {
    if !enabled(config) {
        return;
    }
    let slot = Slot {
        key: relative,
        root: config.root().to_path_buf(),
        show_hidden: config.show_hidden,
        file,
        referenced: false,
    };
    // The slot replaced, dropped (its file closed) after the table is released.
    let _old = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(&i) = cache.index.get(&slot.key) {
            return Some(std::mem::replace(&mut cache.slots[i], slot));
        }
        let mut old = None;
        while cache.slots.len() > config.open_file_cache {
            // A smaller bound than when the table filled (another server on this thread): the
            // few files closed here, in the borrow, touch nothing else.
            let last = cache.slots.len() - 1;
            drop(cache.remove(last));
        }
        if cache.slots.len() == config.open_file_cache {
            let i = cache.victim();
            let key = slot.key.clone();
            let evicted = std::mem::replace(&mut cache.slots[i], slot);
            cache.index.remove(&evicted.key);
            cache.index.insert(key, i);
            old = Some(evicted);
        } else {
            let i = cache.slots.len();
            cache.index.insert(slot.key.clone(), i);
            cache.slots.push(slot);
        }
        old
    });
}

/// Drops every entry of this thread's cache (their files close unless a response still holds
/// them); returns how many there were. Called when the process is out of file descriptors.
pub(crate) fn relieve() -> usize {
    let slots = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        cache.index.clear();
        cache.hand = 0;
        std::mem::take(&mut cache.slots)
    });
    slots.len()
}

/// The number of entries in this thread's cache.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn len() -> usize {
    CACHE.with(|cache| cache.borrow().slots.len())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::files::{find, Target};
    use super::super::response::Status;
    use super::*;

    /// A fresh folder under the system's temporary one, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "ebbtide-open-file-cache-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn config(dir: &Dir, entries: usize, valid: Duration) -> Config {
        let mut config = Config::new(&dir.0).unwrap();
        config.open_file_cache = entries;
        config.open_file_cache_valid = valid;
        config
    }

    /// The bytes served for `name`, or the status.
    fn get(config: &Config, name: &str) -> Result<Vec<u8>, Status> {
        match find(config, PathBuf::from(name), false)? {
            Target::File(open) => {
                let mut bytes = vec![0; open.len as usize];
                std::os::unix::fs::FileExt::read_exact_at(&*open.file, &mut bytes, 0).unwrap();
                Ok(bytes)
            }
            _ => panic!("{name} is not a file"),
        }
    }

    /// Each test runs on a thread of its own, so its counts and table are its own.
    fn on_a_thread(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(test).join().unwrap();
    }

    #[test]
    fn a_hit_saves_the_open() {
        on_a_thread(|| {
            let dir = Dir::new("hit");
            std::fs::write(dir.0.join("a.txt"), b"hello").unwrap();
            let cached = config(&dir, 16, Duration::from_secs(60));
            for _ in 0..10 {
                assert_eq!(get(&cached, "a.txt").unwrap(), b"hello");
            }
            assert_eq!(stats(), Stats { opens: 1, hits: 9 });
            // The same requests without the cache: an open each.
            let uncached = config(&dir, 0, Duration::from_secs(60));
            for _ in 0..10 {
                assert_eq!(get(&uncached, "a.txt").unwrap(), b"hello");
            }
            assert_eq!(stats(), Stats { opens: 11, hits: 9 });
        });
    }

    #[test]
    fn an_entry_past_its_period_is_opened_again() {
        on_a_thread(|| {
            let dir = Dir::new("period");
            std::fs::write(dir.0.join("a.txt"), b"old").unwrap();
            let config = config(&dir, 16, Duration::from_millis(50));
            assert_eq!(get(&config, "a.txt").unwrap(), b"old");
            std::fs::write(dir.0.join("new.txt"), b"new!").unwrap();
            std::fs::rename(dir.0.join("new.txt"), dir.0.join("a.txt")).unwrap();
            std::thread::sleep(Duration::from_millis(120));
            assert_eq!(get(&config, "a.txt").unwrap(), b"new!");
            assert_eq!(stats().opens, 2);
            std::fs::remove_file(dir.0.join("a.txt")).unwrap();
            std::thread::sleep(Duration::from_millis(120));
            assert_eq!(get(&config, "a.txt"), Err(Status::NotFound));
            assert_eq!(len(), 0, "an error is not cached");
        });
    }

    #[test]
    fn the_table_is_bounded_and_keeps_what_is_used() {
        on_a_thread(|| {
            let dir = Dir::new("bounded");
            for i in 0..20 {
                std::fs::write(dir.0.join(format!("{i}.txt")), format!("file {i}")).unwrap();
            }
            let config = config(&dir, 8, Duration::from_secs(60));
            for round in 0..3 {
                for i in 0..20 {
                    let name = format!("{i}.txt");
                    assert_eq!(get(&config, &name).unwrap(), format!("file {i}").as_bytes());
                    // `0.txt` is asked for between every two others: it stays cached.
                    assert_eq!(get(&config, "0.txt").unwrap(), b"file 0", "round {round}");
                    assert!(len() <= 8);
                }
            }
            assert_eq!(len(), 8);
            // 60 requests for 0.txt and 60 for the others: only the first of 0.txt opened it.
            let stats = stats();
            assert_eq!(stats.opens + stats.hits, 120);
            assert!(stats.opens <= 1 + 3 * 19, "{stats:?}");
            assert_eq!(relieve(), 8);
            assert_eq!(len(), 0);
        });
    }

    #[test]
    fn folders_and_other_roots_are_not_served_from_the_cache() {
        on_a_thread(|| {
            let one = Dir::new("root-one");
            let two = Dir::new("root-two");
            std::fs::write(one.0.join("a.txt"), b"one").unwrap();
            std::fs::write(two.0.join("a.txt"), b"two").unwrap();
            std::fs::create_dir(one.0.join("sub")).unwrap();
            let first = config(&one, 16, Duration::from_secs(60));
            let second = config(&two, 16, Duration::from_secs(60));
            assert_eq!(get(&first, "a.txt").unwrap(), b"one");
            assert_eq!(get(&second, "a.txt").unwrap(), b"two");
            assert_eq!(get(&first, "a.txt").unwrap(), b"one");
            assert!(matches!(
                find(&first, PathBuf::from("sub"), true),
                Ok(Target::List(..))
            ));
            assert_eq!(len(), 1);
        });
    }

    /// Out of file descriptors (`EMFILE`), an `open` drops this thread's cached files and tries
    /// again. Run in a child process of its own (this test binary, this test alone), since it
    /// lowers the process's `RLIMIT_NOFILE` and uses up every descriptor.
    #[test]
    fn out_of_descriptors_the_cache_gives_its_back() {
        const CHILD: &str = "EBBTIDE_OPEN_FILE_CACHE_EMFILE_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "http::cache::tests::out_of_descriptors_the_cache_gives_its_back",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let dir = Dir::new("emfile");
        for i in 0..8 {
            std::fs::write(dir.0.join(format!("{i}.txt")), format!("file {i}")).unwrap();
        }
        std::fs::write(dir.0.join("new.txt"), b"new").unwrap();
        let config = config(&dir, 16, Duration::from_secs(60));
        for i in 0..8 {
            get(&config, &format!("{i}.txt")).unwrap();
        }
        assert_eq!(len(), 8);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid `rlimit` to write, then to read.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            limit.rlim_cur = limit.rlim_cur.min(256);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
        // Every descriptor left, taken.
        let mut held = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(file) => held.push(file),
                Err(error) if error.raw_os_error() == Some(libc::EMFILE) => break,
                Err(error) => panic!("{error}"),
            }
        }
        let served = get(&config, "new.txt");
        drop(held);
        assert_eq!(served.unwrap(), b"new");
        assert_eq!(len(), 1, "the cache was emptied, then given the new file");
    }
}
