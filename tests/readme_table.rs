//! The README's "How every number is checked" table against what the suite measured.
//!
//! A cell of the table's "measured" column ends with `<!-- checks: ID ... -->`; its text
//! is the records of those checks (see `tests/common/record.rs`), joined by "; ". A marker
//! after a row's last `|` stands for the whole row, for tables a check prints. Run after
//! the suite (`.ci/run` does):
//!
//! ```sh
//! cargo test --release --workspace && cargo test --release --test readme_table -- --ignored
//! ```
//!
//! It fails where a cell disagrees with its records: a different count of numbers, a
//! different integer, or a real number off by more than 2% plus 1.5 units of its last
//! written digit (the rounding of a value a different CPU computes in its last bits). A record that is missing fails for the
//! checks the default suite runs, and is passed over for the `#[ignore]`d ones (their
//! IDs start with `slow-`). `RFRISK_WRITE_README=1` rewrites the cells from the records.

mod common;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const MARK: &str = "<!-- checks:";

/// Every number in `text`, with the unit of its last written digit (`None` for an integer).
fn numbers(text: &str) -> Vec<(f64, Option<f64>)> {
    let text = text.replace('−', "-").replace('×', "x");
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit() || (matches!(bytes[i], b'-' | b'+') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        // A digit inside a word (L1, E_0, 2-D) is a name, not a measurement.
        let in_word = i > 0 && (bytes[i - 1].is_ascii_alphabetic() || bytes[i - 1] == b'_');
        if !starts || in_word {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.' || bytes[j] == b',' && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) && bytes.get(j + 2).is_some_and(u8::is_ascii_digit) && bytes.get(j + 3).is_some_and(u8::is_ascii_digit)) {
            j += 1;
        }
        if j + 1 < bytes.len() && bytes[j] == b'e' && (bytes[j + 1].is_ascii_digit() || bytes[j + 1] == b'-' && bytes.get(j + 2).is_some_and(u8::is_ascii_digit)) {
            j += 2;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
        }
        let word = text[i..j].trim_end_matches('.').replace(',', "");
        if let Ok(v) = word.parse::<f64>() {
            let (mantissa, exponent) = word.split_once('e').map_or((word.as_str(), 0), |(m, e)| (m, e.parse().unwrap()));
            let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len() as i32);
            let unit = (word.contains(['.', 'e'])).then(|| 10f64.powi(exponent - decimals));
            out.push((v, unit));
        }
        i = j;
    }
    out
}

fn agree(cell: &str, measured: &str) -> Result<(), String> {
    let (a, b) = (numbers(cell), numbers(measured));
    if a.len() != b.len() {
        return Err(format!("{} numbers in the README, {} measured", a.len(), b.len()));
    }
    for (&(x, unit), &(y, _)) in a.iter().zip(&b) {
        let close = match unit {
            None => x == y,
            Some(unit) => (x - y).abs() <= 0.02 * x.abs().max(y.abs()) + 1.5 * unit,
        };
        if !close {
            return Err(format!("README has {x}, the suite measured {y}"));
        }
    }
    Ok(())
}

#[test]
#[ignore = "run after the suite, which writes the records: see the module doc"]
fn readme_table_matches_what_the_suite_measured() {
    let readme = std::fs::read_to_string(README).unwrap();
    let dir = common::checks_dir();
    let write = std::env::var("RFRISK_WRITE_README").is_ok_and(|v| v == "1");
    let (mut problems, mut compared, mut lines) = (Vec::new(), 0, Vec::new());
    for line in readme.lines() {
        let Some(at) = line.find(MARK) else {
            lines.push(line.to_owned());
            continue;
        };
        let end = at + line[at..].find("-->").expect("a closed checks comment");
        let ids: Vec<&str> = line[at + MARK.len()..end].split_whitespace().collect();
        // Ending the line (after the row's last `|`) the marker stands for the whole row (a
        // table the check prints); inside a cell, for that cell.
        let whole_row = line[end + 3..].trim().is_empty();
        // A cell starts after the last unescaped `|` (a `\|` is a pipe inside the cell).
        let cell_start = if whole_row {
            0
        } else {
            line[..at].rmatch_indices('|').find(|(i, _)| !line[..*i].ends_with('\\')).expect("the marker sits in a table row").0 + 1
        };
        let cell = line[cell_start..at].trim();
        let records: Vec<Option<String>> = ids.iter().map(|id| std::fs::read_to_string(dir.join(id)).ok().map(|t| t.trim().to_owned())).collect();
        let missing: Vec<&&str> = ids.iter().zip(&records).filter(|(_, r)| r.is_none()).map(|(id, _)| id).collect();
        if !missing.is_empty() {
            if missing.iter().any(|id| !id.starts_with("slow-")) {
                problems.push(format!("{ids:?}: no record of {missing:?} (did the suite run?)"));
            }
            lines.push(line.to_owned());
            continue;
        }
        let measured = records.into_iter().map(Option::unwrap).collect::<Vec<_>>().join("; ");
        compared += 1;
        if write {
            let cell = measured.replace('|', "\\|");
            lines.push(if whole_row { format!("{measured} {}", &line[at..]) } else { format!("{} {cell} {}", &line[..cell_start], &line[at..]) });
        } else {
            if let Err(why) = agree(cell, &measured) {
                problems.push(format!("{ids:?}: {why}\n  README:   {cell}\n  measured: {measured}"));
            }
            lines.push(line.to_owned());
        }
    }
    if write {
        std::fs::write(README, lines.join("\n") + "\n").unwrap();
        eprintln!("rewrote {compared} cells of README.md from {}", dir.display());
    }
    assert!(problems.is_empty(), "the README's table disagrees with the suite:\n{}", problems.join("\n"));
    assert!(compared > 0, "no table cell was compared");
    eprintln!("{compared} cells agree with what the suite measured");
}

#[test]
fn numbers_are_read_as_written() {
    let read: Vec<(f64, Option<f64>)> = numbers("z = +0.43, −0.06 (L = 2); 271/300 = 0.90; 1.1e-6 worst; E_0 L1 66,171");
    let want = [(0.43, Some(0.01)), (-0.06, Some(0.01)), (2.0, None), (271.0, None), (300.0, None), (0.90, Some(0.01)), (1.1e-6, Some(1e-7)), (66171.0, None)];
    assert_eq!(read.len(), want.len(), "{read:?}");
    for ((v, u), (w, wu)) in read.iter().zip(want) {
        assert!((v - w).abs() < 1e-15 && u.zip(wu).is_none_or(|(a, b)| (a - b).abs() < 1e-20) && u.is_some() == wu.is_some(), "{read:?}");
    }
    assert!(agree("z = +0.43", "z = +0.44").is_ok());
    assert!(agree("z = +0.43", "z = +0.48").is_err());
    assert!(agree("271/300", "270/300").is_err());
    assert!(agree("1.1e-6", "1.3e-6").is_err());
    assert!(agree("1, 2", "1").is_err());
}
