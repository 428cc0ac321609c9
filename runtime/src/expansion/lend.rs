//! How the manager expression of `async_with!` reaches the scope: the
//! `Lend` ladder, then the one check that reports a non-manager.
//!
//! The expansion writes, at the manager expression's span:
//!
//! ```text
//! pin!(scope(manager(match (expr,) { (m,) => {
//!     use __private::{LendByRef as _, LendManager as _, LendOther as _, LendUnpinned as _};
//!     (&&&&Lend(&m)).async_with_lend().lend(m)
//! } })))
//! ```
//!
//! `lend_kind` is found by method resolution on `&&&&Lend<M>`: the first
//! impl whose receiver matches after the fewest auto-derefs wins, so the
//! impls below sit on `&&&Lend`, `&&Lend`, `&Lend` and `Lend` in the order
//! they are preferred (see the [module docs](super) for the technique).
//! Each `lend_kind` returns a zero-sized marker whose inherent `lend`
//! does the lending with the right bounds.

use crate::manager::Unpinned;
use crate::{AsyncContextManager, ByRef, PinnedContextManager, by_ref};

/// The manager expression of `async_with!`, unchanged, checked before
/// anything else uses it: the one place where an expression that is no
/// manager is reported (at the expression, with the trait's message).
///
/// The return type is `M` for a manager, through a projection whose self
/// type is the manager's target type `T`: for a non-manager `T` is never
/// resolved, so neither is the value's type, and rustc reports nothing
/// more about the later uses of the value (the scope, its `enter` and
/// `exit`), since an error was reported already. A manager's call is
/// inlined away.
#[inline(always)]
pub fn manager<M, T>(manager: M) -> <T as Checked<M>>::Manager
where
    M: PinnedContextManager<Target = T>,
{
    manager
}

/// How the manager expression of `async_with!` is lent to the scope,
/// chosen by autoref where its type is concrete: call as
/// `(&&&&Lend(&expr)).async_with_lend().lend(expr)`, then check the result with
/// [`manager`].
///
/// 1. A manager ([`PinnedContextManager`]) is passed unchanged: every
///    manager that worked before this choice existed (a `&mut M` of a
///    `SendContextManager` included, so generic code bounded on the `Send`
///    variant keeps its `Send` futures).
/// 2. `&mut M` of any other [`AsyncContextManager`] (one that is not
///    `Send`, or implements only the local trait) is lent through
///    [`by_ref`](crate::by_ref): the `&mut` impl that coherence forbids on
///    the local trait (DESIGN.md, "`&mut M` moved to the `Send` variant"),
///    made here instead.
/// 3. Any other [`AsyncContextManager`], one that is not `Unpin` (generic
///    code bounded without `+ Unpin`), is lent as `Unpinned`: its
///    methods take `&mut self`, so it needs no pinning.
/// 4. Anything else is passed unchanged, and [`manager`] reports it once.
///
/// An expression whose type is still unknown takes the first choice, as
/// before.
pub struct Lend<'a, M>(pub &'a M);

/// First choice: a manager as it is.
pub trait LendManager {
    /// [`AsIs`].
    fn async_with_lend(&self) -> AsIs;
}
impl<M: PinnedContextManager> LendManager for &&&Lend<'_, M> {
    #[inline(always)]
    fn async_with_lend(&self) -> AsIs {
        AsIs
    }
}

/// Second: `&mut M` of a manager that is not `Send`.
pub trait LendByRef {
    /// [`AsByRef`].
    fn async_with_lend(&self) -> AsByRef;
}
impl<M: AsyncContextManager + ?Sized> LendByRef for &&Lend<'_, &mut M> {
    #[inline(always)]
    fn async_with_lend(&self) -> AsByRef {
        AsByRef
    }
}

/// Third: a manager that is not `Unpin`.
pub trait LendUnpinned {
    /// [`AsUnpinned`].
    fn async_with_lend(&self) -> AsUnpinned;
}
impl<M: AsyncContextManager> LendUnpinned for &Lend<'_, M> {
    #[inline(always)]
    fn async_with_lend(&self) -> AsUnpinned {
        AsUnpinned
    }
}

/// Last: not a manager; [`manager`] reports it.
pub trait LendOther {
    /// [`AsIs`].
    fn async_with_lend(&self) -> AsIs;
}
impl<M> LendOther for Lend<'_, M> {
    #[inline(always)]
    fn async_with_lend(&self) -> AsIs {
        AsIs
    }
}

/// The expression is lent as it is.
pub struct AsIs;
impl AsIs {
    /// `manager`.
    #[inline(always)]
    pub fn lend<M>(self, manager: M) -> M {
        manager
    }
}

/// The expression, a `&mut M`, is lent as `by_ref(manager)`.
pub struct AsByRef;
impl AsByRef {
    /// `by_ref(manager)`.
    #[inline(always)]
    pub fn lend<M: AsyncContextManager + ?Sized>(self, manager: &mut M) -> ByRef<'_, M> {
        by_ref(manager)
    }
}

/// The expression, a manager that is not `Unpin`, is lent as
/// `Unpinned`.
pub struct AsUnpinned;
impl AsUnpinned {
    /// `Unpinned(manager)`.
    #[inline(always)]
    pub fn lend<M: AsyncContextManager>(self, manager: M) -> Unpinned<M> {
        Unpinned(manager)
    }
}

/// `M`, through a projection on the manager's target type (see
/// [`manager`]).
pub trait Checked<M> {
    /// `M`.
    type Manager;
}
impl<T, M> Checked<M> for T {
    type Manager = M;
}
