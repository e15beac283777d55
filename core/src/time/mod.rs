//! Time: instants, durations, sleeping, timeouts, intervals, and the timer queue drivers use.
