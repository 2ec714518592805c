//! OTLP JSON traces (the OTel collector file exporter shape), read for span-event fidelity.
