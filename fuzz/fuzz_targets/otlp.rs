//! Feeds arbitrary text to the OTLP JSON trace reader (parse_otlp_json) and what fidelity reads of a trace (spans, dropped events, attributes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use report_model::schema::otlp::parse_otlp_json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(trace) = parse_otlp_json("trace.json", text) else {
        return;
    };
    let _ = trace.dropped_events();
    for span in trace.spans() {
        for e in &span.events {
            if let Some(v) = e.attribute("seq") {
                let _ = (v.as_i64(), v.as_str());
            }
        }
    }
});
