//! The deterministic equivalent of ridgeless least squares for a *given*
//! covariance (equations/model.md §4.3; Hastie, Montanari, Rosset and Tibshirani 2022, Bach 2023): the finite-size
//! route that the asymptotic solver is checked against. It uses the realized
//! eigenvalues directly and none of the layer recursion.

/// The deterministic equivalent's numbers for one covariance spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetEquiv {
    /// `kappa > 0` with `sum lambda_i/(lambda_i + kappa) = n`.
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

/// `None` when fewer than `n` eigenvalues are positive (no interpolation regime).
///
/// `bias = r^2 kappa^2 (1/p) sum lambda/(lambda+kappa)^2 * n/(n - df2)`,
/// `variance = sigma^2 df2/(n - df2)`.
pub fn deterministic_equivalent(eigs: &[f64], n: usize, norm2: f64, noise_var: f64) -> Option<DetEquiv> {
    let lambdas: Vec<f64> = eigs.iter().map(|&l| l.max(0.0)).collect();
    let nf = n as f64;
    let dof = |kappa: f64| lambdas.iter().map(|&l| l / (l + kappa)).sum::<f64>();
    if lambdas.iter().filter(|&&l| l > 1e-12 * lambdas.iter().cloned().fold(0.0, f64::max)).count() <= n {
        return None;
    }
    // dof decreases from rank to 0 as kappa goes from 0 to infinity: bisect in log kappa.
    let (mut lo, mut hi) = (-60.0f64, 60.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if dof(mid.exp()) > nf {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let kappa = (0.5 * (lo + hi)).exp();
    let p = lambdas.len() as f64;
    let df2: f64 = lambdas.iter().map(|&l| (l / (l + kappa)).powi(2)).sum();
    let a: f64 = lambdas.iter().map(|&l| l / ((l + kappa) * (l + kappa))).sum::<f64>() / p;
    Some(DetEquiv {
        kappa,
        df2,
        bias: norm2 * kappa * kappa * a * nf / (nf - df2),
        variance: noise_var * df2 / (nf - df2),
    })
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
}
