//! Types carried into the block before it is type-checked: functions that
//! never run, called in `if false { .. }` branches the expansion writes
//! ahead of the block, so that rustc infers a type from the context (the
//! enclosing function's return type, the type a `let` expects of
//! `async_with!`) and the block, and exit's outcome built from it, see
//! that type. Without them a value's type would often be known only
//! after the macro, too late for the autoref choices of
//! [`Way`](super::Way), which need a concrete type where they are
//! written.
//!
//! Every witness is a `PhantomData<fn() -> T>`: `fn() -> T` keeps it
//! `Send`, `Sync` and `Copy` whatever `T` is, so a witness never changes
//! whether the enclosing future is `Send`.

use core::marker::PhantomData;

/// A value of the enclosing function's return type `R`, never produced:
/// `if false { return return_type(witness) }` makes `witness` a
/// `PhantomData<fn() -> R>` before the block is type-checked.
/// (`fn() -> R` keeps the witness `Send` and `Sync` whatever `R` is.)
pub fn return_type<R>(_: PhantomData<fn() -> R>) -> R {
    unreachable!("only named in code that never runs")
}

/// `fn(R) -> R` for the enclosing function's return type `R`: a `return`'s
/// value goes through it, so that the context's type reaches the value
/// (coercions included) before exit's view of it is chosen.
#[inline(always)]
pub fn returning<R>(_: PhantomData<fn() -> R>) -> fn(R) -> R {
    |value| value
}

/// A value of the block's type `V`, never produced. The expansion is
/// `{ let value_type = PhantomData; if false { value_of(value_type) } else
/// { .. } }`: the type the context expects of `async_with!` (a `let` with a
/// type, a function's return type, an argument) reaches the `if`'s first
/// branch before the block is type-checked, so `value_type` is a
/// `PhantomData<fn() -> V>` of that type there (`fn() -> V` keeps the
/// witness `Send`, `Sync` and `Copy` whatever `V` is).
pub fn value_of<V>(_: PhantomData<fn() -> V>) -> V {
    unreachable!("only named in code that never runs")
}

/// The block's value, checked as the block of a plain `let v: V = { .. }`:
/// the expected type `V` (from [`value_of`]) reaches the block's tail
/// (its coercions, `collect()`, `parse()`), and exit's outcome is built
/// from a value of a known type.
#[inline(always)]
pub fn typed<V>(_: PhantomData<fn() -> V>, value: V) -> V {
    value
}
