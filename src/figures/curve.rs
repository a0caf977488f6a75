//! The data behind a figure: theory and simulation over a swept key, in one CSV
//! that `rfrisk validate` writes and `rfrisk plot` reads back.
//!
//! Long format, one row per (series, x): `series,<key>,excess_risk,excess_stderr,
//! test_error,test_stderr,trials,status`. The series are `theory` and one per weight law;
//! theory rows have no standard error. A failed point keeps its x, leaves every number
//! empty and says why in `status`: it is drawn as missing, never as a number.

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub series: String,
    pub x: f64,
    pub excess_risk: Option<f64>,
    pub excess_stderr: Option<f64>,
    pub test_error: Option<f64>,
    pub test_stderr: Option<f64>,
    pub trials: Option<usize>,
    pub status: String,
}

impl Row {
    /// A point with no numbers; `status` says why (`error: ...`, `infeasible: ...`).
    pub fn failed(series: &str, x: f64, status: String) -> Row {
        Row {
            series: series.into(),
            x,
            excess_risk: None,
            excess_stderr: None,
            test_error: None,
            test_stderr: None,
            trials: None,
            status,
        }
    }

    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Which number a figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    ExcessRisk,
    TestError,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::ExcessRisk => "excess risk (mean squared error)",
            Metric::TestError => "test error (mean squared error)",
        }
    }

    /// (value, standard error) of a row, if it has one.
    pub fn of(self, row: &Row) -> Option<(f64, f64)> {
        let (v, se) = match self {
            Metric::ExcessRisk => (row.excess_risk, row.excess_stderr),
            Metric::TestError => (row.test_error, row.test_stderr),
        };
        v.filter(|v| v.is_finite()).map(|v| (v, se.filter(|s| s.is_finite()).unwrap_or(0.0)))
    }
}

/// A figure's rows and the key on its x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub key: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, thiserror::Error)]
pub enum CurveError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

const COLUMNS: [&str; 6] = ["excess_risk", "excess_stderr", "test_error", "test_stderr", "trials", "status"];

impl Curve {
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = ["series", self.key.as_str()].into_iter().chain(COLUMNS).collect();
        w.write_record(&header).expect("in-memory write");
        let num = |v: Option<f64>| v.map(crate::output::csv_number).unwrap_or_default();
        for r in &self.rows {
            w.write_record([
                r.series.clone(),
                crate::output::csv_number(r.x),
                num(r.excess_risk),
                num(r.excess_stderr),
                num(r.test_error),
                num(r.test_stderr),
                r.trials.map(|t| t.to_string()).unwrap_or_default(),
                crate::study::sweep::one_line(&r.status),
            ])
            .expect("in-memory write");
        }
        w.into_inner().expect("in-memory write")
    }

    pub fn write(&self, path: &Path) -> Result<(), CurveError> {
        crate::output::write_atomic(path, &self.to_csv())
            .map_err(|source| CurveError::Write { path: path.display().to_string(), source })
    }

    pub fn read(path: &Path) -> Result<Curve, CurveError> {
        let err = |message: String| CurveError::Read { path: path.display().to_string(), message };
        let mut reader = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let header = reader.headers().map_err(|e| err(e.to_string()))?.clone();
        let expected: Vec<&str> = COLUMNS.to_vec();
        if header.len() != 8 || &header[0] != "series" || header.iter().skip(2).collect::<Vec<_>>() != expected {
            return Err(err(format!(
                "not a figure CSV (expected columns series,KEY,{}; got {})",
                COLUMNS.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            )));
        }
        let key = header[1].to_owned();
        let mut rows = Vec::new();
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| err(e.to_string()))?;
            let num = |i: usize| -> Result<Option<f64>, CurveError> {
                let field = &record[i];
                if field.is_empty() {
                    return Ok(None);
                }
                field.parse::<f64>().map(Some).map_err(|_| err(format!("row {}: `{field}` is not a number", line + 2)))
            };
            let x = num(1)?.ok_or_else(|| err(format!("row {}: no {key} value", line + 2)))?;
            let trials = if record[6].is_empty() {
                None
            } else {
                Some(record[6].parse().map_err(|_| err(format!("row {}: bad trial count", line + 2)))?)
            };
            rows.push(Row {
                series: record[0].to_owned(),
                x,
                excess_risk: num(2)?,
                excess_stderr: num(3)?,
                test_error: num(4)?,
                test_stderr: num(5)?,
                trials,
                status: record[7].to_owned(),
            });
        }
        Ok(Curve { key, rows })
    }
}
