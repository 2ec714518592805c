#![no_std]
//! The #[repr(C)] event layout shared by the eBPF programs and userspace.
