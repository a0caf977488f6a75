//! Training the last layer: the interpolator its mirror map selects.

use faer::prelude::*;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, Side};

pub mod pnorm;
pub use pnorm::pnorm;

/// Why a trial could not be trained.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("the n x n Gram matrix of the training features is numerically singular (Cholesky failed)")]
    SingularGram,
    #[error("the interpolator misses the labels: relative residual {0:.2e} > 1e-8 (Gram matrix numerically singular)")]
    NotInterpolating(f64),
    #[error("no positive interpolator exists: the dual of the entropic problem diverges (certificate: lambda with Phi^T lambda <= 0 and lambda^T y = {certificate:.3e} > 0)")]
    NoPositiveInterpolator { certificate: f64 },
    #[error("--trainer smd runs stochastic mirror descent to an interpolator; with training.ridge > 0 or samples >= d_L there is none to run to: use --trainer direct")]
    SmdNeedsInterpolation,
    #[error("{method} did not converge in {iterations} iterations: relative residual {residual:.2e}")]
    NoConvergence { method: &'static str, iterations: usize, residual: f64 },
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

/// The ridge solution `argmin (1/n)|y - Phi a|^2 + ridge |a - a_0|^2`, `a_0 = start 1`, for
/// any n and p (`training.ridge`): through the n x n system
/// `a = a_0 + Phi^T (Phi Phi^T + n ridge I)^{-1} (y - Phi a_0)` when n <= p, through the
/// p x p system `a = a_0 + (Phi^T Phi + n ridge I)^{-1} Phi^T (y - Phi a_0)` otherwise, in
/// f64 by Cholesky. `ridge = 0` is [`min_distance`] for n < p and least squares for n > p.
/// Returns it with its relative training residual `||Phi a - y|| / ||y||`.
pub fn ridge(phi: &Mat<f64>, y: &[f64], start: f64, ridge: f64) -> Result<(Vec<f64>, f64), TrainError> {
    assert!(ridge >= 0.0 && ridge.is_finite(), "ridge must be finite and >= 0");
    let (n, p) = (phi.nrows(), phi.ncols());
    if ridge == 0.0 && n < p {
        return min_distance(phi, y, start);
    }
    let a0 = Mat::<f64>::from_fn(p, 1, |_, _| start);
    let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
    let offset = &labels - phi * &a0;
    let shifted = |mut m: Mat<f64>| {
        for i in 0..m.nrows() {
            m[(i, i)] += n as f64 * ridge;
        }
        m
    };
    let a = if n <= p {
        let gram = shifted(phi * phi.transpose());
        &a0 + phi.transpose() * gram.llt(Side::Lower).map_err(|_| TrainError::SingularGram)?.solve(&offset)
    } else {
        let gram = shifted(phi.transpose() * phi);
        &a0 + gram.llt(Side::Lower).map_err(|_| TrainError::SingularGram)?.solve(phi.transpose() * &offset)
    };
    let residual = (phi * &a - &labels).norm_l2() / labels.norm_l2().max(f64::MIN_POSITIVE);
    Ok(((0..p).map(|i| a[(i, 0)]).collect(), residual))
}

/// How the last layer is trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trainer {
    /// Straight to the interpolator the mirror map selects (Cholesky or dual Newton).
    Direct,
    /// Real stochastic mirror descent, one sample per step, to relative residual 1e-8.
    Smd,
}

/// Relative constraint residual at which the entropic solver stops.
pub const ENTROPIC_TOLERANCE: f64 = 1e-9;

/// Dual Newton iterations before the entropic solver gives up.
pub const ENTROPIC_MAX_ITERATIONS: usize = 500;

/// The entropic interpolator `argmin sum a log(a/a_0) - a + a_0  s.t.  Phi a = y`,
/// `a_0 = start 1`, `start > 0`: the point exponentiated-gradient SMD converges to.
///
/// Dual Newton: the optimum has the form `a = a_0 exp(Phi^T lambda)`, where lambda maximises
/// the concave dual `g(lambda) = lambda^T y - sum a(lambda)`; Newton steps solve
/// `(Phi diag(a) Phi^T) delta = y - Phi a` and are backtracked until `g` rises enough
/// (Armijo). Stops at relative residual < [`ENTROPIC_TOLERANCE`]. When `y` lies
/// outside the cone `{Phi a : a > 0}` the dual is unbounded and lambda diverges along a
/// Farkas direction (`Phi^T lambda <= 0`, `lambda^T y > 0`). Every iterate gives a bound:
/// for any `a >= 0` with `Phi a = y`, `lambda^T y = (Phi^T lambda)^T a <= max(Phi^T lambda) ||a||_1`,
/// so every positive interpolator has `||a||_1 >= lambda^T y / max(Phi^T lambda)`. Once that
/// bound exceeds [`SIZE_FACTOR`] times the size of an ordinary interpolator
/// (`||a_0||_1 + sqrt(p) ||a_ls||_2`, `a_ls` the minimum-norm one), the labels are reported as
/// [`TrainError::NoPositiveInterpolator`]: a diverging lambda crosses it within tens of
/// iterations, while a convergent one (feasible labels) stays below `||a_hat||_1`.
pub fn entropic(phi: &Mat<f64>, y: &[f64], start: f64) -> Result<(Vec<f64>, f64), TrainError> {
    assert!(start > 0.0, "the entropic map needs a positive start");
    let (n, p) = (phi.nrows(), phi.ncols());
    let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
    let y_norm = labels.norm_l2().max(f64::MIN_POSITIVE);
    let primal = |lambda: &Mat<f64>| -> Option<Mat<f64>> {
        let exponent = phi.transpose() * lambda;
        let a = Mat::<f64>::from_fn(p, 1, |i, _| start * exponent[(i, 0)].exp());
        (0..p).all(|i| a[(i, 0)].is_finite()).then_some(a)
    };
    let dual = |lambda: &Mat<f64>, a: &Mat<f64>| (lambda.transpose() * &labels)[(0, 0)] - a.sum();
    let mut lambda = Mat::<f64>::zeros(n, 1);
    let mut a = primal(&lambda).expect("a_0 is finite");
    let least_norm = min_distance(phi, y, 0.0).map_or(0.0, |(ls, _)| ls.iter().map(|v| v * v).sum::<f64>().sqrt());
    let size = start * p as f64 + (p as f64).sqrt() * least_norm;
    for _ in 0..ENTROPIC_MAX_ITERATIONS {
        let gradient = &labels - phi * &a;
        let residual = gradient.norm_l2() / y_norm;
        if residual < ENTROPIC_TOLERANCE {
            return Ok(((0..p).map(|i| a[(i, 0)]).collect(), residual));
        }
        if let Some(certificate) = farkas(phi, &labels, &lambda, size) {
            return Err(TrainError::NoPositiveInterpolator { certificate });
        }
        let weighted = Mat::<f64>::from_fn(n, p, |i, j| phi[(i, j)] * a[(j, 0)]);
        let mut hessian = &weighted * phi.transpose();
        // When lambda diverges most of a underflows and the Hessian loses rank:
        // a tiny ridge keeps the Newton step defined.
        let ridge = 1e-14 * (0..n).map(|i| hessian[(i, i)]).sum::<f64>() / n as f64;
        let mut attempts = 0;
        let llt = loop {
            if let Ok(llt) = hessian.llt(Side::Lower) {
                break llt;
            }
            attempts += 1;
            if attempts > 20 {
                return Err(TrainError::NoConvergence { method: "entropic dual Newton", iterations: 0, residual });
            }
            for i in 0..n {
                hessian[(i, i)] += ridge.max(f64::MIN_POSITIVE) * 10f64.powi(attempts);
            }
        };
        let step = llt.solve(&gradient);
        let slope = (gradient.transpose() * &step)[(0, 0)];
        let current = dual(&lambda, &a);
        let mut t = 1.0;
        loop {
            let candidate = &lambda + &step * faer::Scale(t);
            if let Some(next) = primal(&candidate) {
                if dual(&candidate, &next) >= current + 1e-4 * t * slope {
                    lambda = candidate;
                    a = next;
                    break;
                }
            }
            t *= 0.5;
            if t < 1e-12 {
                return stalled(phi, &labels, &lambda, &a, y_norm, size);
            }
        }
    }
    stalled(phi, &labels, &lambda, &a, y_norm, size)
}

/// Dual Newton can go no further. Close to the feasibility boundary the Hessian
/// `Phi diag(a) Phi^T` is so ill-conditioned that the last digits of the residual
/// are out of reach: a residual below [`STALL_TOLERANCE`] is a solution, reported with
/// its residual. Just past the boundary lambda can diverge so slowly that the bound of
/// [`entropic`] stays below its factor when the iteration stalls (the exponents
/// overflow); a stalled iterate that is far from interpolating (residual >= 1) and
/// still bounds every positive interpolator above the ordinary size counts as infeasible.
fn stalled(phi: &Mat<f64>, labels: &Mat<f64>, lambda: &Mat<f64>, a: &Mat<f64>, y_norm: f64, size: f64) -> Result<(Vec<f64>, f64), TrainError> {
    let residual = (labels - phi * a).norm_l2() / y_norm;
    if residual < STALL_TOLERANCE {
        return Ok(((0..a.nrows()).map(|i| a[(i, 0)]).collect(), residual));
    }
    let factor = if residual >= 1.0 { 1.0 / SIZE_FACTOR } else { 1.0 };
    if let Some(certificate) = farkas(phi, labels, lambda, size * factor) {
        return Err(TrainError::NoPositiveInterpolator { certificate });
    }
    Err(TrainError::NoConvergence { method: "entropic dual Newton", iterations: ENTROPIC_MAX_ITERATIONS, residual })
}

/// `Some(lambda^T y)` when `lambda` shows that every positive interpolator has
/// `||a||_1 > SIZE_FACTOR * size` (see [`entropic`]); an exact Farkas certificate
/// (`Phi^T lambda <= 0 < lambda^T y`) shows there is none at all.
fn farkas(phi: &Mat<f64>, labels: &Mat<f64>, lambda: &Mat<f64>, size: f64) -> Option<f64> {
    let certificate = (lambda.transpose() * labels)[(0, 0)];
    let exponent = phi.transpose() * lambda;
    let most = (0..exponent.nrows()).fold(f64::NEG_INFINITY, |m, i| m.max(exponent[(i, 0)]));
    (certificate > 0.0 && (most <= 0.0 || certificate / most > SIZE_FACTOR * size)).then_some(certificate)
}

/// How many times larger than an ordinary interpolator every positive one must be
/// before the labels count as infeasible (see [`entropic`]).
pub const SIZE_FACTOR: f64 = 1e4;

/// Relative residual accepted when dual Newton stalls in floating point (see `stalled`).
pub const STALL_TOLERANCE: f64 = 1e-7;

/// The mirror map stochastic mirror descent runs ([`smd`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Potential {
    /// `psi(a) = |a|^2 / 2`: SGD, to [`min_distance`].
    Squared,
    /// `psi(a) = sum a log a - a`, `a > 0`: exponentiated gradient, to [`entropic`].
    Entropic,
    /// `psi(a) = sum |a_i|^q / q`, `q > 1` finite: to [`pnorm`].
    PNorm(f64),
}

/// Real stochastic mirror descent on the square loss, one training sample per step
/// (cyclic over a fixed random order each epoch), from `a_0 = start 1`:
/// `grad psi(a) <- grad psi(a) - eta (phi_i^T a - y_i) phi_i`, then `a = (grad psi)^{-1}`.
/// For the squared map that is SGD; for the entropic map the multiplicative update
/// `a <- a exp(-eta r phi_i)`; for the p-norm map the update acts on
/// `z = grad psi(a) = sgn(a)|a|^{q-1}` and `a = sgn(z)|z|^{1/(q-1)}`. The run stops at
/// relative residual < `tolerance`.
///
/// The step is constant, `eta = 1/(2 max_i sum_j h_j phi_ij^2)`, `h` the inverse Hessian
/// of psi: one sample's step then moves its own residual by at most half of it (to first
/// order). `h` is 1 (squared) and `start` (entropic). For the p-norm map the inverse
/// Hessian at the start, `|start|^{2-q}/(q-1)`, is 0 (`q < 2`, no step) or infinite
/// (`q > 2`) at `start = 0`, so `h_j = |m_j|^{2-q}/(q-1)` is taken at the minimum-distance
/// interpolator `m` (from the same start, one Cholesky solve): the scale of the coordinates
/// SMD travels to, coordinate by coordinate. Measured (`pnorm_smd_epochs`: n = 30, 50, 100
/// with p = 3n, 4n, 3n; starts 0, 0.01, -0.3), epochs to residual 1e-10:
/// q = 1.1: 230-2863; 1.25: 216-860; 1.5: 189-345; 2: 140-215; 3: 526-4983, all within
/// 5e-10 of [`pnorm`]. q = 4: 2 of 9 runs converge (28544 and 37505 epochs); the others
/// are at residual 3e-5 .. 0.2 after 50000 epochs. Near `a_j = 0` the inverse Hessian
/// `|a|^{2-q}/(q-1)` is unbounded and far from it small, so for `q > 2` one constant step
/// is both too long for the coordinates near 0 and too short for the large ones. Also
/// measured and not kept: one `h` for all coordinates at `s = max(|start|, s_ls)`, `s_ls`
/// the rms coordinate of the minimum-norm interpolator (as good for q < 2; at q = 3 it
/// failed all 3 starts at n = 100 and one at n = 50; q = 4 failed everywhere); `h_j` at
/// [`pnorm`]'s own solution (q = 3: 244-3563 epochs; q = 4: 7 of 9 converge, 2483-23896
/// epochs), not kept because it sets SMD's step from the answer it is meant to check; and
/// the larger of the two with the start's (slower: q = 3 up to 13999 epochs, q = 4 1 of 9).
pub fn smd(phi: &Mat<f64>, y: &[f64], start: f64, potential: Potential, tolerance: f64, max_epochs: usize) -> Result<(Vec<f64>, f64), TrainError> {
    smd_counted(phi, y, start, potential, tolerance, max_epochs).0
}

/// [`smd`], also returning the epochs it ran.
pub(crate) fn smd_counted(phi: &Mat<f64>, y: &[f64], start: f64, potential: Potential, tolerance: f64, max_epochs: usize) -> (Result<(Vec<f64>, f64), TrainError>, usize) {
    let (n, p) = (phi.nrows(), phi.ncols());
    let rows: Vec<Vec<f64>> = (0..n).map(|i| (0..p).map(|j| phi[(i, j)]).collect()).collect();
    let y_norm = y.iter().map(|v| v * v).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    // The inverse Hessian of psi per coordinate, where the step is measured (see above).
    let curvature: Vec<f64> = match potential {
        Potential::Squared => vec![1.0; p],
        Potential::Entropic => vec![start; p],
        Potential::PNorm(q) => {
            assert!(q > 1.0 && q.is_finite(), "the p-norm map needs a finite q > 1, got {q}");
            let closest = match min_distance(phi, y, start) {
                Ok((closest, _)) => closest,
                Err(e) => return (Err(e), 0),
            };
            closest.iter().map(|m| m.abs().powf(2.0 - q) / (q - 1.0)).collect()
        }
    };
    let eta = 0.5 / rows.iter().map(|r| r.iter().zip(&curvature).map(|(x, h)| h * x * x).sum::<f64>()).fold(0.0, f64::max);
    let mut a = vec![start; p];
    // The p-norm map's dual coordinates z = grad psi(a).
    let mut z = match potential {
        Potential::PNorm(q) => vec![pnorm::mirror(start, q); p],
        _ => Vec::new(),
    };
    let residual = |a: &[f64]| {
        rows.iter().zip(y).map(|(r, yi)| (r.iter().zip(a).map(|(x, w)| x * w).sum::<f64>() - yi).powi(2)).sum::<f64>().sqrt() / y_norm
    };
    for epoch in 1..=max_epochs {
        for (r, yi) in rows.iter().zip(y) {
            let err = r.iter().zip(&a).map(|(x, w)| x * w).sum::<f64>() - yi;
            match potential {
                Potential::Squared => a.iter_mut().zip(r).for_each(|(w, x)| *w -= eta * err * x),
                Potential::Entropic => a.iter_mut().zip(r).for_each(|(w, x)| *w *= (-eta * err * x).exp()),
                Potential::PNorm(q) => a.iter_mut().zip(&mut z).zip(r).for_each(|((w, d), x)| {
                    *d -= eta * err * x;
                    *w = pnorm::inverse_mirror(*d, q);
                }),
            }
        }
        let res = residual(&a);
        if res < tolerance {
            return (Ok((a, res)), epoch);
        }
        if !res.is_finite() {
            return (Err(TrainError::NoConvergence { method: "stochastic mirror descent (diverged)", iterations: epoch, residual: res }), epoch);
        }
    }
    (Err(TrainError::NoConvergence { method: "stochastic mirror descent", iterations: max_epochs, residual: residual(&a) }), max_epochs)
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

#[cfg(test)]
mod entropic_tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    fn problem(n: usize, p: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal) / (p as f64).sqrt());
        // A positive teacher: a positive interpolator exists.
        let teacher: Vec<f64> = (0..p).map(|_| rng.sample::<f64, _>(StandardNormal).abs()).collect();
        let y = (0..n).map(|i| (0..p).map(|j| phi[(i, j)] * teacher[j]).sum()).collect();
        (phi, y)
    }

    /// KKT: positive, interpolating, and log(a/a_0) in the row space of Phi.
    #[test]
    fn entropic_solution_satisfies_its_kkt_conditions() {
        let (phi, y) = problem(40, 120, 4);
        let (a, residual) = entropic(&phi, &y, 0.8).unwrap();
        assert!(residual < ENTROPIC_TOLERANCE);
        assert!(a.iter().all(|&v| v > 0.0));
        let log_ratio = Mat::<f64>::from_fn(120, 1, |j, _| (a[j] / 0.8).ln());
        let gram = &phi * phi.transpose();
        let projected = phi.transpose() * gram.llt(Side::Lower).unwrap().solve(&phi * &log_ratio);
        let outside = (&log_ratio - &projected).norm_l2() / log_ratio.norm_l2();
        assert!(outside < 1e-8, "log(a/a0) leaves the row space by {outside:e}");
    }

    #[test]
    fn infeasible_labels_get_a_certificate_not_a_number() {
        // Phi with a positive row forces y_0 > 0 for any positive a: ask for y_0 < 0.
        let (mut phi, mut y) = problem(10, 60, 5);
        for j in 0..60 {
            phi[(0, j)] = 1.0 / 60.0;
        }
        y[0] = -1.0;
        match entropic(&phi, &y, 1.0) {
            Err(TrainError::NoPositiveInterpolator { certificate }) => assert!(certificate > 0.0),
            other => panic!("expected no positive interpolator, got {other:?}"),
        }
    }

    /// Generic signed labels need d_L/n above about 2 (equations/model.md §2, equations/entropic.md §8): refused at 1.5,
    /// solved at 4.
    #[test]
    fn signed_labels_are_feasible_only_with_enough_width() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let n = 60;
        let y: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        for (p, feasible) in [(90, false), (240, true)] {
            let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal));
            match entropic(&phi, &y, 1.0) {
                Ok((a, residual)) => {
                    assert!(feasible, "p = {p}: found an interpolator at p/n = 1.5");
                    assert!(residual < ENTROPIC_TOLERANCE && a.iter().all(|&v| v > 0.0));
                }
                Err(TrainError::NoPositiveInterpolator { .. }) => assert!(!feasible, "p = {p}: refused at p/n = 4"),
                Err(e) => panic!("p = {p}: {e}"),
            }
        }
    }

    /// Real SMD, one sample per step, lands on the direct solution (to 1e-8 relative).
    #[test]
    fn stochastic_mirror_descent_lands_on_the_direct_solution() {
        let (phi, y) = problem(20, 80, 6);
        let mut worst = 0.0f64;
        for entropic_map in [false, true] {
            let (direct, _) = if entropic_map { entropic(&phi, &y, 0.5).unwrap() } else { min_distance(&phi, &y, 0.5).unwrap() };
            let potential = if entropic_map { Potential::Entropic } else { Potential::Squared };
            let (walked, residual) = smd(&phi, &y, 0.5, potential, 1e-10, 200_000).unwrap();
            assert!(residual < 1e-10);
            let diff = direct.iter().zip(&walked).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
            let norm = direct.iter().map(|a| a * a).sum::<f64>().sqrt();
            // Measured 1.1e-10 for both maps (the residual tolerance is 1e-10).
            assert!(diff / norm < 1e-8, "entropic={entropic_map}: SMD is {:.2e} away", diff / norm);
            worst = worst.max(diff / norm);
        }
        crate::record::record("smd", &format!("SMD {worst:.1e}"));
    }

    /// Real SMD with the p-norm map lands on [`pnorm`]'s interpolator (to 1e-6 relative) at
    /// q = 1.5 and 3, from starts 0 (where the step rule cannot use the start's curvature)
    /// and -0.3, on Gaussian features with a noisy dense teacher (n = 30, p = 90).
    #[test]
    fn pnorm_mirror_descent_lands_on_the_direct_solution() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let (n, p) = (30, 90);
        let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal) / (p as f64).sqrt());
        let teacher: Vec<f64> = (0..p).map(|_| rng.sample(StandardNormal)).collect();
        let y: Vec<f64> = (0..n).map(|i| (0..p).map(|j| phi[(i, j)] * teacher[j]).sum::<f64>() + 0.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        let mut worst = 0.0f64;
        for q in [1.5, 3.0] {
            for start in [0.0, -0.3] {
                let (direct, _) = pnorm(&phi, &y, start, q).unwrap();
                let (walked, epochs) = smd_counted(&phi, &y, start, Potential::PNorm(q), 1e-10, SMD_PNORM_EPOCHS);
                let (walked, residual) = walked.unwrap_or_else(|e| panic!("q = {q}, start = {start}: {e}"));
                eprintln!("p-norm SMD q = {q}, start = {start}: {epochs} epochs");
                assert!(residual < 1e-10);
                let diff = direct.iter().zip(&walked).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
                let norm = direct.iter().map(|a| a * a).sum::<f64>().sqrt();
                // Measured 2.2e-10 at most (the residual tolerance is 1e-10), in 276-1165 epochs.
                assert!(diff / norm < 1e-8, "q = {q}, start = {start}: SMD is {:.2e} away", diff / norm);
                worst = worst.max(diff / norm);
            }
        }
        eprintln!("p-norm SMD: worst {worst:.1e} from the direct solution");
    }

    /// The epoch budget of the p-norm SMD test (it measured 1165 at most).
    const SMD_PNORM_EPOCHS: usize = 20_000;

    /// The measurement behind the p-norm step rule of [`smd`]: epochs to residual 1e-10, or
    /// the failure, at q = 1.1 .. 4 from starts 0, 0.01, -0.3, and the distance to [`pnorm`].
    /// `cargo test --release -p rfrisk-validation --lib pnorm_smd_epochs -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn pnorm_smd_epochs() {
        for (n, p, seed) in [(30, 90, 21), (50, 200, 22), (100, 300, 23)] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal) / (p as f64).sqrt());
            let teacher: Vec<f64> = (0..p).map(|_| rng.sample(StandardNormal)).collect();
            let y: Vec<f64> = (0..n).map(|i| (0..p).map(|j| phi[(i, j)] * teacher[j]).sum::<f64>() + 0.5 * rng.sample::<f64, _>(StandardNormal)).collect();
            for q in [1.1, 1.25, 1.5, 2.0, 3.0, 4.0] {
                let mut line = format!("n={n} p={p} q={q}:");
                for start in [0.0, 0.01, -0.3] {
                    let (direct, _) = pnorm(&phi, &y, start, q).unwrap();
                    let norm = direct.iter().map(|a| a * a).sum::<f64>().sqrt();
                    match smd_counted(&phi, &y, start, Potential::PNorm(q), 1e-10, 50_000) {
                        (Ok((walked, _)), epochs) => {
                            let diff = direct.iter().zip(&walked).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
                            line += &format!(" c={start}: {epochs} epochs, {:.0e} away |", diff / norm);
                        }
                        (Err(e), _) => line += &format!(" c={start}: FAIL[{e}] |"),
                    }
                }
                println!("{line}");
            }
        }
    }

    /// The stall rule: where dual Newton can go no further, a residual below
    /// [`STALL_TOLERANCE`] (1e-7) is a solution, reported with its residual; above it the
    /// trial did not converge (and says so with the residual).
    #[test]
    fn a_stalled_iterate_is_accepted_only_below_the_stall_tolerance() {
        let (phi, y) = problem(20, 80, 9);
        let (exact, _) = min_distance(&phi, &y, 0.5).unwrap();
        let labels = Mat::<f64>::from_fn(20, 1, |i, _| y[i]);
        let y_norm = labels.norm_l2();
        // Move along a direction whose image is known, to land at a chosen residual.
        let direction = Mat::<f64>::from_fn(80, 1, |j, _| ((j * 7 % 11) as f64 - 5.0) / 5.0);
        let image = (&phi * &direction).norm_l2();
        let lambda = Mat::<f64>::zeros(20, 1);
        for (target, accepted) in [(5e-8, true), (2e-7, false)] {
            let t = target * y_norm / image;
            let a = Mat::<f64>::from_fn(80, 1, |j, _| exact[j] + t * direction[(j, 0)]);
            match stalled(&phi, &labels, &lambda, &a, y_norm, 1.0) {
                Ok((_, residual)) => {
                    assert!(accepted, "residual {residual:e} accepted");
                    assert!((residual / target - 1.0).abs() < 1e-6, "reported {residual:e}, actual {target:e}");
                }
                Err(TrainError::NoConvergence { residual, .. }) => {
                    assert!(!accepted, "residual {residual:e} refused");
                    assert!((residual / target - 1.0).abs() < 1e-6);
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// The infeasibility factor: labels count as infeasible once every positive
    /// interpolator must be more than [`SIZE_FACTOR`] = 1e4 times the ordinary size
    /// (`lambda^T y / max(Phi^T lambda)`), not before; a stalled iterate far from
    /// interpolating (residual >= 1) needs only the ordinary size.
    #[test]
    fn labels_count_as_infeasible_past_ten_thousand_times_the_ordinary_size() {
        assert_eq!(SIZE_FACTOR, 1e4);
        let (phi, y) = problem(10, 40, 3);
        let labels = Mat::<f64>::from_fn(10, 1, |i, _| y[i]);
        let lambda = Mat::<f64>::from_fn(10, 1, |i, _| labels[(i, 0)]);
        let certificate = (lambda.transpose() * &labels)[(0, 0)];
        let exponent = phi.transpose() * &lambda;
        let most = (0..40).fold(f64::NEG_INFINITY, |m, j| m.max(exponent[(j, 0)]));
        assert!(certificate > 0.0 && most > 0.0);
        let bound = certificate / most;
        assert_eq!(farkas(&phi, &labels, &lambda, bound / SIZE_FACTOR * (1.0 - 1e-9)), Some(certificate));
        assert_eq!(farkas(&phi, &labels, &lambda, bound / SIZE_FACTOR * (1.0 + 1e-9)), None);
        // A stalled iterate with residual >= 1 (a = 0 misses every label): the ordinary size.
        let nothing = Mat::<f64>::zeros(40, 1);
        let stalled_at = |size: f64| stalled(&phi, &labels, &lambda, &nothing, labels.norm_l2(), size);
        assert!(matches!(stalled_at(bound * (1.0 - 1e-9)), Err(TrainError::NoPositiveInterpolator { .. })));
        assert!(matches!(stalled_at(bound * (1.0 + 1e-9)), Err(TrainError::NoConvergence { .. })));
    }

    /// The ridge solution makes the objective's gradient vanish,
    /// `(1/n) Phi^T (Phi a - y) + ridge (a - a_0) = 0`, through either system (n < p and
    /// n > p); the two systems give the same point where both apply; ridge 0 is the
    /// minimum-distance interpolator (n < p) and least squares (n > p: the residual is
    /// orthogonal to the features).
    #[test]
    fn the_ridge_solution_zeroes_the_gradient_on_both_sides_of_the_threshold() {
        for (n, p, lambda) in [(40, 120, 0.3), (120, 40, 0.3), (120, 40, 0.0), (60, 60, 0.01)] {
            let (phi, mut y) = problem(n, p, 12);
            y.iter_mut().enumerate().for_each(|(i, v)| *v += 0.1 * ((i * 37 % 11) as f64 - 5.0));
            let (a, _) = ridge(&phi, &y, 0.2, lambda).unwrap();
            let a_col = Mat::<f64>::from_fn(p, 1, |j, _| a[j]);
            let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
            let gradient = phi.transpose() * (&phi * &a_col - &labels) * faer::Scale(1.0 / n as f64)
                + Mat::<f64>::from_fn(p, 1, |j, _| lambda * (a[j] - 0.2));
            let scale = (phi.transpose() * &labels).norm_l2() / n as f64;
            assert!(gradient.norm_l2() < 1e-10 * scale, "n = {n}, p = {p}, ridge = {lambda}: gradient {:e}", gradient.norm_l2());
        }
        // Where both systems apply they agree: transpose the problem's shape by hand.
        let (phi, y) = problem(50, 80, 13);
        let (dual, _) = ridge(&phi, &y, 0.1, 0.5).unwrap();
        let (n, p) = (50, 80);
        let mut gram = phi.transpose() * &phi;
        for i in 0..p {
            gram[(i, i)] += n as f64 * 0.5;
        }
        let offset = Mat::<f64>::from_fn(n, 1, |i, _| y[i]) - &phi * Mat::<f64>::from_fn(p, 1, |_, _| 0.1);
        let primal = gram.llt(Side::Lower).unwrap().solve(phi.transpose() * &offset);
        let gap = (0..p).map(|j| (dual[j] - 0.1 - primal[(j, 0)]).powi(2)).sum::<f64>().sqrt();
        assert!(gap < 1e-10, "dual vs primal: {gap:e}");
        let (phi, y) = problem(30, 90, 14);
        assert_eq!(ridge(&phi, &y, 0.0, 0.0).unwrap(), min_distance(&phi, &y, 0.0).unwrap());
    }
}

/// [`ridge`] for several label columns at once (`labels` is `n x K`, the start 0): the
/// minimum-norm interpolator of each column when `n < p` without a ridge, else the ridge or
/// least-squares fit, through one factorization. Returns the `p x K` weights and the relative
/// training residual `|Phi A - Y| / |Y|`.
pub fn ridge_columns(phi: &Mat<f64>, labels: &Mat<f64>, ridge: f64) -> Result<(Mat<f64>, f64), TrainError> {
    assert!(ridge >= 0.0 && ridge.is_finite(), "ridge must be finite and >= 0");
    let (n, p) = (phi.nrows(), phi.ncols());
    let shifted = |mut m: Mat<f64>| {
        for i in 0..m.nrows() {
            m[(i, i)] += n as f64 * ridge;
        }
        m
    };
    let a = if n <= p && !(ridge == 0.0 && n == p) {
        phi.transpose() * shifted(phi * phi.transpose()).llt(Side::Lower).map_err(|_| TrainError::SingularGram)?.solve(labels)
    } else {
        let gram = shifted(phi.transpose() * phi);
        match gram.llt(Side::Lower) {
            Ok(llt) => llt.solve(phi.transpose() * labels),
            // Rank-deficient features (dead ReLU units, say) without a ridge: the minimum-norm
            // least-squares fit, through the eigenvalues of Phi^T Phi above rounding.
            Err(_) => {
                let eigen = gram.self_adjoint_eigen(Side::Lower).map_err(|_| TrainError::SingularGram)?;
                let top = (0..p).map(|i| eigen.S()[i]).fold(0.0f64, f64::max);
                let floor = top * p as f64 * f64::EPSILON;
                let projected = eigen.U().transpose() * (phi.transpose() * labels);
                let scaled = Mat::<f64>::from_fn(p, labels.ncols(), |i, c| if eigen.S()[i] > floor { projected[(i, c)] / eigen.S()[i] } else { 0.0 });
                eigen.U() * scaled
            }
        }
    };
    let residual = (phi * &a - labels).norm_l2() / labels.norm_l2().max(f64::MIN_POSITIVE);
    if ridge == 0.0 && n < p && !(residual <= 1e-8) {
        return Err(TrainError::NotInterpolating(residual));
    }
    Ok((a, residual))
}
