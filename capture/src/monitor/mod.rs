//! Loads the eBPF programs, attaches them, and consumes their ring buffer.
