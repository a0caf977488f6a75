//! What several subcommands do the same way: load a spec, choose a backend, show progress, print JSON.

use super::args::{BackendChoice, SpecArgs, TrainerChoice};
use super::failure::Failure;
use rfrisk::spec::Spec;

/// Refuses a key that no spec has, naming the flag that gave it.
pub fn known_key(flag: &str, key: &str) -> Result<(), Failure> {
    if rfrisk::spec::KEYS.contains(&key) {
        Ok(())
    } else {
        Err(Failure { code: 2, message: format!("{flag} {key}: {}", rfrisk::spec::unknown_key(key)) })
    }
}

/// The values `flag` (`--values`, `--series`) gives `key`: expanded, and every value
/// checked by the key's type before anything runs.
pub fn values_of(flag: &str, key: &str, raw: &str) -> Result<Vec<String>, Failure> {
    let values = rfrisk::sweep::parse_values(raw).map_err(|reason| Failure { code: 2, message: format!("{flag} {reason}") })?;
    for value in &values {
        rfrisk::spec::check_value(key, value).map_err(|reason| Failure { code: 2, message: format!("{flag}: {reason}") })?;
    }
    Ok(values)
}

pub fn load(args: &SpecArgs) -> Result<Spec, Failure> {
    Ok(rfrisk::spec::load(&args.spec, &args.overrides)?)
}

static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--verbose`: print the notes that are noise on an ordinary run.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A note on stderr, printed only under `--verbose`.
fn note(text: String) {
    if VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("note: {text}");
    }
}

/// The backend asked for. `auto` takes an OpenCL GPU when there is one; an OpenCL CPU
/// device (PoCL) is slower than the cpu backend. What `auto` chose is said under
/// `--verbose`; the device `--backend opencl` runs on is always said, once.
pub fn choose_backend(choice: BackendChoice) -> Result<Box<dyn validation::Backend>, Failure> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(validation::Cpu)),
        BackendChoice::Opencl => {
            let cl = validation::OpenCl::new().map_err(|e| Failure { code: 2, message: format!("--backend opencl: {e}") })?;
            eprintln!("note: OpenCL device: {}", cl.device());
            Ok(Box::new(cl))
        }
        BackendChoice::Auto => match validation::OpenCl::new() {
            Ok(cl) if cl.is_gpu() => {
                note(format!("using the OpenCL GPU {} (the cpu backend for activations its kernel lacks)", cl.device()));
                Ok(Box::new(validation::backend::GpuOrCpu(cl)))
            }
            Ok(cl) => {
                note(format!("the only OpenCL device is a CPU ({}); using the faster cpu backend", cl.device()));
                Ok(Box::new(validation::Cpu))
            }
            Err(e) => {
                note(format!("{e}; using the cpu backend"));
                Ok(Box::new(validation::Cpu))
            }
        },
    }
}

impl From<TrainerChoice> for validation::Trainer {
    fn from(t: TrainerChoice) -> Self {
        match t {
            TrainerChoice::Direct => validation::Trainer::Direct,
            TrainerChoice::Smd => validation::Trainer::Smd,
        }
    }
}

pub fn progress_bar() -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} trials, {elapsed} elapsed, eta {eta}").expect("a valid template"),
    )
}

/// A progress callback `(done, total)` that drives `bar`.
pub fn report_to(bar: &indicatif::ProgressBar) -> impl Fn(usize, usize) + '_ {
    move |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

pub fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("predictions serialize") + "\n"
}
