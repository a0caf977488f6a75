//! One-dimensional Gaussian expectations `E f(z)`, `z ~ N(0, v)`.
//!
//! Two independent rules, so that each checks the other (equations/gep.md §6):
//! - [`gaussian_expectation`]: Gauss–Hermite with [`HERMITE_NODES`] nodes, the
//!   workhorse for smooth activations (tanh: error below 1e-13 for v <= 1, the
//!   range a tanh layer sees; at v = 4, because of tanh's poles, it grows to 1e-9 for
//!   E[z tanh z] and 1e-8 for E tanh^2, measured against mpmath in equations/gep.md §6.1);
//! - [`gaussian_expectation_piecewise`]: composite Gauss–Legendre on
//!   `[-12 sqrt(v), 12 sqrt(v)]` with a break at 0, which also integrates functions
//!   with a kink or jump at the origin (sign) to about 1e-13.

use std::sync::OnceLock;

/// Node count of the Gauss–Hermite rule used for every smooth activation.
pub const HERMITE_NODES: usize = 200;

/// Nodes and weights of the `n`-point Gauss–Hermite rule for the weight `exp(-x^2)`
/// (physicists' convention: `sum w_i = sqrt(pi)`).
///
/// Golub–Welsch (the eigenvalues of the Jacobi matrix, off-diagonal `sqrt(k/2)`)
/// gives the nodes; one Newton polish on the orthonormal Hermite recurrence then
/// yields each weight as `2 / p_n'(x_i)^2`. The normalised recurrence keeps every
/// intermediate value of order one, so the rule is stable for hundreds of nodes.
pub fn gauss_hermite(n: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(n >= 1, "Gauss-Hermite rule needs at least one node");
    const PI_M4: f64 = 0.751_125_544_464_942_5; // pi^(-1/4)
    let jacobi = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        if i.abs_diff(j) == 1 { (i.max(j) as f64 / 2.0).sqrt() } else { 0.0 }
    });
    let mut x = jacobi
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("the symmetric tridiagonal eigenproblem converges");
    let nf = n as f64;
    let mut w = vec![0.0; n];
    for (xi, wi) in x.iter_mut().zip(&mut w) {
        for _ in 0..3 {
            let (mut p1, mut p2) = (PI_M4, 0.0);
            for j in 1..=n {
                let jf = j as f64;
                let p3 = p2;
                p2 = p1;
                p1 = *xi * (2.0 / jf).sqrt() * p2 - ((jf - 1.0) / jf).sqrt() * p3;
            }
            let derivative = (2.0 * nf).sqrt() * p2;
            *xi -= p1 / derivative;
            *wi = 2.0 / (derivative * derivative);
        }
    }
    (x, w)
}

fn hermite_rule() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| gauss_hermite(HERMITE_NODES))
}

/// `E f(z)` for `z ~ N(0, v)` by [`HERMITE_NODES`]-point Gauss–Hermite:
/// `pi^(-1/2) sum_i w_i f(sqrt(2 v) x_i)`.
pub fn gaussian_expectation(f: impl Fn(f64) -> f64, v: f64) -> f64 {
    let (x, w) = hermite_rule();
    let scale = (2.0 * v).sqrt();
    let sum: f64 = x.iter().zip(w).map(|(&xi, &wi)| wi * f(scale * xi)).sum();
    sum / std::f64::consts::PI.sqrt()
}

/// Nodes and weights of the `n`-point Gauss–Legendre rule on `[-1, 1]`
/// (Newton on the Legendre recurrence, Numerical Recipes §4.6).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let nf = n as f64;
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 1..=n {
                let jf = j as f64;
                let p3 = p2;
                p2 = p1;
                p1 = ((2.0 * jf - 1.0) * z * p2 - (jf - 1.0) * p3) / jf;
            }
            derivative = nf * (z * p1 - p2) / (z * z - 1.0);
            let step = p1 / derivative;
            z -= step;
            if step.abs() <= 1e-16 {
                break;
            }
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * derivative * derivative);
        w[n - 1 - i] = w[i];
    }
    (x, w)
}

/// `E f(z)` for `z ~ N(0, v)` by composite 20-point Gauss–Legendre on 2 x 96 panels
/// covering `[-12 sqrt(v), 0]` and `[0, 12 sqrt(v)]` (the Gaussian tail beyond
/// 12 standard deviations is below 1e-32). Independent of [`gaussian_expectation`]
/// and exact up to rounding for functions that are smooth on each half-line.
pub fn gaussian_expectation_piecewise(f: impl Fn(f64) -> f64, v: f64) -> f64 {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    let (x, w) = RULE.get_or_init(|| gauss_legendre(20));
    const PANELS: usize = 96;
    let sd = v.sqrt();
    let half_width = 12.0 * sd / (2 * PANELS) as f64;
    let density = |z: f64| (-0.5 * z * z / v).exp() / (2.0 * std::f64::consts::PI * v).sqrt();
    let mut sum = 0.0;
    for panel in 0..2 * PANELS {
        let centre = -12.0 * sd + (2 * panel + 1) as f64 * half_width;
        for (&xi, &wi) in x.iter().zip(w) {
            let z = centre + half_width * xi;
            sum += wi * half_width * f(z) * density(z);
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_rule_integrates_gaussian_moments() {
        // E z^2 = v, E z^4 = 3 v^2, E z^6 = 15 v^3: exact for a 200-node rule.
        for v in [0.3, 1.0, 2.5] {
            assert!((gaussian_expectation(|_| 1.0, v) - 1.0).abs() < 1e-13);
            assert!((gaussian_expectation(|z| z * z, v) - v).abs() < 1e-13 * v);
            assert!((gaussian_expectation(|z| z.powi(4), v) - 3.0 * v * v).abs() < 1e-12 * v * v);
            assert!((gaussian_expectation(|z| z.powi(6), v) - 15.0 * v.powi(3)).abs() < 1e-11 * v.powi(3));
        }
    }

    #[test]
    fn legendre_rule_is_exact_for_polynomials() {
        let (x, w) = gauss_legendre(20);
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        let m38: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(38)).sum();
        assert!((m38 - 2.0 / 39.0).abs() < 1e-14);
    }

    #[test]
    fn piecewise_rule_handles_the_kink_of_abs() {
        // E|z| = sqrt(2 v / pi): 200-node Gauss–Hermite misses this in the 3rd digit.
        for v in [0.5, 1.0, 3.0] {
            let exact = (2.0 * v / std::f64::consts::PI).sqrt();
            assert!((gaussian_expectation_piecewise(f64::abs, v) - exact).abs() < 1e-13);
        }
    }

    #[test]
    fn the_two_rules_agree_on_tanh() {
        for v in [0.05, 0.4, 1.0] {
            let a = gaussian_expectation(|z| z * z.tanh(), v);
            let b = gaussian_expectation_piecewise(|z| z * z.tanh(), v);
            assert!((a - b).abs() < 1e-13, "v = {v}: {a} vs {b}");
        }
    }
}
