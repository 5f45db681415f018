//! The targets of the second performance round (issue #17): each a ratio
//! taken within one run — roomcast against the ceiling, or against
//! itself in another case — so that a loaded machine moves both sides.
//! Shown in `BENCHMARKS.md` under the absolute targets. The last one is
//! issue #13's: recovery under churn, read from one run too.

use crate::markdown::{Runs, Table};

/// One ratio target: what it says and how it is read from a run's table.
pub struct RatioTarget {
    /// The target, as the issue states it.
    pub what: &'static str,
    /// The measured text and whether the target is met; `None` when a
    /// case it needs was not run.
    pub check: fn(&Table) -> Option<(String, bool)>,
}

fn runs<'a>(t: &'a Table, case: &str, server: &str) -> Option<&'a Runs> {
    t.get(case)?.get(server)
}

fn cpu(r: &Runs) -> Option<f64> {
    r.median(|x| x.server_cpu_us_per_op)
}

fn p99(r: &Runs) -> Option<f64> {
    r.median(|x| x.latency_us.as_ref().map(|l| l.p99 as f64))
}

fn lost(r: &Runs) -> u64 {
    r.0.iter().filter_map(|x| x.lost).sum()
}

/// `a / b` against `limit`, with the load average of `a`'s runs.
fn against(
    a: &Runs,
    b: &Runs,
    f: fn(&Runs) -> Option<f64>,
    limit: f64,
    of: &str,
) -> Option<(String, bool)> {
    let ratio = f(a)? / f(b)?;
    let load = a.median(|x| Some(x.load1_start)).unwrap_or(0.0);
    Some((format!("×{ratio:.2} {of} (load {load:.1})"), ratio <= limit))
}

/// roomcast against the ceiling in `case`.
fn vs_ceiling(
    t: &Table,
    case: &str,
    f: fn(&Runs) -> Option<f64>,
    limit: f64,
) -> Option<(String, bool)> {
    let roomcast = runs(t, case, "roomcast")?;
    against(roomcast, runs(t, case, "ceiling")?, f, limit, "the ceiling")
}

/// The targets, in the order.
pub const TARGETS: [RatioTarget; 7] = [
    RatioTarget {
        what: "echo -w 1 (c=100): server CPU per event ≤ 1.1× the ceiling's",
        check: |t| vs_ceiling(t, "echo c=100 w=1", cpu, 1.1),
    },
    RatioTarget {
        what: "connect --upgrade: server CPU per connection ≤ 1.2× the WebSocket-only connect",
        check: |t| {
            against(
                runs(t, "connect k=50 upgrade", "roomcast")?,
                runs(t, "connect k=50", "roomcast")?,
                cpu,
                1.2,
                "WebSocket-only connect",
            )
        },
    },
    RatioTarget {
        what: "reconnect-storm: every client back, 0 handshake errors",
        check: |t| {
            let r = t
                .iter()
                .find(|(c, _)| c.starts_with("reconnect-storm"))?
                .1
                .get("roomcast")?;
            let get = |k: &'static str| r.median(move |x| x.params.get(k).and_then(|v| v.as_f64()));
            let errors = get("handshake_errors")?;
            let back = get("back").or_else(|| get("reconnected"))?;
            let all = get("connections")?;
            let secs = get("all_back_s").map_or("–".to_string(), |s| format!("{s:.1} s"));
            Some((
                format!("{back:.0} of {all:.0} back in {secs}, {errors:.0} handshake errors"),
                errors == 0.0 && back >= all,
            ))
        },
    },
    RatioTarget {
        what: "fanout 10k × B=2: server CPU per delivery ≤ 1.05× the ceiling's, zero loss",
        check: |t| {
            let case = "fanout n=10000 b=2";
            let r = runs(t, case, "roomcast")?;
            let (text, ok) = vs_ceiling(t, case, cpu, 1.05)?;
            Some((format!("{text}, {} lost", lost(r)), ok && lost(r) == 0))
        },
    },
    RatioTarget {
        what: "fanout-latency 10k × 10/s: p99 ≤ 1.1× the ceiling's",
        check: |t| vs_ceiling(t, "fanout-latency n=10000 rate=10", p99, 1.1),
    },
    RatioTarget {
        what: "connect: server CPU per connection ≤ 1.1× the ceiling's",
        check: |t| vs_ceiling(t, "connect k=50", cpu, 1.1),
    },
    RatioTarget {
        what: "recovery 10k × 5 %/s cut: 100 % delivered with recovery on, 0 duplicates",
        check: |t| {
            let r = runs(
                t,
                "recovery n=10000 churn=5% rate=20",
                "roomcast recovery=on",
            )?;
            let expected: u64 = r.0.iter().filter_map(|x| x.expected).sum();
            let received: u64 = r.0.iter().filter_map(|x| x.received).sum();
            let dups = r.median(|x| x.params.get("duplicates")?.as_f64())?;
            let pct = 100.0 * received as f64 / expected.max(1) as f64;
            Some((
                format!("{received} of {expected} ({pct:.3} %), {dups:.0} duplicates"),
                received == expected && expected > 0 && dups == 0.0,
            ))
        },
    },
];
