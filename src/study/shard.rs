//! Splitting a long run over machines (`--shard K/N`, `--shard slurm`) and putting it back
//! together (`--merge`).
//!
//! A run's units are its (trial, law) pairs, file by file (a trials CSV holds one swept value
//! of one curve). Each unit's seed comes from the run seed and the trial index only
//! (`simulate::trial_seed`), never from the shard, so how the work is split cannot change a
//! number. Shard K of N runs the units `u` of a file with `(u + salt) mod N = K - 1`, the salt a
//! hash of the file's name: small files then spread over all shards instead of all landing
//! on the first ones. Shard K writes `NAME.shard-K-of-N.csv` beside the file `NAME.csv` an
//! unsharded run would write, resumable like it; `--merge` checks that the shards hold every
//! unit exactly once and writes `NAME.csv` with the rows in the unsharded order, after which
//! the command goes on as a resumed run with nothing left to do.

use std::path::{Path, PathBuf};

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// How a run splits its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Split {
    /// Every unit, in one process (the default).
    #[default]
    Whole,
    /// Only the units of one shard, into its own files.
    Shard(Shard),
    /// No unit: the shards' files put together, then the rest as a resumed whole run.
    Merge,
}

/// How a run treats its trials files: resume them or not, and how the work is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Storage {
    pub resume: bool,
    pub split: Split,
}

impl From<bool> for Storage {
    /// A whole run, resumed or not.
    fn from(resume: bool) -> Storage {
        Storage { resume, split: Split::Whole }
    }
}

impl Storage {
    pub fn shard(&self) -> Option<Shard> {
        match self.split {
            Split::Shard(s) => Some(s),
            _ => None,
        }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    /// `K/N` with 1 <= K <= N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let parsed = s.split_once('/').and_then(|(k, n)| Some((k.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Shard { index, count }),
            Some((index, count)) => Err(format!("--shard {s}: K must lie in 1..=N, got K = {index}, N = {count}")),
            None => Err(format!("--shard {s}: expected K/N (shard K of N, 1-based, e.g. 2/4) or slurm")),
        }
    }
}

impl Shard {
    /// The shard of a Slurm job-array task, from `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`,
    /// `SLURM_ARRAY_TASK_COUNT` (and `SLURM_ARRAY_TASK_STEP` when the array has one): task IDs
    /// may start at 0, 1 or anywhere. `var` reads the environment (a map in the tests).
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let read = |name: &str| -> Result<usize, String> {
            let value = var(name).ok_or_else(|| format!("--shard slurm: {name} is not set; run inside a Slurm job array (sbatch --array=0-3), or give --shard K/N"))?;
            value.trim().parse().map_err(|_| format!("--shard slurm: {name} = {value:?} is not a non-negative integer"))
        };
        let (id, min, count) = (read("SLURM_ARRAY_TASK_ID")?, read("SLURM_ARRAY_TASK_MIN")?, read("SLURM_ARRAY_TASK_COUNT")?);
        let step = match var("SLURM_ARRAY_TASK_STEP") {
            Some(_) => read("SLURM_ARRAY_TASK_STEP")?.max(1),
            None => 1,
        };
        let offset = id.checked_sub(min).filter(|o| o % step == 0).map(|o| o / step);
        match offset {
            Some(k) if k < count => Ok(Shard { index: k + 1, count }),
            _ => Err(format!(
                "--shard slurm: SLURM_ARRAY_TASK_ID = {id} is not one of the {count} tasks from SLURM_ARRAY_TASK_MIN = {min} in steps of {step}"
            )),
        }
    }

    /// Whether unit `unit` of the trials file `file` is this shard's.
    pub fn owns(&self, file: &Path, unit: usize) -> bool {
        (unit as u64).wrapping_add(salt(file)) % self.count as u64 == (self.index - 1) as u64
    }

    /// `DIR/NAME.csv` -> `DIR/NAME.shard-K-of-N.csv`.
    pub fn path(&self, file: &Path) -> PathBuf {
        shard_path(file, &format!("shard-{}-of-{}", self.index, self.count))
    }
}

fn shard_path(file: &Path, tag: &str) -> PathBuf {
    let (stem, extension) = stem_and_extension(file);
    file.with_file_name(format!("{stem}.{tag}{extension}"))
}

/// `NAME.csv` -> (`NAME`, `.csv`).
fn stem_and_extension(file: &Path) -> (String, String) {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let extension = file.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    (stem, extension)
}

/// FNV-1a of the file's name (not its directory, which differs between machines).
fn salt(file: &Path) -> u64 {
    let name = file.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The shard files of `file` present on disk, with their shard, in shard order. Files of
/// different shard counts are an error: they belong to different splits.
pub fn shard_files(file: &Path) -> Result<Vec<(Shard, PathBuf)>, String> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let (stem, extension) = stem_and_extension(file);
    let prefix = format!("{stem}.shard-");
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(_) => return Ok(found),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(tag) = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(&extension)) else { continue };
        let Some((k, n)) = tag.split_once("-of-") else { continue };
        if let Ok(shard) = format!("{k}/{n}").parse::<Shard>() {
            found.push((shard, dir.join(&name)));
        }
    }
    found.sort_by_key(|(s, _)| (s.count, s.index));
    if let (Some(first), Some(last)) = (found.first(), found.last()) {
        if first.0.count != last.0.count {
            let names: Vec<String> = found.iter().map(|(_, p)| p.display().to_string()).collect();
            return Err(format!("shard files of different shard counts: {}; remove the stale ones", names.join(", ")));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_belongs_to_exactly_one_shard() {
        for count in 1..=16 {
            for file in ["trials.csv", "features.width=512.csv", "nu=2.5.csv"] {
                for unit in 0..200 {
                    let owners = (1..=count).filter(|&index| Shard { index, count }.owns(Path::new(file), unit)).count();
                    assert_eq!(owners, 1, "N = {count}, {file}, unit {unit}");
                }
            }
        }
        // The salt depends on the file name only.
        let s = Shard { index: 2, count: 5 };
        assert!((0..50).all(|u| s.owns(Path::new("/a/x.csv"), u) == s.owns(Path::new("/b/c/x.csv"), u)));
    }

    #[test]
    fn shards_parse_and_slurm_variables_are_checked() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "2", "a/b", "2/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("--shard"), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let slurm = |pairs| Shard::from_slurm(env(pairs));
        assert_eq!(slurm(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")]), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(slurm(&[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")]), Ok(Shard { index: 4, count: 4 }));
        assert_eq!(
            slurm(&[("SLURM_ARRAY_TASK_ID", "6"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_STEP", "2")]),
            Ok(Shard { index: 4, count: 4 })
        );
        let missing = slurm(&[("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")]).unwrap_err();
        assert!(missing.contains("SLURM_ARRAY_TASK_ID is not set"), "{missing}");
        let outside = slurm(&[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")]).unwrap_err();
        assert!(outside.contains("is not one of the 4 tasks"), "{outside}");
        let word = slurm(&[("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")]).unwrap_err();
        assert!(word.contains("\"x\" is not a non-negative integer"), "{word}");
    }

    #[test]
    fn shard_files_are_named_beside_the_file_and_found_again() {
        let dir = std::env::temp_dir().join(format!("rfrisk-shard-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("features.width=512.csv");
        let paths: Vec<PathBuf> = (1..=3).map(|index| Shard { index, count: 3 }.path(&file)).collect();
        assert_eq!(paths[1].file_name().unwrap(), "features.width=512.shard-2-of-3.csv");
        for p in paths.iter().rev() {
            std::fs::write(p, "").unwrap();
        }
        std::fs::write(dir.join("features.width=512.shard-2-of-3.csv.run.json"), "").unwrap();
        let found = shard_files(&file).unwrap();
        assert_eq!(found.iter().map(|(s, _)| s.index).collect::<Vec<_>>(), [1, 2, 3]);
        std::fs::write(Shard { index: 1, count: 2 }.path(&file), "").unwrap();
        assert!(shard_files(&file).unwrap_err().contains("different shard counts"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
