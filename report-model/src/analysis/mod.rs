//! Analyses over parsed files: retention of span events, summaries, deltas, comparisons.
