//! Whole-command comparisons: two commands that must give the same answer, timed alternately
//! so that drift in machine load or page cache hits both alike.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::cmd;

/// One side of a comparison: a command and how to read its answer from stdout.
pub(crate) struct Contender {
    /// Short name shown in the table, e.g. `sha256sum`.
    pub(crate) label: String,
    /// The command, run once per measurement.
    pub(crate) command: Command,
    /// Extracts the answer from stdout; both sides must give the same answer on every run.
    pub(crate) answer: fn(&str) -> Result<String>,
}

/// Two commands doing the same work: `a` is the reference tool, `b` is ours.
pub(crate) struct Comparison {
    /// What is being compared, e.g. `sha256 of target/xtask-bench/1GiB.bin`.
    pub(crate) name: String,
    /// The reference command.
    pub(crate) a: Contender,
    /// The command being measured against the reference.
    pub(crate) b: Contender,
    /// Bytes each run processes, for throughput; `None` when throughput means nothing.
    pub(crate) bytes: Option<u64>,
}

/// Wall times of the counted runs, in run order, so `a[i]` and `b[i]` form a pair.
pub(crate) struct Outcome {
    /// Wall time of each counted run of `a`.
    pub(crate) a: Vec<Duration>,
    /// Wall time of each counted run of `b`.
    pub(crate) b: Vec<Duration>,
}

/// Running
impl Comparison {
    /// Runs one warm-up of each command, then `runs` counted runs alternating A B A B, and
    /// fails as soon as a run exits unsuccessfully or the answers differ.
    pub(crate) fn run(&mut self, runs: usize) -> Result<Outcome> {
        cmd::header(&format!(
            "compare {}: `{}` against `{}`, 1 warm-up + {runs} alternating runs each",
            self.name,
            cmd::display(&self.a.command),
            cmd::display(&self.b.command),
        ));
        let (_, expected) = run_once(&mut self.a)?;
        let (_, answer) = run_once(&mut self.b)?;
        self.check(&self.b.label, &answer, &expected)?;
        let mut outcome = Outcome {
            a: Vec::with_capacity(runs),
            b: Vec::with_capacity(runs),
        };
        for _ in 0..runs {
            let (elapsed, answer) = run_once(&mut self.a)?;
            self.check(&self.a.label, &answer, &expected)?;
            outcome.a.push(elapsed);
            let (elapsed, answer) = run_once(&mut self.b)?;
            self.check(&self.b.label, &answer, &expected)?;
            outcome.b.push(elapsed);
        }
        Ok(outcome)
    }

    /// Fails unless `answer` from the contender `label` equals the reference's first answer.
    fn check(&self, label: &str, answer: &str, expected: &str) -> Result<()> {
        if answer == expected {
            Ok(())
        } else {
            Err(format!(
                "{}: `{label}` answered {answer} but `{}` answered {expected}",
                self.name, self.a.label
            )
            .into())
        }
    }
}

/// Runs `contender` once and returns its wall time and answer.
fn run_once(contender: &mut Contender) -> Result<(Duration, String)> {
    let label = &contender.label;
    contender.command.stdin(Stdio::null());
    let start = Instant::now();
    let output = contender
        .command
        .output()
        .map_err(|err| format!("could not start `{label}`: {err}"))?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{label}` failed ({}):\n{}",
            output.status,
            stderr.trim_end()
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer = (contender.answer)(&stdout)
        .map_err(|err| format!("could not read the output of `{label}`: {err}"))?;
    Ok((elapsed, answer))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Reads the first word of stdout.
    fn first_word(stdout: &str) -> Result<String> {
        stdout
            .split_whitespace()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| "no output".into())
    }

    fn shell(label: &str, script: &str) -> Contender {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        Contender {
            label: label.to_owned(),
            command,
            answer: first_word,
        }
    }

    fn comparison(a: Contender, b: Contender) -> Comparison {
        Comparison {
            name: "test".to_owned(),
            a,
            b,
            bytes: None,
        }
    }

    #[test]
    fn agreeing_commands_yield_paired_timings() {
        let mut comparison = comparison(shell("a", "echo 42"), shell("b", "echo 42 extra"));
        let outcome = comparison.run(3).expect("both commands print 42");
        assert_eq!((outcome.a.len(), outcome.b.len()), (3, 3));
    }

    #[test]
    fn different_answers_fail_naming_both_commands() {
        let mut comparison = comparison(shell("ref", "echo 1"), shell("ours", "echo 2"));
        let err = comparison
            .run(1)
            .err()
            .expect("answers 1 and 2 differ")
            .to_string();
        assert!(
            err.contains("`ours` answered 2") && err.contains("`ref` answered 1"),
            "{err}"
        );
    }

    #[test]
    fn a_failing_command_is_reported_with_its_stderr() {
        let mut comparison = comparison(
            shell("ref", "echo 1"),
            shell("ours", "echo oops >&2; exit 3"),
        );
        let err = comparison
            .run(1)
            .err()
            .expect("exit 3 is a failure")
            .to_string();
        assert!(
            err.contains("`ours` failed") && err.contains("oops"),
            "{err}"
        );
    }
}
