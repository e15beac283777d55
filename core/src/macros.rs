//! Waiting for several futures at once: `join!`, `try_join!`, `select!`.
//!
//! All three macros poll their futures inside the task that awaits them (no task is spawned) and
//! keep them in that task's state, inside the `PollFn` they await, whose closure owns them and
//! pins them in place (no pinned or captured reference to each is kept): nothing allocates. Each is written as a
//! `macro_rules!` muncher that binds one future per recursion step; the bindings of different
//! steps are told apart by macro hygiene, so the macros take any number of futures up to the
//! compiler's `recursion_limit`: with the default limit of 128, `join!` takes about 120 futures
//! and `select!` about 30 branches (fewer with long patterns); raise it with
//! `#![recursion_limit = "256"]` in the crate that uses them.
//!
//! The macros reach their helpers through `$crate::__private`, which re-exports [`support`].

/// Runs futures concurrently in the current task and returns all of their outputs.
///
/// `join!(a, b, c)` evaluates the expressions in order, turns each into a future
/// ([`IntoFuture`](core::future::IntoFuture)), and awaits them all at once: every poll of the
/// `join!` polls each future that has not finished yet. It completes with the tuple of their
/// outputs, in the order the futures were written, once the last one is done. `join!()` is `()`;
/// `join!(a)` is the one-element tuple `(a_output,)`. It must be used inside an `async` block or
/// function.
///
/// The futures run *concurrently* but not in *parallel*: they share the current task. To run
/// futures in parallel, spawn them and join their [`JoinHandle`](crate::JoinHandle)s.
///
/// # Fairness
///
/// Each poll starts with the next future in turn (the first, then the second, ...), so a future
/// that uses up the cooperative budget (see [`task::poll_budget`](crate::task::poll_budget))
/// cannot starve the ones written after it.
///
/// # Cancellation
///
/// A future that finishes keeps its output, and stays in place, until the whole `join!` finishes;
/// it is never polled again. Dropping the `join!` (for example when it loses a
/// [`select!`](crate::select!)) drops every future and every output gathered so far.
///
/// # Allocation
///
/// None: the futures and their outputs live in the awaiting future's state.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{join, task::yield_now};
///
/// async fn double(x: u32) -> u32 {
///     yield_now().await;
///     x * 2
/// }
///
/// let out = ebbtide_core::block_on(async {
///     join!(double(1), double(2), async { "three" })
/// });
/// assert_eq!(out, (2, 4, "three"));
/// ```
#[macro_export]
macro_rules! join {
    () => {
        async {}.await
    };
    ($($future:expr),+ $(,)?) => {
        $crate::__join_internal!(@bind join [] [] $($future,)+)
    };
}

/// Runs fallible futures concurrently and returns all of their values, or the first error.
///
/// Like [`join!`](crate::join!), but every future yields a `Result<T, E>` with the same `E`.
/// `try_join!` completes with `Ok((t1, t2, ...))` once every future has yielded `Ok`, or with the
/// first `Err` that any future yields. `try_join!()` is `Ok(())`.
///
/// # Fairness
///
/// As in [`join!`](crate::join!), each poll starts with the next future in turn.
///
/// # Cancellation
///
/// When a future yields `Err`, `try_join!` completes at once: every other future, finished or
/// not, is dropped before `try_join!` returns the error, and no future is polled after the one
/// that failed. Dropping the `try_join!` drops all of its futures.
///
/// # Allocation
///
/// None, as for [`join!`](crate::join!).
///
/// # Examples
///
/// ```
/// use ebbtide_core::try_join;
///
/// async fn parse(s: &str) -> Result<u32, core::num::ParseIntError> {
///     s.parse()
/// }
///
/// ebbtide_core::block_on(async {
///     assert_eq!(try_join!(parse("1"), parse("2")), Ok((1, 2)));
///     // The error ends the `try_join!` although a future is still pending.
///     let never = core::future::pending::<Result<u32, _>>();
///     assert!(try_join!(parse("1"), parse("two"), never).is_err());
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    () => {
        async { $crate::__private::Result::Ok(()) }.await
    };
    ($($future:expr),+ $(,)?) => {
        $crate::__join_internal!(@bind try_join [] [] $($future,)+)
    };
}

/// The engine of [`join!`](crate::join!) and [`try_join!`](crate::try_join!).
///
/// `@bind kind [bound] [count] futures,` binds one future and an output slot per step, then polls
/// them all; `count` is a list of `1`s, one per future bound so far, from which each future's
/// index (`0 + 1 + 1`) and the total are built.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_internal {
    (@bind $kind:ident [$($bound:tt)*] [$($count:tt)*] $future:expr, $($rest:tt)*) => {{
        // `mut`: the closure below polls it through `&mut`.
        #[allow(unused_mut)]
        let mut future = $crate::__private::IntoFuture::into_future($future);
        let mut output = $crate::__private::Option::None;
        $crate::__join_internal!(
            @bind $kind [$($bound)* (future output [$($count)*])] [$($count)* 1] $($rest)*
        )
    }};
    (@bind $kind:ident [$(($future:ident $output:ident [$($index:tt)*]))*] [$($count:tt)*]) => {{
        let mut start: usize = 0;
        // The closure owns the futures, their outputs and where to start: the awaited `PollFn`
        // is all the state kept across the `await` (no pinned or captured references).
        $crate::__private::poll_fn(move |cx| {
            let count: usize = 0 $(+ $count)*;
            let mut pending = false;
            let mut i = start;
            for _ in 0..count {
                $(
                    if i == 0 $(+ $index)* && $crate::__private::Option::is_none(&$output) {
                        // SAFETY: the future is owned by this closure, which lives in a `PollFn`
                        // that is pinned before its first poll (it is awaited) and dropped in
                        // place; `PollFn` is `Unpin` only if the closure is, so the closure's
                        // captures are never moved once polled.
                        let future = unsafe { $crate::__private::Pin::new_unchecked(&mut $future) };
                        match $crate::__private::Future::poll(future, cx) {
                            $crate::__private::Poll::Ready(output) => {
                                $output = $crate::__join_internal!(@ready $kind output);
                            }
                            $crate::__private::Poll::Pending => pending = true,
                        }
                    }
                )*
                i += 1;
                if i == count {
                    i = 0;
                }
            }
            start += 1;
            if start == count {
                start = 0;
            }
            if pending {
                return $crate::__private::Poll::Pending;
            }
            let outputs = ($($crate::__private::take_output(&mut $output),)*);
            $crate::__private::Poll::Ready($crate::__join_internal!(@done $kind outputs))
        })
        .await
    }};
    (@ready join $output:ident) => {
        $crate::__private::Option::Some($output)
    };
    (@ready try_join $output:ident) => {
        match $output {
            $crate::__private::Result::Ok(value) => $crate::__private::Option::Some(value),
            $crate::__private::Result::Err(error) => {
                return $crate::__private::Poll::Ready($crate::__private::Result::Err(error));
            }
        }
    };
    (@done join $outputs:ident) => {
        $outputs
    };
    (@done try_join $outputs:ident) => {
        $crate::__private::Result::Ok($outputs)
    };
}

/// Waits on several futures at once and runs the handler of the first one to complete.
///
/// ```text
/// select! {
///     biased;                                        // optional: poll top to bottom
///     <pattern> = <future> (, if <precondition>)? => <handler>,
///     ...
///     else => <expression>                           // optional, must come last
/// }
/// ```
///
/// The syntax and behaviour follow Tokio's `select!`:
///
/// 1. Every `<precondition>` is evaluated, top to bottom. A branch whose precondition is `false`
///    is *disabled*.
/// 2. Every `<future>` expression is evaluated, top to bottom, disabled branches included, and
///    turned into a future ([`IntoFuture`](core::future::IntoFuture)); disabled ones are never
///    polled.
/// 3. The enabled futures are polled concurrently, in the current task. When one completes, its
///    output is matched against its `<pattern>`. If it does not match, the branch is disabled and
///    the others go on. If it matches, every future of the `select!` is dropped, and then the
///    `<handler>` runs with the pattern's bindings.
/// 4. If every branch is disabled (from the start, or because their outputs failed to match),
///    the `else` expression runs; without an `else` branch, `select!` panics.
///
/// `select!` evaluates to the value of the handler (or `else`) that ran; all must have the same
/// type. Handlers are plain code in the enclosing function, not closures: `break`, `continue`,
/// `return`, `?` and `.await` in a handler act on the enclosing loop, function or `async` block.
/// `select!` must be used inside an `async` block or function. About 30 branches fit under the
/// default `#![recursion_limit]` of 128; raise the limit for more.
///
/// # Fairness
///
/// Without `biased;`, each poll starts at a pseudo-randomly chosen branch (a xorshift generator in
/// one static atomic, read and written without compare-and-swap, so it works on every target), and
/// goes on through the others in order. Two branches that are always ready each win about half of
/// the time. With `biased;` as the first token, every poll goes top to bottom, so an earlier ready
/// branch always wins: use it to give, say, a shutdown signal priority, and to make tests
/// deterministic.
///
/// # Cancellation
///
/// When a branch completes and matches, the futures of *all* branches, including the winner's and
/// those of disabled branches, are dropped before its handler runs, so the handler may use what
/// the futures borrowed. A future whose output did not match is not polled again; it is dropped
/// with the others. Dropping a pending `select!` drops all its futures. Whether a dropped future
/// loses data depends on that future: see the `# Cancel safety` section of each async method.
/// To keep a future across several `select!`s (in a loop), pin it outside and pass `&mut fut`.
///
/// # Allocation
///
/// None: the futures live in the awaiting future's state, pinned in place.
///
/// # Panics
///
/// If every branch is disabled and there is no `else` branch.
///
/// # Examples
///
/// The first future to complete wins; the others are dropped:
///
/// ```
/// use core::future::{pending, ready};
/// use ebbtide_core::select;
///
/// let winner = ebbtide_core::block_on(async {
///     select! {
///         never = pending::<u32>() => never,
///         now = ready(7) => now * 6,
///     }
/// });
/// assert_eq!(winner, 42);
/// ```
///
/// A loop that drains two sources. A branch whose output does not match its pattern (`None` for
/// `Some(..)`) is disabled for that `select!`, a precondition keeps a branch from being polled at
/// all, and `else` runs once every branch is disabled. Handlers can `break` out of the loop:
///
/// ```
/// use ebbtide_core::select;
///
/// let mut a = [1, 2, 3].into_iter();
/// let mut b = [10, 20, 30].into_iter();
/// let total = ebbtide_core::block_on(async {
///     let (mut total, mut taken_from_b) = (0, 0);
///     loop {
///         select! {
///             // `async` makes `next()` run when polled, so a branch that loses takes nothing.
///             Some(x) = async { a.next() } => total += x,
///             Some(y) = async { b.next() }, if taken_from_b < 2 => {
///                 total += y;
///                 taken_from_b += 1;
///             }
///             else => break,
///         }
///     }
///     total
/// });
/// assert_eq!(total, 1 + 2 + 3 + 10 + 20);
/// ```
///
/// With `biased;`, branches are tried top to bottom:
///
/// ```
/// use core::future::ready;
/// use ebbtide_core::select;
///
/// ebbtide_core::block_on(async {
///     let first = select! {
///         biased;
///         x = ready("first") => x,
///         x = ready("second") => x,
///     };
///     assert_eq!(first, "first");
/// });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)*) => {
        $crate::__select_internal!(@parse biased [] [] $($branches)*)
    };
    ($($branches:tt)*) => {
        $crate::__select_internal!(@parse fair [] [] $($branches)*)
    };
}

/// The engine of [`select!`](crate::select!), in three phases:
///
/// - `@parse`, `@pattern` and `@branch` read the branches into
///   `([index] [pattern] {future} {precondition} {handler})`, two or three steps per branch so
///   that large `select!`s stay under the `recursion_limit`; a pattern is every token before its
///   `=`. `index` is a list of `1`s, one per branch before it, from which `0 + 1 + 1` is built.
/// - `@run` evaluates the preconditions into one `[bool; N]` of enabled branches, awaits
///   `@futures` for a tuple of output slots, then runs the handler of the slot that is full.
/// - `@futures` binds and pins each future, then polls them; its block ends, dropping every
///   future, before `@run` goes on to the handlers.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_internal {
    // ---- @parse: one branch at a time ----
    (@parse $mode:ident [] [] $(else => $else:expr $(,)?)?) => {
        ::core::compile_error!("select! needs at least one `pattern = future => handler` branch")
    };
    (@parse $mode:ident $branches:tt $count:tt else => $else:expr $(,)?) => {
        $crate::__select_internal!(@run $mode {$else} $branches $count)
    };
    (@parse $mode:ident $branches:tt $count:tt else $($rest:tt)*) => {
        ::core::compile_error!("the `else => expression` branch of select! must come last")
    };
    (@parse $mode:ident $branches:tt $count:tt) => {
        $crate::__select_internal!(
            @run $mode {$crate::__private::all_branches_disabled()} $branches $count
        )
    };
    // Short patterns in one step; longer ones token by token.
    (@parse $mode:ident $branches:tt $count:tt $p1:tt = $($rest:tt)*) => {
        $crate::__select_internal!(@branch $mode $branches $count [$p1] $($rest)*)
    };
    (@parse $mode:ident $branches:tt $count:tt $p1:tt $p2:tt = $($rest:tt)*) => {
        $crate::__select_internal!(@branch $mode $branches $count [$p1 $p2] $($rest)*)
    };
    (@parse $mode:ident $branches:tt $count:tt $p1:tt $p2:tt $p3:tt = $($rest:tt)*) => {
        $crate::__select_internal!(@branch $mode $branches $count [$p1 $p2 $p3] $($rest)*)
    };
    (@parse $mode:ident $branches:tt $count:tt $($rest:tt)+) => {
        $crate::__select_internal!(@pattern $mode $branches $count [] $($rest)+)
    };

    // ---- @pattern: every token up to the `=` before the future ----
    (@pattern $mode:ident $branches:tt $count:tt [$($pattern:tt)+] = $($rest:tt)*) => {
        $crate::__select_internal!(@branch $mode $branches $count [$($pattern)+] $($rest)*)
    };
    (@pattern $mode:ident $branches:tt $count:tt [$($pattern:tt)*] $next:tt $($rest:tt)*) => {
        $crate::__select_internal!(@pattern $mode $branches $count [$($pattern)* $next] $($rest)*)
    };
    (@pattern $mode:ident $branches:tt $count:tt [$($pattern:tt)*]) => {
        ::core::compile_error!("select!: expected `= future => handler` after the pattern")
    };

    // ---- @branch: `future (, if precondition)? => handler`; a block handler needs no comma ----
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr, if $condition:expr => $handler:block, $($rest:tt)*) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {$condition} {$handler})]
            [$($count)* 1] $($rest)*)
    };
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr, if $condition:expr => $handler:block $($rest:tt)*) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {$condition} {$handler})]
            [$($count)* 1] $($rest)*)
    };
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr, if $condition:expr => $handler:expr $(, $($rest:tt)*)?) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {$condition} {$handler})]
            [$($count)* 1] $($($rest)*)?)
    };
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr => $handler:block, $($rest:tt)*) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {true} {$handler})]
            [$($count)* 1] $($rest)*)
    };
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr => $handler:block $($rest:tt)*) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {true} {$handler})]
            [$($count)* 1] $($rest)*)
    };
    (@branch $mode:ident [$($branches:tt)*] [$($count:tt)*] $pattern:tt
        $future:expr => $handler:expr $(, $($rest:tt)*)?) => {
        $crate::__select_internal!(@parse $mode
            [$($branches)* ([$($count)*] $pattern {$future} {true} {$handler})]
            [$($count)* 1] $($($rest)*)?)
    };
    (@branch $mode:ident $branches:tt $count:tt $pattern:tt $($rest:tt)*) => {
        ::core::compile_error!(
            "select! branches are written `pattern = future => handler` or \
             `pattern = future, if condition => handler`"
        )
    };

    // ---- @run: preconditions, output slots, the futures, then the winner's handler ----
    (@run $mode:ident {$($else:tt)*}
        [$(([$($index:tt)*] [$($pattern:tt)*] $future:tt {$condition:expr} {$($handler:tt)*}))*]
        [$($count:tt)*]) => {{
        let mut enabled: [bool; 0 $(+ $count)*] = [$($condition),*];
        // The futures live in this statement's block: they are all dropped before a handler runs.
        // The winner's output comes out of the `await`, so it never lives across a suspension
        // (an output slot kept in the `async` block's state would make every task bigger).
        // `mut` for patterns that bind with `ref mut`.
        #[allow(unused_mut)]
        let mut outputs = $crate::__select_internal!(@futures $mode enabled outputs
            [] [$(([$($index)*] [$($pattern)*] $future))*] [$($count)*]);
        $(
            if let $crate::__select_internal!(
                @at [$($index)*] $crate::__private::Option::Some($($pattern)*)
            ) = outputs {
                $($handler)*
            } else
        )*
        {
            $($else)*
        }
    }};
    (@none $($index:tt)*) => {
        $crate::__private::Option::None
    };
    // The pattern `(_, _, $pattern, ..)`, with one `_` per `1` of the index.
    (@at [$($index:tt)*] $($pattern:tt)*) => {
        ($($crate::__select_internal!(@underscore $index),)* $($pattern)*, ..)
    };
    (@underscore $index:tt) => {
        _
    };

    // ---- @futures: bind each future, then poll them in a closure that owns them ----
    (@futures $mode:ident $enabled:ident $outputs:ident [$($done:tt)*]
        [($index:tt $pattern:tt {$future:expr}) $($todo:tt)*] $count:tt) => {{
        // `mut`: the closure below polls it through `&mut`.
        #[allow(unused_mut)]
        let mut future = $crate::__private::IntoFuture::into_future($future);
        $crate::__select_internal!(@futures $mode $enabled $outputs
            [$($done)* ($index $pattern future)] [$($todo)*] $count)
    }};
    // The closure owns the futures and the flags: the awaited `PollFn` is all the state kept
    // across the `await` (no pinned reference to each future, no captured reference to them).
    //
    // `biased`: top to bottom, each branch once, in straight-line code (no loop to rotate the
    // start: at `opt-level = "z"` the compiler kept that loop, 60 bytes of the sensor app's
    // heartbeat task).
    (@futures biased $enabled:ident $outputs:ident
        [$(([$($index:tt)*] [$($pattern:tt)*] $future:ident))*] [] [$($count:tt)*]) => {
        $crate::__private::poll_fn(move |cx| {
            let mut $outputs = ($($crate::__select_internal!(@none $($index)*),)*);
            let mut pending = false;
            $(
                $crate::__select_internal!(@poll cx pending $enabled $outputs
                    [$($index)*] [$($pattern)*] $future);
            )*
            $crate::__select_internal!(@end pending $outputs)
        })
        .await
    };
    // `fair`: from a random branch, round to the one before it.
    (@futures fair $enabled:ident $outputs:ident
        [$(([$($index:tt)*] [$($pattern:tt)*] $future:ident))*] [] [$($count:tt)*]) => {
        $crate::__private::poll_fn(move |cx| {
            let mut $outputs = ($($crate::__select_internal!(@none $($index)*),)*);
            let count: usize = 0 $(+ $count)*;
            let mut i: usize = $crate::__private::select_start(count);
            let mut pending = false;
            for _ in 0..count {
                $(
                    if i == 0 $(+ $index)* {
                        $crate::__select_internal!(@poll cx pending $enabled $outputs
                            [$($index)*] [$($pattern)*] $future);
                    }
                )*
                i += 1;
                if i == count {
                    i = 0;
                }
            }
            $crate::__select_internal!(@end pending $outputs)
        })
        .await
    };
    // One branch's poll, if it is enabled: a ready output that matches the pattern returns from
    // the closure; one that does not disables the branch.
    (@poll $cx:ident $pending:ident $enabled:ident $outputs:ident
        [$($index:tt)*] [$($pattern:tt)*] $future:ident) => {
        if $enabled[0 $(+ $index)*] {
            // SAFETY: the future is owned by this closure, which lives in a `PollFn` that is
            // pinned before its first poll (it is awaited) and dropped in place; `PollFn` is
            // `Unpin` only if the closure is, so the closure's captures are never moved once
            // polled.
            let future = unsafe { $crate::__private::Pin::new_unchecked(&mut $future) };
            match $crate::__private::Future::poll(future, $cx) {
                $crate::__private::Poll::Ready(output) => {
                    $enabled[0 $(+ $index)*] = false;
                    // Test the pattern on a reference, with `mut`, `ref` and `&` taken out, so
                    // that a mismatch leaves `output` whole.
                    #[allow(unused_variables, unreachable_patterns)]
                    let matched = $crate::__private::matches!(
                        &output,
                        $crate::__select_clean_pattern!([] [] $($pattern)*)
                    );
                    if matched {
                        let $crate::__select_internal!(@at [$($index)*] slot) = &mut $outputs;
                        *slot = $crate::__private::Option::Some(output);
                        return $crate::__private::Poll::Ready($outputs);
                    }
                }
                $crate::__private::Poll::Pending => $pending = true,
            }
        }
    };
    // After every enabled branch was polled and none matched.
    (@end $pending:ident $outputs:ident) => {
        if $pending {
            $crate::__private::Poll::Pending
        } else {
            // Every branch is disabled: the `else` branch runs.
            $crate::__private::Poll::Ready($outputs)
        }
    };
}

/// Rewrites a `select!` pattern so that it can be tested against a reference to the output
/// without moving out of it: drops `mut`, `ref` and `&`, recursing into `()`, `[]` and `{}`.
///
/// What is left matches the same values (default binding modes see through the references), and
/// binds everything by reference. `[stack] [done] tokens`: `stack` holds, innermost first, the
/// groups being rewritten, as `(delimiter [done before the group] [tokens after the group])`.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_clean_pattern {
    ([] [$($done:tt)*]) => {
        $($done)*
    };
    ([(paren [$($outer:tt)*] [$($after:tt)*]) $($stack:tt)*] [$($done:tt)*]) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($outer)* ($($done)*)] $($after)*)
    };
    ([(bracket [$($outer:tt)*] [$($after:tt)*]) $($stack:tt)*] [$($done:tt)*]) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($outer)* [$($done)*]] $($after)*)
    };
    ([(brace [$($outer:tt)*] [$($after:tt)*]) $($stack:tt)*] [$($done:tt)*]) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($outer)* {$($done)*}] $($after)*)
    };
    ([$($stack:tt)*] [$($done:tt)*] mut $($rest:tt)*) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($done)*] $($rest)*)
    };
    ([$($stack:tt)*] [$($done:tt)*] ref $($rest:tt)*) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($done)*] $($rest)*)
    };
    ([$($stack:tt)*] [$($done:tt)*] & $($rest:tt)*) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($done)*] $($rest)*)
    };
    ([$($stack:tt)*] [$($done:tt)*] && $($rest:tt)*) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($done)*] $($rest)*)
    };
    ([$($stack:tt)*] [$($done:tt)*] ($($inner:tt)*) $($rest:tt)*) => {
        $crate::__select_clean_pattern!(
            [(paren [$($done)*] [$($rest)*]) $($stack)*] [] $($inner)*
        )
    };
    ([$($stack:tt)*] [$($done:tt)*] [$($inner:tt)*] $($rest:tt)*) => {
        $crate::__select_clean_pattern!(
            [(bracket [$($done)*] [$($rest)*]) $($stack)*] [] $($inner)*
        )
    };
    ([$($stack:tt)*] [$($done:tt)*] {$($inner:tt)*} $($rest:tt)*) => {
        $crate::__select_clean_pattern!(
            [(brace [$($done)*] [$($rest)*]) $($stack)*] [] $($inner)*
        )
    };
    ([$($stack:tt)*] [$($done:tt)*] $next:tt $($rest:tt)*) => {
        $crate::__select_clean_pattern!([$($stack)*] [$($done)* $next] $($rest)*)
    };
}

/// Items the macros name through `$crate::__private`; not public API.
#[doc(hidden)]
pub mod support {
    pub use core::future::{poll_fn, Future, IntoFuture};
    pub use core::matches;
    pub use core::option::Option;
    pub use core::pin::Pin;
    pub use core::result::Result;
    pub use core::task::Poll;

    // A plain (not loom) atomic on purpose: the generator only spreads the starting branch, and
    // loom's atomics cannot live in a `static`. Only `load` and `store` are used, which every
    // target has, including those without compare-and-swap (thumbv6m). A lost update when two
    // threads race repeats a number, which is harmless.
    static SELECT_RNG: portable_atomic::AtomicU32 = portable_atomic::AtomicU32::new(0x9E37_79B9);

    /// The branch a fair `select!` of `branches` branches starts polling at: pseudo-random, in
    /// `0..branches`.
    #[inline]
    pub fn select_start(branches: usize) -> usize {
        use core::sync::atomic::Ordering::Relaxed;
        // xorshift32 (Marsaglia): never reaches 0 from a non-zero state.
        let mut x = SELECT_RNG.load(Relaxed);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        SELECT_RNG.store(x, Relaxed);
        // Map to `0..branches` by multiply-and-shift (Lemire): no division.
        ((u64::from(x) * branches as u64) >> 32) as usize
    }

    /// Takes the output of a future that `join!` saw finish.
    #[inline]
    pub fn take_output<T>(slot: &mut Option<T>) -> T {
        match slot.take() {
            Some(output) => output,
            None => unreachable!("join!: output taken twice"),
        }
    }

    /// What a `select!` without `else` does when every branch is disabled.
    #[cold]
    #[track_caller]
    pub fn all_branches_disabled() -> ! {
        panic!("all branches of select! are disabled and there is no `else` branch")
    }
}
