//! The deterministic equivalent of (ridge or ridgeless) least squares for a *given*
//! covariance (equations/model.md §4.3; Hastie, Montanari, Rosset and Tibshirani 2022, Bach 2023): the finite-size
//! route that the asymptotic solver is checked against. It uses the realized
//! eigenvalues directly and none of the layer recursion.

use faer::Mat;

/// The deterministic equivalent's numbers for one covariance spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetEquiv {
    /// The effective regularization: `kappa - lambda = (kappa/n) sum lambda_i/(lambda_i + kappa)`
    /// (`kappa = 0` for ridgeless least squares with more samples than features).
    pub kappa: f64,
    /// `sum lambda_i^2/(lambda_i + kappa)^2`.
    pub df2: f64,
    pub bias: f64,
    pub variance: f64,
}

impl DetEquiv {
    pub fn excess_risk(&self) -> f64 {
        self.bias + self.variance
    }
}

/// Ridgeless: `None` when fewer than `n` eigenvalues are positive (no interpolation regime).
///
/// `bias = r^2 kappa^2 (1/p) sum lambda/(lambda+kappa)^2 * n/(n - df2)`,
/// `variance = sigma^2 df2/(n - df2)`.
pub fn deterministic_equivalent(eigs: &[f64], n: usize, norm2: f64, noise_var: f64) -> Option<DetEquiv> {
    let lambdas: Vec<f64> = eigs.iter().map(|&l| l.max(0.0)).collect();
    if lambdas.iter().filter(|&&l| l > 1e-12 * lambdas.iter().cloned().fold(0.0, f64::max)).count() <= n {
        return None;
    }
    Some(with_ridge(eigs, n, 0.0, norm2, noise_var))
}

/// Ridge `argmin (1/n)|y - Phi a|^2 + ridge |a - a_0|^2` (any n, any `ridge >= 0`; `ridge = 0`
/// with more positive eigenvalues than samples is the ridgeless interpolator, with fewer it
/// is least squares, `kappa = 0`). The same bias and variance as [`deterministic_equivalent`]
/// at the `kappa` of `dof(kappa) = n (1 - ridge/kappa)`; at `kappa = 0` the bias vanishes and
/// the variance is `sigma^2 rank/(n - rank)` (infinite at `n = rank`).
pub fn with_ridge(eigs: &[f64], n: usize, ridge: f64, norm2: f64, noise_var: f64) -> DetEquiv {
    assert!(ridge >= 0.0 && ridge.is_finite(), "ridge must be finite and >= 0");
    let lambdas: Vec<f64> = eigs.iter().map(|&l| l.max(0.0)).collect();
    let nf = n as f64;
    let dof = |kappa: f64| lambdas.iter().map(|&l| l / (l + kappa)).sum::<f64>();
    // g(kappa) = dof(kappa) - n (1 - ridge/kappa) falls from +infinity (ridge > 0) or from
    // rank - n (ridge = 0) to -n as kappa grows: bisect in log kappa; no sign change means
    // kappa = 0 (ridgeless, n >= rank).
    let g = |log_kappa: f64| {
        let kappa = log_kappa.exp();
        dof(kappa) - nf * (1.0 - ridge / kappa)
    };
    let (mut lo, mut hi) = (-60.0f64, 60.0f64);
    let kappa = if g(lo) <= 0.0 {
        0.0
    } else {
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if g(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (0.5 * (lo + hi)).exp()
    };
    let p = lambdas.len() as f64;
    let df2: f64 = lambdas.iter().filter(|&&l| l > 0.0).map(|&l| (l / (l + kappa)).powi(2)).sum();
    let a: f64 = lambdas.iter().filter(|&&l| l > 0.0).map(|&l| l / ((l + kappa) * (l + kappa))).sum::<f64>() / p;
    let room = nf - df2;
    DetEquiv {
        kappa,
        df2,
        bias: norm2 * kappa * kappa * a * nf / room,
        variance: if room > 0.0 { noise_var * df2 / room } else { f64::INFINITY },
    }
}

/// The ridgeless interpolator (or ridge, as [`with_ridge`]) for a teacher and start whose
/// difference `a* - a_0` has the energy `weights[k] = E (v_k^T (a* - a_0))^2` on eigenvector `k`
/// of the features' second moment: `bias = n/(n - df2) kappa^2 sum_k weights[k] lambda_k/(lambda_k + kappa)^2`.
/// An isotropic teacher is `weights[k] = norm2/p`; a teacher with a mean along 1 is not.
pub fn with_eigen_weights(eigs: &[f64], weights: &[f64], n: usize, ridge: f64, noise_var: f64) -> DetEquiv {
    let de = with_ridge(eigs, n, ridge, 0.0, noise_var);
    let kappa = de.kappa;
    let energy: f64 = eigs.iter().zip(weights).filter(|(l, _)| **l > 0.0).map(|(l, w)| w * l / (l + kappa).powi(2)).sum();
    let nf = n as f64;
    DetEquiv { bias: nf / (nf - de.df2) * kappa * kappa * energy, ..de }
}

/// The deterministic equivalent for a teacher at any layer, from realized matrices
/// (equations/teacher.md §5, the cross-covariance version): labels `f* + noise` with
/// `f* = phi_k^T a*`, `E a* a*^T = (r^2/d_k) I`, features of covariance `Sigma_L` and
/// cross-covariance `C = E phi_L phi_k^T`, estimator `argmin (1/n)|y - Phi a|^2 + ridge |a - a_0|^2`
/// with `||a_0||^2 = start_norm2`. With `kappa` and `df2` of [`with_ridge`]:
/// `bias = n/(n - df2) [(r^2/d_k)(tr Sigma_k - tr C^T (Sigma_L+kappa)^{-1} C - kappa tr C^T (Sigma_L+kappa)^{-2} C)
///  + start_norm2 kappa^2 (1/p) tr Sigma_L (Sigma_L+kappa)^{-2}]`, `variance = sigma^2 df2/(n - df2)`,
/// and the approximation error `(r^2/d_k)(tr Sigma_k - tr C^T Sigma_L^{-1} C)`. None of it uses the layer recursion.
pub struct CrossDetEquiv {
    pub kappa: f64,
    pub bias: f64,
    pub variance: f64,
    pub approximation_error: f64,
}

impl CrossDetEquiv {
    pub fn excess_risk(&self) -> f64 {
        self.bias + self.variance
    }
}

pub fn with_cross_covariance(
    top: &Mat<f64>,
    teacher: &Mat<f64>,
    cross: &Mat<f64>,
    n: usize,
    ridge: f64,
    norm2: f64,
    start_norm2: f64,
    noise_var: f64,
) -> CrossDetEquiv {
    let eigen = top.self_adjoint_eigen(faer::Side::Lower).expect("symmetric eigenproblem converges");
    let lambdas: Vec<f64> = (0..top.nrows()).map(|i| eigen.S()[i].max(0.0)).collect();
    let de = with_ridge(&lambdas, n, ridge, 1.0, noise_var);
    // The teacher's weight on each eigenvector of Sigma_L: ||(Q^T C)_{i,:}||^2 / d_k.
    let projected = eigen.U().transpose() * cross;
    let dk = teacher.nrows() as f64;
    let weights: Vec<f64> = (0..projected.nrows()).map(|i| (0..projected.ncols()).map(|j| projected[(i, j)].powi(2)).sum::<f64>() / dk).collect();
    let signal = (0..teacher.nrows()).map(|i| teacher[(i, i)]).sum::<f64>() / dk;
    let kappa = de.kappa;
    let fitted: f64 = lambdas.iter().zip(&weights).filter(|(l, _)| **l > 0.0).map(|(l, w)| w * (1.0 / (l + kappa) + kappa / (l + kappa).powi(2))).sum();
    let explainable: f64 = lambdas.iter().zip(&weights).filter(|(l, _)| **l > 0.0).map(|(l, w)| w / l).sum();
    let p = lambdas.len() as f64;
    let start_part: f64 = kappa * kappa * lambdas.iter().map(|l| l / (l + kappa).powi(2)).sum::<f64>() / p;
    let nf = n as f64;
    let room = nf - de.df2;
    CrossDetEquiv {
        kappa,
        bias: nf / room * (norm2 * (signal - fitted) + start_norm2 * start_part),
        variance: de.variance,
        approximation_error: norm2 * (signal - explainable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotropic_spectrum_gives_the_textbook_risk() {
        let de = deterministic_equivalent(&vec![1.0; 1000], 400, 2.0, 0.25).unwrap();
        assert!((de.kappa - 1.5).abs() < 1e-12);
        assert!((de.bias - 2.0 * 0.6).abs() < 1e-12);
        assert!((de.variance - 0.25 * 400.0 / 600.0).abs() < 1e-12);
    }

    #[test]
    fn refuses_too_few_positive_eigenvalues() {
        let mut eigs = vec![0.0; 500];
        eigs.extend(vec![1.0; 300]);
        assert!(deterministic_equivalent(&eigs, 300, 1.0, 0.0).is_none());
        assert!(deterministic_equivalent(&eigs, 299, 1.0, 0.0).is_some());
    }

    /// Isotropic features, `p = 800`, `n = 400`: the effective ridge from its quadratic
    /// `kappa^2 + kappa (1 - p/n - lambda) - lambda = 0`, and the risk on both sides of the
    /// threshold and at `lambda = 0` with `n > p` (least squares: `sigma^2 p/(n - p)`, no bias).
    #[test]
    fn ridge_on_an_isotropic_spectrum_matches_its_quadratic() {
        for (p, n, ridge) in [(800usize, 400usize, 0.1f64), (800, 400, 2.0), (400, 800, 0.05), (400, 800, 0.0)] {
            let de = with_ridge(&vec![1.0; p], n, ridge, 2.0, 0.25);
            let gamma = p as f64 / n as f64;
            let b = 1.0 - gamma - ridge;
            let kappa = if ridge == 0.0 { (-b).max(0.0) } else { 0.5 * (-b + (b * b + 4.0 * ridge).sqrt()) };
            assert!((de.kappa - kappa).abs() < 1e-12 * kappa.max(1.0), "{p} {n} {ridge}: {} vs {kappa}", de.kappa);
            let df2 = p as f64 / (1.0 + kappa).powi(2);
            let bias = 2.0 * kappa * kappa / (1.0 + kappa).powi(2) * n as f64 / (n as f64 - df2);
            assert!((de.bias - bias).abs() < 1e-12, "{p} {n} {ridge}");
            assert!((de.variance - 0.25 * df2 / (n as f64 - df2)).abs() < 1e-12);
        }
        let ls = with_ridge(&vec![1.0; 400], 800, 0.0, 2.0, 0.25);
        assert_eq!((ls.kappa, ls.bias), (0.0, 0.0));
        assert!((ls.variance - 0.25 * 400.0 / 400.0).abs() < 1e-15);
        assert!(with_ridge(&vec![1.0; 400], 400, 0.0, 1.0, 0.25).variance.is_infinite(), "n = p without ridge");
        let ridgeless = deterministic_equivalent(&vec![1.0; 1000], 400, 2.0, 0.25).unwrap();
        assert_eq!(with_ridge(&vec![1.0; 1000], 400, 0.0, 2.0, 0.25), ridgeless);
    }
}
