//! A realized finite-size covariance of the GEP Gaussian model (equations/model.md §4.2):
//! `Sigma_l = rho1^2 W_l Sigma_{l-1} W_l^T + rho2^2 I` with drawn weights. It is the
//! input of the two independent checks of the asymptotic solver: the
//! deterministic equivalent ([`crate::finite_size::det_equiv`]) and direct Monte Carlo.

use crate::solver::activation::Gep;
use crate::spec::WeightLaw;
use faer::Mat;
use rand::Rng;
use rand_distr::StandardNormal;

/// A `rows x cols` weight matrix with i.i.d. entries of variance `1/cols` from `law`.
pub fn weight_matrix(rows: usize, cols: usize, law: WeightLaw, rng: &mut impl Rng) -> Mat<f64> {
    let scale = 1.0 / (cols as f64).sqrt();
    Mat::from_fn(rows, cols, |_, _| scale * law.value(rng.sample::<f64, _>(StandardNormal)))
}

/// `Sigma_L` for inputs `x ~ N(0, I_{dim})` through layers of the given widths.
pub fn realized_covariance(dim: usize, widths: &[usize], gep: &[Gep], law: WeightLaw, rng: &mut impl Rng) -> Mat<f64> {
    assert_eq!(widths.len(), gep.len(), "one GEP coefficient set per layer");
    let mut sigma: Option<Mat<f64>> = None; // None stands for I_{dim}
    let mut prev = dim;
    for (&width, g) in widths.iter().zip(gep) {
        let w = weight_matrix(width, prev, law, rng);
        let wsw = match &sigma {
            None => &w * w.transpose(),
            Some(s) => &(&w * s) * w.transpose(),
        };
        let (r1, r2) = (g.rho1 * g.rho1, g.rho2 * g.rho2);
        sigma = Some(Mat::from_fn(width, width, |i, j| {
            let sym = 0.5 * (wsw[(i, j)] + wsw[(j, i)]);
            r1 * sym + if i == j { r2 } else { 0.0 }
        }));
        prev = width;
    }
    sigma.expect("at least one layer")
}

/// The realized covariances a teacher at layer `k` needs (equations/teacher.md §5): the last
/// layer's `Sigma_L`, the teacher layer's `Sigma_k` and their cross-covariance
/// `C_{L,k} = rho_{L,1} W_L ... rho_{k+1,1} W_{k+1} Sigma_k` (`d_L x d_k`), for inputs
/// `x ~ N(0, diag(input_eigenvalues))`.
pub struct RealizedPair {
    pub top: Mat<f64>,
    pub teacher: Mat<f64>,
    pub cross: Mat<f64>,
}

pub fn realized_pair(input_eigenvalues: &[f64], widths: &[usize], gep: &[Gep], law: WeightLaw, k: usize, rng: &mut impl Rng) -> RealizedPair {
    assert_eq!(widths.len(), gep.len(), "one GEP coefficient set per layer");
    assert!(k <= widths.len(), "teacher depth above the top");
    let dim = input_eigenvalues.len();
    let mut sigma = Mat::from_fn(dim, dim, |i, j| if i == j { input_eigenvalues[i] } else { 0.0 });
    let (mut teacher, mut cross) = (None, None);
    if k == 0 {
        (teacher, cross) = (Some(sigma.clone()), Some(sigma.clone()));
    }
    let mut prev = dim;
    for (l, (&width, g)) in widths.iter().zip(gep).enumerate() {
        let w = weight_matrix(width, prev, law, rng);
        let ws = &w * &sigma;
        let wsw = &ws * w.transpose();
        let (r1, r2) = (g.rho1 * g.rho1, g.rho2 * g.rho2);
        sigma = Mat::from_fn(width, width, |i, j| r1 * 0.5 * (wsw[(i, j)] + wsw[(j, i)]) + if i == j { r2 } else { 0.0 });
        // C_{l,k} = rho_{l,1} W_l C_{l-1,k} above the teacher's layer; C_{k,k} = Sigma_k.
        cross = cross.map(|c: Mat<f64>| g.rho1 * (&w * &c));
        if l + 1 == k {
            (teacher, cross) = (Some(sigma.clone()), Some(sigma.clone()));
        }
        prev = width;
    }
    RealizedPair { top: sigma, teacher: teacher.expect("k <= L"), cross: cross.expect("k <= L") }
}

/// Eigenvalues of a symmetric matrix, ascending.
pub fn eigenvalues(sigma: &Mat<f64>) -> Vec<f64> {
    sigma.self_adjoint_eigenvalues(faer::Side::Lower).expect("symmetric eigenproblem converges")
}
