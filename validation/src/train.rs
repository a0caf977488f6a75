//! Training the last layer: the interpolator its mirror map selects.

use faer::prelude::*;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, Side};

/// Why a trial could not be trained.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("the n x n Gram matrix of the training features is numerically singular (Cholesky failed)")]
    SingularGram,
    #[error("the interpolator misses the labels: relative residual {0:.2e} > 1e-8 (Gram matrix numerically singular)")]
    NotInterpolating(f64),
    #[error("the {0} mirror map has no trainer in the simulator yet")]
    Unsupported(&'static str),
}

/// The minimum-distance interpolator `a = a_0 + Phi^T (Phi Phi^T)^{-1} (y - Phi a_0)`,
/// `a_0 = start 1`: the point SGD from `a_0` converges to. Accumulated and solved
/// in f64 by Cholesky. Returns it with its relative training residual
/// `||Phi a - y|| / ||y||`.
pub fn min_distance(phi: &Mat<f64>, y: &[f64], start: f64) -> Result<(Vec<f64>, f64), TrainError> {
    let (n, p) = (phi.nrows(), phi.ncols());
    assert_eq!(y.len(), n, "one label per training row");
    let a0 = Mat::<f64>::from_fn(p, 1, |_, _| start);
    let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
    // Only the lower triangle of the symmetric Gram matrix: half the flops.
    let mut gram = Mat::<f64>::zeros(n, n);
    faer::linalg::matmul::triangular::matmul(
        gram.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        phi,
        BlockStructure::Rectangular,
        phi.transpose(),
        BlockStructure::Rectangular,
        1.0,
        faer::get_global_parallelism(),
    );
    let llt = gram.llt(Side::Lower).map_err(|_| TrainError::SingularGram)?;
    let dual = llt.solve(&labels - phi * &a0);
    let a = &a0 + phi.transpose() * &dual;
    let residual = (phi * &a - &labels).norm_l2() / labels.norm_l2().max(f64::MIN_POSITIVE);
    if !(residual <= 1e-8) {
        return Err(TrainError::NotInterpolating(residual));
    }
    Ok(((0..p).map(|i| a[(i, 0)]).collect(), residual))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    fn random(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Mat::from_fn(rows, cols, |_, _| rng.sample(StandardNormal))
    }

    /// It interpolates, and `a - a_0` lies in the row space of Phi: orthogonal to
    /// the null space, which is what makes it the minimum-distance interpolator.
    #[test]
    fn interpolates_and_is_orthogonal_to_the_null_space() {
        let (n, p) = (60, 150);
        let phi = random(n, p, 1);
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let (a, residual) = min_distance(&phi, &y, 0.3).unwrap();
        assert!(residual < 1e-12, "{residual}");
        // Project a random vector onto the null space: v - Phi^T (Phi Phi^T)^{-1} Phi v.
        let v = random(p, 1, 2);
        let gram = &phi * phi.transpose();
        let null = &v - phi.transpose() * gram.llt(Side::Lower).unwrap().solve(&phi * &v);
        assert!((&phi * &null).norm_l2() < 1e-10 * v.norm_l2());
        let delta = Mat::<f64>::from_fn(p, 1, |i, _| a[i] - 0.3);
        let inner = (delta.transpose() * &null)[(0, 0)];
        assert!(inner.abs() < 1e-10 * delta.norm_l2() * null.norm_l2(), "{inner}");
        // And any other interpolator a + t null is farther from a_0.
        assert!((&delta + &null).norm_l2() > delta.norm_l2());
    }

    #[test]
    fn refuses_a_singular_gram() {
        let mut phi = random(10, 30, 3);
        for j in 0..30 {
            phi[(9, j)] = phi[(8, j)];
        }
        let y: Vec<f64> = (0..10).map(|i| i as f64).collect();
        assert!(min_distance(&phi, &y, 0.0).is_err());
    }
}
