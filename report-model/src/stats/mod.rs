//! Statistics: percentiles, Hodges-Lehmann shifts with exact CIs, exact rank tests, verdicts.
