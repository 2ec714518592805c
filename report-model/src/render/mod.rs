//! Renderers: summary.md (with mermaid charts), SVG charts (plotters), Bencher Metric Format.
