//! TODO: the intrusive waiter list shared by the sync primitives.
