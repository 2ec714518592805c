//! Spawns the child so that it is inside the session cgroup before it execs.
