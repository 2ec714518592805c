//! Creates, joins and removes the per-run cgroup v2 (pure or hybrid mount).
