//! What each arm runs: the command line of one sample, and the files it will leave.

use std::path::{Path, PathBuf};

use report_model::schema::experiment::{Arm, Cell, Experiment};

use super::experiment::expand;

/// The command of one sample and where its outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPlan {
    pub argv: Vec<String>,
    /// The capture archive (capture arms).
    pub archive: Option<PathBuf>,
    /// The OTLP JSON trace (tracing arms).
    pub trace: Option<PathBuf>,
}

/// The workload command of `arm` in `cell`: the experiment's own command for the arm, else the
/// built-in `tare workload`. A command with shell syntax runs under `sh -c` (which costs about
/// 1.4 ms a sample here); plain words are executed directly, each word expanded on its own.
pub fn workload_argv(
    tare: &Path,
    arm: Arm,
    cell: &Cell,
    experiment: &Experiment,
    trace: Option<&Path>,
) -> Vec<String> {
    if let Some(cmd) = experiment.commands.get(&arm) {
        let trace = trace.map(Path::to_path_buf).unwrap_or_default();
        return match plain_words(cmd) {
            Some(words) => words.iter().map(|w| expand(w, cell, &trace)).collect(),
            None => vec!["sh".into(), "-c".into(), expand(cmd, cell, &trace)],
        };
    }
    let mut argv = vec![
        tare.display().to_string(),
        "workload".into(),
        "--kernel-events".into(),
        cell.kernel_events.to_string(),
        "--concurrency".into(),
        cell.concurrency.to_string(),
        "--payload-bytes".into(),
        cell.payload_bytes.to_string(),
    ];
    if let Some(t) = trace {
        argv.extend([
            "--span-events".into(),
            cell.span_events.to_string(),
            "--trace-out".into(),
            t.display().to_string(),
        ]);
        for (flag, n) in [
            ("--span-attributes", cell.span_attributes),
            ("--span-links", cell.span_links),
            ("--spans", cell.spans),
        ] {
            if n > 0 {
                argv.extend([flag.into(), n.to_string()]);
            }
        }
    }
    argv
}

/// The words of `cmd` when it needs no shell: no quoting, expansion, redirection, globbing,
/// control operators or variable assignment.
fn plain_words(cmd: &str) -> Option<Vec<&str>> {
    const SHELL: &[char] = &[
        '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#', '~',
        '=', '%', '!',
    ];
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let plain = !words.is_empty() && !cmd.contains(SHELL) && !cmd.contains('\n');
    plain.then_some(words)
}

/// The full plan of one sample. `stem` names its files inside `dir` (e.g. `k25-s25-0007-a`).
pub fn plan(
    tare: &Path,
    arm: Arm,
    cell: &Cell,
    experiment: &Experiment,
    dir: &Path,
    stem: &str,
    capture_flags: &[String],
) -> ArmPlan {
    let trace = arm.traces().then(|| dir.join(format!("{stem}.trace.json")));
    let workload = workload_argv(tare, arm, cell, experiment, trace.as_deref());
    if !arm.captures() {
        return ArmPlan {
            argv: workload,
            archive: None,
            trace,
        };
    }
    let archive = dir.join(format!("{stem}.tar.gz"));
    let mut argv = vec![
        tare.display().to_string(),
        "capture".into(),
        "--quiet".into(),
        "--out".into(),
        archive.display().to_string(),
    ];
    argv.extend(capture_flags.iter().cloned());
    if let Some(t) = &trace {
        argv.extend(["--trace".into(), t.display().to_string()]);
    }
    argv.push("--".into());
    argv.extend(workload);
    ArmPlan {
        argv,
        archive: Some(archive),
        trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use report_model::schema::experiment::Tier;

    fn exp() -> (Experiment, Cell) {
        let (e, _) = crate::harness::experiment::preset("smoke").unwrap();
        let cell = Cell {
            id: "k".into(),
            kernel_events: 3,
            span_events: 7,
            concurrency: 2,
            payload_bytes: 64,
            span_attributes: 0,
            span_links: 0,
            spans: 0,
            tier: Tier::Smoke,
        };
        (e, cell)
    }

    #[test]
    fn built_in_arms() {
        let (e, cell) = exp();
        let tare = Path::new("/bin/tare");
        let bare = plan(tare, Arm::Bare, &cell, &e, Path::new("/r"), "s0", &[]);
        assert_eq!(
            bare.argv.join(" "),
            "/bin/tare workload --kernel-events 3 --concurrency 2 --payload-bytes 64"
        );
        assert_eq!((bare.archive, bare.trace), (None, None));
        let c = plan(tare, Arm::C, &cell, &e, Path::new("/r"), "s1", &[]);
        assert_eq!(
            c.argv.join(" "),
            "/bin/tare capture --quiet --out /r/s1.tar.gz --trace /r/s1.trace.json -- /bin/tare workload \
             --kernel-events 3 --concurrency 2 --payload-bytes 64 --span-events 7 --trace-out /r/s1.trace.json"
        );
        assert_eq!(c.archive.as_deref(), Some(Path::new("/r/s1.tar.gz")));
        let b = plan(tare, Arm::B, &cell, &e, Path::new("/r"), "s2", &[]);
        assert!(b
            .argv
            .ends_with(&["--trace-out".to_string(), "/r/s2.trace.json".to_string()]));
        assert_eq!(b.archive, None);
        let limits = Cell {
            span_attributes: 200,
            span_links: 0,
            spans: 3000,
            ..cell.clone()
        };
        let b = plan(tare, Arm::B, &limits, &e, Path::new("/r"), "s3", &[]);
        assert!(b
            .argv
            .join(" ")
            .ends_with("--trace-out /r/s3.trace.json --span-attributes 200 --spans 3000"));
        // Untraced arms carry no OTel knob at all.
        let bare = plan(tare, Arm::Bare, &limits, &e, Path::new("/r"), "s4", &[]);
        assert!(!bare.argv.iter().any(|a| a.starts_with("--span")));
    }

    #[test]
    fn capture_flags_go_to_capture_arms_only() {
        let (e, cell) = exp();
        let tare = Path::new("/bin/tare");
        let flags = ["--redact".to_string(), "x\\d+".to_string()];
        let a = plan(tare, Arm::A, &cell, &e, Path::new("/r"), "s", &flags);
        assert_eq!(a.argv[5..7], flags);
        assert_eq!(a.argv[7], "--");
        let bare = plan(tare, Arm::Bare, &cell, &e, Path::new("/r"), "s", &flags);
        assert!(!bare.argv.contains(&flags[0]));
    }

    #[test]
    fn experiment_commands_with_shell_syntax_run_through_sh() {
        let (mut e, cell) = exp();
        e.commands.insert(
            Arm::B,
            "python3 w.py -n {span_events} -o {trace_out} 2>/dev/null".into(),
        );
        let b = plan(
            Path::new("/bin/tare"),
            Arm::B,
            &cell,
            &e,
            Path::new("/r"),
            "s",
            &[],
        );
        assert_eq!(
            b.argv,
            [
                "sh",
                "-c",
                "python3 w.py -n 7 -o /r/s.trace.json 2>/dev/null"
            ]
        );
        let bare = plan(
            Path::new("/bin/tare"),
            Arm::Bare,
            &cell,
            &e,
            Path::new("/r"),
            "s",
            &[],
        );
        assert_eq!(bare.argv[1], "workload");
    }

    #[test]
    fn plain_experiment_commands_are_executed_directly_word_by_word() {
        let (mut e, cell) = exp();
        e.commands.insert(
            Arm::B,
            "python3  w.py -n {span_events}\t-o {trace_out}".into(),
        );
        let dir = Path::new("/my results");
        let b = plan(Path::new("/bin/tare"), Arm::B, &cell, &e, dir, "s", &[]);
        // The trace path has a space and stays one argument.
        assert_eq!(
            b.argv,
            [
                "python3",
                "w.py",
                "-n",
                "7",
                "-o",
                "/my results/s.trace.json"
            ]
        );
        for shell in [
            "a | b", "a; b", "a $X", "X=1 a", "a 'q'", "a *.py", "a ~/x", "a\nb", "  ",
        ] {
            assert_eq!(plain_words(shell), None, "{shell:?}");
        }
        assert_eq!(plain_words(" a  -b 1.5 "), Some(vec!["a", "-b", "1.5"]));
    }
}
