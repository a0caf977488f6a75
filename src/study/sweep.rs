//! `rfrisk sweep`: one prediction per value of a spec key, solved in parallel.

use crate::solver::entropic::TopError;
use crate::solver::predict::{predict, Prediction, PredictError};
use crate::spec::SpecDoc;
use rayon::prelude::*;

/// One point of a sweep: the value as the user wrote it and its outcome; a
/// failure is `infeasible: ...` (no interpolator in the mirror map's domain) or `error: ...`.
#[derive(Debug)]
pub struct SweepPoint {
    pub value: String,
    pub outcome: Result<Prediction, String>,
}

fn status_of(e: &PredictError) -> String {
    match e {
        PredictError::Top(TopError::Infeasible { .. }) => format!("infeasible: {e}"),
        _ => format!("error: {e}"),
    }
}

/// Expands `a:b:step` (inclusive of `b` up to rounding) or `v1,v2,...` into values.
/// A range of integers stays integer, so it can set integer keys.
pub fn parse_values(spec: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    match parts.as_slice() {
        [single] => {
            let values: Vec<String> = single.split(',').map(|v| v.trim().to_owned()).collect();
            if values.iter().any(String::is_empty) {
                return Err(format!("`{spec}`: empty value in the list"));
            }
            Ok(values)
        }
        [a, b, step] => {
            if let (Ok(a), Ok(b), Ok(step)) = (a.parse::<i64>(), b.parse::<i64>(), step.parse::<i64>()) {
                if step <= 0 || b < a {
                    return Err(format!("`{spec}`: needs a <= b and step > 0"));
                }
                return Ok((a..=b).step_by(step as usize).map(|v| v.to_string()).collect());
            }
            let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
            let (Some(a), Some(b), Some(step)) = (num(a), num(b), num(step)) else {
                return Err(format!("`{spec}`: a:b:step needs three finite numbers"));
            };
            if !(step > 0.0) || b < a {
                return Err(format!("`{spec}`: needs a <= b and step > 0"));
            }
            let count = ((b - a) / step + 1e-9).floor() as usize + 1;
            if count > 1_000_000 {
                return Err(format!("`{spec}`: {count} points is more than a sweep should hold"));
            }
            // Round to 12 significant digits so that 0.1:0.3:0.1 prints 0.3, not 0.30000000000000004.
            Ok((0..count).map(|i| format!("{}", format!("{:.12e}", a + i as f64 * step).parse::<f64>().unwrap())).collect())
        }
        _ => Err(format!("`{spec}`: expected a:b:step or v1,v2,...")),
    }
}

/// Predicts at every value of `key`, in parallel; a failure stays with its point.
pub fn sweep(doc: &SpecDoc, key: &str, values: &[String]) -> Vec<SweepPoint> {
    values
        .par_iter()
        .map(|value| {
            let mut point = doc.clone();
            let outcome = point
                .set(&format!("{key}={value}"))
                .and_then(|()| point.to_spec())
                .map_err(|e| format!("error: {e}"))
                .and_then(|spec| predict(&spec).map_err(|e| status_of(&e)));
            SweepPoint { value: value.clone(), outcome }
        })
        .collect()
}

/// A status for a CSV cell: every line break of a message becomes a space.
pub fn one_line(status: &str) -> String {
    status.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The CSV's columns after the swept key: the risks, the last layer's unknowns
/// `eta`, `s` (equations/entropic.md §6), the largest residual of the system, and `status`.
pub const COLUMNS: [&str; 8] = ["excess_risk", "test_error", "bias", "variance", "eta", "s", "max_residual", "status"];

/// CSV with [`COLUMNS`]. A failed point keeps its value, leaves the numbers empty
/// and says why in `status`.
pub fn to_csv(key: &str, points: &[SweepPoint]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(std::iter::once(key).chain(COLUMNS)).expect("in-memory write");
    for point in points {
        let record: Vec<String> = match &point.outcome {
            // eta and s stay empty where the scalar problem is not derived (a ridge).
            Ok(p) => [Some(p.excess_risk), Some(p.test_error), Some(p.bias), Some(p.variance), p.top.as_ref().map(|t| t.eta), p.top.as_ref().map(|t| t.s), Some(p.solver.max_residual)]
                .iter()
                .map(|x| x.map(crate::output::csv_number).unwrap_or_default())
                .chain(["ok".to_owned()])
                .collect(),
            Err(e) => vec![String::new(); COLUMNS.len() - 1].into_iter().chain([one_line(e)]).collect(),
        };
        w.write_record(std::iter::once(&point.value).chain(&record)).expect("in-memory write");
    }
    w.into_inner().expect("in-memory write")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists_expand() {
        assert_eq!(parse_values("100:400:100").unwrap(), ["100", "200", "300", "400"]);
        assert_eq!(parse_values("0.1:0.3:0.1").unwrap(), ["0.1", "0.2", "0.3"]);
        assert_eq!(parse_values("1, 2.5,tanh").unwrap(), ["1", "2.5", "tanh"]);
        assert!(parse_values("5:1:1").is_err());
        assert!(parse_values("1:5:0").is_err());
        assert!(parse_values("1:x:1").is_err());
        assert!(parse_values("1,,2").is_err());
    }
}
