//! The p-norm interpolator: the point stochastic mirror descent with the potential
//! `psi(a) = sum_i |a_i|^q / q` converges to from `a_0 = start 1`.
//!
//! The spec writes the potential as `sum_i phi(sqrt(p) a_i)`; for a power that is
//! `p^{q/2} psi(a)`, and scaling the potential by a constant scales the Bregman
//! divergence by the same constant (same argmin) and the mirror step
//! `grad psi(a) <- grad psi(a) - eta g` by its inverse (the same path with a rescaled
//! step `eta / p^{q/2}`). So `psi` without the `sqrt(p)` is used throughout.

use super::{min_distance, TrainError};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::prelude::*;
use faer::{Accum, Mat, Side};

/// Relative training residual `||Phi a - y|| / ||y||` at which [`pnorm`] stops.
pub const PNORM_TOLERANCE: f64 = 1e-10;

/// Dual Newton iterations before [`pnorm`] gives up.
pub const PNORM_MAX_ITERATIONS: usize = 200;

/// The mirror map's coordinate `phi'(x) = sgn(x) |x|^{q-1}`.
pub fn mirror(x: f64, q: f64) -> f64 {
    x.signum() * x.abs().powf(q - 1.0)
}

/// Its inverse `(phi')^{-1}(z) = sgn(z) |z|^{1/(q-1)}`.
pub fn inverse_mirror(z: f64, q: f64) -> f64 {
    z.signum() * z.abs().powf(1.0 / (q - 1.0))
}

/// `d (phi')^{-1}(z) / dz = |z|^{(2-q)/(q-1)} / (q-1)`: the inverse Hessian of `psi`,
/// infinite at `z = 0` for `q > 2` and zero there for `q < 2`.
fn curvature(z: f64, q: f64) -> f64 {
    z.abs().powf((2.0 - q) / (q - 1.0)) / (q - 1.0)
}

/// The convex conjugate `phi*(z) = |z|^{q'} / q'`, `q' = q / (q-1)`.
fn conjugate(z: f64, q: f64) -> f64 {
    let dual = q / (q - 1.0);
    z.abs().powf(dual) / dual
}

/// The Bregman divergence `D_psi(a, a_0) = sum phi(a_i) - phi(a0_i) - phi'(a0_i)(a_i - a0_i)`.
pub fn bregman(a: &[f64], start: f64, q: f64) -> f64 {
    let potential = |x: f64| x.abs().powf(q) / q;
    let slope = mirror(start, q);
    a.iter().map(|&x| potential(x) - potential(start) - slope * (x - start)).sum()
}

/// Relative stationarity `||N^T (phi'(a) - phi'(a_0))|| / ||phi'(a) - phi'(a_0)||` (N an
/// orthonormal basis of the null space of Phi) at which the primal route of [`pnorm`] stops.
pub const PNORM_STATIONARITY: f64 = 1e-10;

/// The p-norm interpolator `argmin D_psi(a, a_0) s.t. Phi a = y`, `a_0 = start 1`,
/// `psi(a) = sum |a_i|^q / q`, `q > 1` finite (`q = 2` is [`min_distance`]). Returns it with
/// its relative training residual `||Phi a - y|| / ||y||`, at most [`PNORM_TOLERANCE`].
///
/// The optimum has `phi'(a) = phi'(a_0) + Phi^T lambda`. Two Newton methods, each on the
/// side whose curvature stays finite:
///
/// * `q <= 2`: Newton on the concave dual in lambda ([`dual_newton`]), whose Hessian
///   `Phi diag(da/dz) Phi^T` has `da/dz = |z|^{(2-q)/(q-1)}/(q-1)`, finite (zero at `z = 0`).
///   The primal Hessian `(q-1)|a|^{q-2}` is infinite at `a = 0` there.
/// * `q > 2`: Newton on the primal restricted to the interpolators, `a = a_md + N w`
///   ([`primal_newton`]), whose Hessian `N^T diag((q-1)|a|^{q-2}) N` is finite (zero at
///   `a = 0`). The dual curvature `da/dz` is infinite at `z = 0` there.
///
/// Measured (`pnorm_routes` below: n = 100 and 300 with p = 2n and 4n; starts 0, 0.01,
/// -0.3; dense and 5%-sparse teachers; 24 problems per q; iteration limit 200), Newton
/// iterations min-max over the problems that converged, and failures out of 24:
///
/// | q    | dual Newton      | primal Newton on the null space |
/// |------|------------------|---------------------------------|
/// | 1.1  | 10-16, 0 fail    | 42-96, 17 fail                  |
/// | 1.25 | 5-8, 0 fail      | 45-180, 20 fail                 |
/// | 1.5  | 4-5, 0 fail      | 23-181, 7 fail                  |
/// | 2    | 0 (the warm start is the answer) | 0               |
/// | 3    | 25-190, 0 fail   | 5-7, 0 fail                     |
/// | 4    | 16-42, 0 fail    | 7-9, 0 fail                     |
///
/// The dual at q = 3 came within 10 of its limit (190 at n = 300, p = 600): for `q > 2` it
/// crawls while coordinates cross `z = 0`, where the curvature it follows is infinite.
/// A damped dual (the curvature taken at `max(|z|, 1e-3 rms(z))`) was worse: 2 of 24
/// failures at q = 3 and 10 of 24 at q = 4 on the same problems (measured, then removed).
/// The primal iteration costs more (a full QR of `Phi^T` and a `(p-n)^2 p` Hessian): at
/// n = 500, p = 2000 (`pnorm_timing`, release, three runs on a shared 2-core machine) q = 3
/// took 1.0-2.2 s, q = 1.25 and 1.5 (dual) 0.08-0.3 s, and `min_distance` 0.02-0.04 s;
/// but it takes 5-9 steps for every problem. At n = 600, p = 1200 and 2400 (`PNORM_SIZES=large`, the
/// chosen route only, 12 problems per q) every problem converged: dual 11-18 iterations
/// (q = 1.1), 6-8 (1.25), 4-5 (1.5); primal 5-7 (q = 3), 7-9 (q = 4).
///
/// Both are safeguarded by an Armijo line search on their objective; once the rise the
/// test asks for is below the rounding of the objective, the residual (dual) or the
/// stationarity (primal) must fall instead. Failing either is
/// [`TrainError::NoConvergence`] with what remains, never an unconverged point.
pub fn pnorm(phi: &Mat<f64>, y: &[f64], start: f64, q: f64) -> Result<(Vec<f64>, f64), TrainError> {
    assert!(q > 1.0 && q.is_finite(), "the p-norm map needs a finite q > 1, got {q}");
    assert_eq!(y.len(), phi.nrows(), "one label per training row");
    if q <= 2.0 { dual_newton(phi, y, start, q).0 } else { primal_newton(phi, y, start, q).0 }
}

/// Dual Newton for [`pnorm`], also returning the iterations taken. lambda maximises
/// `g(lambda) = lambda^T y - sum phi*(phi'(c) + (Phi^T lambda)_i)`; steps solve
/// `(Phi diag(da/dz) Phi^T) delta = y - Phi a`. lambda starts where `phi'(a)` is closest to
/// `phi'` of the minimum-distance interpolator: never at `lambda = 0` with `c = 0`, where
/// every `z` is 0 and the curvature is 0 (or infinite).
pub(crate) fn dual_newton(phi: &Mat<f64>, y: &[f64], start: f64, q: f64) -> (Result<(Vec<f64>, f64), TrainError>, usize) {
    let (n, p) = (phi.nrows(), phi.ncols());
    let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
    let y_norm = labels.norm_l2().max(f64::MIN_POSITIVE);
    let theta = mirror(start, q);
    let failed = |iterations, residual| Err(TrainError::NoConvergence { method: "p-norm dual Newton", iterations, residual });

    // The warm start: the least-squares fit of phi'(a_md) - phi'(c) by Phi^T lambda.
    let Ok((closest, _)) = min_distance(phi, y, start) else {
        return (Err(TrainError::SingularGram), 0);
    };
    let Ok(llt) = (phi * phi.transpose()).llt(Side::Lower) else {
        return (Err(TrainError::SingularGram), 0);
    };
    let target = Mat::<f64>::from_fn(p, 1, |j, _| mirror(closest[j], q) - theta);
    let mut lambda = llt.solve(phi * &target);

    // z = phi'(c) + Phi^T lambda and a = (phi')^{-1}(z), if finite.
    let primal = |lambda: &Mat<f64>| -> Option<(Mat<f64>, Mat<f64>)> {
        let mut z = phi.transpose() * lambda;
        (0..p).for_each(|j| z[(j, 0)] += theta);
        let a = Mat::<f64>::from_fn(p, 1, |j, _| inverse_mirror(z[(j, 0)], q));
        (0..p).all(|j| a[(j, 0)].is_finite()).then_some((z, a))
    };
    // The dual and the size of its terms (for its rounding).
    let dual = |lambda: &Mat<f64>, z: &Mat<f64>| {
        let linear = (lambda.transpose() * &labels)[(0, 0)];
        let conj: f64 = (0..p).map(|j| conjugate(z[(j, 0)], q)).sum();
        (linear - conj, linear.abs() + conj)
    };
    let Some((mut z, mut a)) = primal(&lambda) else {
        return (failed(0, f64::INFINITY), 0);
    };
    let mut gradient = &labels - phi * &a;
    let mut residual = gradient.norm_l2() / y_norm;
    for iteration in 0..PNORM_MAX_ITERATIONS {
        if residual <= PNORM_TOLERANCE {
            return (Ok(((0..p).map(|j| a[(j, 0)]).collect(), residual)), iteration);
        }
        let w: Vec<f64> = (0..p).map(|j| curvature(z[(j, 0)], q)).collect();
        let weighted = Mat::<f64>::from_fn(n, p, |i, j| phi[(i, j)] * w[j]);
        let Some(llt) = factor(lower_product(&weighted, phi.transpose())) else {
            return (failed(iteration, residual), iteration);
        };
        let step = llt.solve(&gradient);
        let slope = (gradient.transpose() * &step)[(0, 0)];
        let (current, size) = dual(&lambda, &z);
        let mut t = 1.0;
        loop {
            let candidate = &lambda + &step * faer::Scale(t);
            if let Some((next_z, next_a)) = primal(&candidate) {
                let next_gradient = &labels - phi * &next_a;
                let next_residual = next_gradient.norm_l2() / y_norm;
                let (value, _) = dual(&candidate, &next_z);
                // Armijo while g resolves the rise it asks for; below that, the residual decides.
                let accept = if 1e-4 * t * slope > 1e-13 * size { value >= current + 1e-4 * t * slope } else { next_residual < residual };
                if accept && next_residual.is_finite() {
                    (lambda, z, a, gradient, residual) = (candidate, next_z, next_a, next_gradient, next_residual);
                    break;
                }
            }
            t *= 0.5;
            if t < 1e-12 {
                return (failed(iteration, residual), iteration);
            }
        }
    }
    if residual <= PNORM_TOLERANCE {
        return (Ok(((0..p).map(|j| a[(j, 0)]).collect(), residual)), PNORM_MAX_ITERATIONS);
    }
    (failed(PNORM_MAX_ITERATIONS, residual), PNORM_MAX_ITERATIONS)
}

/// Primal Newton for [`pnorm`], also returning the iterations taken: `D_psi(a, a_0)` over
/// the interpolators `a = a_md + N w`, N an orthonormal basis of the null space of Phi (the
/// last `p - n` columns of the Q of `Phi^T`), from `w = 0` (the minimum-distance
/// interpolator). Every iterate interpolates; the iteration stops at relative stationarity
/// [`PNORM_STATIONARITY`] (the component of `phi'(a) - phi'(a_0)` outside the row space).
pub(crate) fn primal_newton(phi: &Mat<f64>, y: &[f64], start: f64, q: f64) -> (Result<(Vec<f64>, f64), TrainError>, usize) {
    let (n, p) = (phi.nrows(), phi.ncols());
    let theta = mirror(start, q);
    let failed = |iterations, stationarity| Err(TrainError::NoConvergence { method: "p-norm primal Newton (the residual is the stationarity)", iterations, residual: stationarity });
    let (closest, _) = match min_distance(phi, y, start) {
        Ok(found) => found,
        Err(e) => return (Err(e), 0),
    };
    let null = phi.transpose().qr().compute_Q().subcols(n, p - n).to_owned();
    let mut a = Mat::<f64>::from_fn(p, 1, |j, _| closest[j]);
    // D_psi(a, a_0) up to a constant, and the size of its terms (for its rounding).
    let objective = |a: &Mat<f64>| {
        let terms = (0..p).map(|j| (a[(j, 0)].abs().powf(q) / q, theta * a[(j, 0)]));
        terms.fold((0.0, 0.0), |(v, s), (f, l)| (v + f - l, s + f + l.abs()))
    };
    let stationarity = |a: &Mat<f64>| {
        let deviation = Mat::<f64>::from_fn(p, 1, |j, _| mirror(a[(j, 0)], q) - theta);
        let gradient = null.transpose() * &deviation;
        let relative = gradient.norm_l2() / deviation.norm_l2().max(f64::MIN_POSITIVE);
        (gradient, relative)
    };
    let (mut gradient, mut relative) = stationarity(&a);
    for iteration in 0..PNORM_MAX_ITERATIONS {
        if relative <= PNORM_STATIONARITY {
            let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
            let residual = (phi * &a - &labels).norm_l2() / labels.norm_l2().max(f64::MIN_POSITIVE);
            if !(residual <= PNORM_TOLERANCE) {
                return (Err(TrainError::NoConvergence { method: "p-norm primal Newton (lost interpolation)", iterations: iteration, residual }), iteration);
            }
            return (Ok(((0..p).map(|j| a[(j, 0)]).collect(), residual)), iteration);
        }
        let h: Vec<f64> = (0..p).map(|j| (q - 1.0) * a[(j, 0)].abs().powf(q - 2.0)).collect();
        let weighted = Mat::<f64>::from_fn(p, p - n, |j, k| null[(j, k)] * h[j]);
        let Some(llt) = factor(lower_product(&null.transpose().to_owned(), weighted.as_ref())) else {
            return (failed(iteration, relative), iteration);
        };
        let step = llt.solve(&gradient);
        let direction = &null * &step;
        let slope = (gradient.transpose() * &step)[(0, 0)];
        let (current, size) = objective(&a);
        let mut t = 1.0;
        loop {
            let candidate = &a - &direction * faer::Scale(t);
            let (value, _) = objective(&candidate);
            let (next_gradient, next_relative) = stationarity(&candidate);
            // Armijo while D resolves the fall it asks for; below that, the stationarity decides.
            let accept = if 1e-4 * t * slope > 1e-13 * size { value <= current - 1e-4 * t * slope } else { next_relative < relative };
            if accept && next_relative.is_finite() {
                (a, gradient, relative) = (candidate, next_gradient, next_relative);
                break;
            }
            t *= 0.5;
            if t < 1e-12 {
                return (failed(iteration, relative), iteration);
            }
        }
    }
    (failed(PNORM_MAX_ITERATIONS, relative), PNORM_MAX_ITERATIONS)
}

/// The lower triangle of `left * right`, a symmetric product (half the flops).
fn lower_product(left: &Mat<f64>, right: faer::MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(left.nrows(), right.ncols());
    faer::linalg::matmul::triangular::matmul(
        out.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        left,
        BlockStructure::Rectangular,
        right,
        BlockStructure::Rectangular,
        1.0,
        faer::get_global_parallelism(),
    );
    out
}

/// Cholesky of a symmetric positive semi-definite Newton matrix (lower triangle). Where
/// most weights vanish it can lose rank: a growing ridge keeps the step defined (as in
/// the entropic solver); `None` if even that fails or the matrix is not finite.
fn factor(mut hessian: Mat<f64>) -> Option<faer::linalg::solvers::Llt<f64>> {
    let size = hessian.nrows();
    if !(0..size).all(|j| (j..size).all(|i| hessian[(i, j)].is_finite())) {
        return None;
    }
    let ridge = 1e-14 * (0..size).map(|i| hessian[(i, i)]).sum::<f64>() / size.max(1) as f64;
    for attempt in 0..=20 {
        if let Ok(llt) = hessian.llt(Side::Lower) {
            return Some(llt);
        }
        (0..size).for_each(|i| hessian[(i, i)] += ridge.max(f64::MIN_POSITIVE) * 10f64.powi(attempt + 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    /// Gaussian `Phi / sqrt(p)`, `y = Phi a* + 0.5 noise`, `a*` dense Gaussian or 5% sparse.
    fn problem(n: usize, p: usize, sparse: bool, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal) / (p as f64).sqrt());
        let teacher: Vec<f64> = (0..p)
            .map(|j| {
                let g: f64 = rng.sample(StandardNormal);
                if !sparse {
                    g
                } else if j % 20 == 0 {
                    g * 20f64.sqrt()
                } else {
                    0.0
                }
            })
            .collect();
        let y = (0..n).map(|i| (0..p).map(|j| phi[(i, j)] * teacher[j]).sum::<f64>() + 0.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        (phi, y)
    }

    fn norm(v: &[f64]) -> f64 {
        v.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// KKT at q = 1.1 .. 4 from starts 0, 0.01, -0.3: it interpolates (residual < 1e-10);
    /// `phi'(a) - phi'(a_0)` lies in the row space of Phi (its component outside < 1e-8
    /// relative); and moving along the null space, which keeps interpolating, increases
    /// `D_psi(a, a_0)` (steps of 1e-3 and 1e-1 of `||a||`, both signs, 4 directions).
    #[test]
    fn pnorm_solution_satisfies_its_kkt_conditions() {
        let (n, p) = (60, 180);
        let mut worst = (0.0f64, 0.0f64);
        for (k, q) in [1.1, 1.25, 1.5, 3.0, 4.0].into_iter().enumerate() {
            for (c, sparse) in [(0.0, false), (0.01, true), (-0.3, false)] {
                let (phi, y) = problem(n, p, sparse, 40 + k as u64);
                let (a, residual) = pnorm(&phi, &y, c, q).unwrap_or_else(|e| panic!("q = {q}, c = {c}: {e}"));
                let labels = Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
                let a_col = Mat::<f64>::from_fn(p, 1, |j, _| a[j]);
                let actual = (&phi * &a_col - &labels).norm_l2() / labels.norm_l2();
                assert!(residual < 1e-10 && (actual - residual).abs() <= 1e-3 * residual.max(1e-16), "q = {q}, c = {c}: residual {residual:e}, actual {actual:e}");
                let gram = (&phi * phi.transpose()).llt(Side::Lower).unwrap();
                let deviation = Mat::<f64>::from_fn(p, 1, |j, _| mirror(a[j], q) - mirror(c, q));
                let inside = phi.transpose() * gram.solve(&phi * &deviation);
                let outside = (&deviation - &inside).norm_l2() / deviation.norm_l2();
                assert!(outside < 1e-8, "q = {q}, c = {c}: phi'(a) - phi'(a0) leaves the row space by {outside:e}");
                worst = (worst.0.max(residual), worst.1.max(outside));
                let optimum = bregman(&a, c, q);
                for seed in 0..4 {
                    let v = problem(p, 1, false, 100 + seed).0;
                    let null = &v - phi.transpose() * gram.solve(&phi * &v);
                    for scale in [1e-3, -1e-3, 1e-1, -1e-1] {
                        let t = scale * norm(&a) / null.norm_l2();
                        let moved: Vec<f64> = (0..p).map(|j| a[j] + t * null[(j, 0)]).collect();
                        let rise = bregman(&moved, c, q) - optimum;
                        assert!(rise > 0.0, "q = {q}, c = {c}: D falls by {:e} along the null space (step {scale})", -rise);
                    }
                }
            }
        }
        // The checks can fail: the minimum-distance interpolator is not the q = 3 optimum,
        // and its phi'(m) - phi'(0) leaves the row space by far more than 1e-8.
        let (phi, y) = problem(n, p, false, 40);
        let (m, _) = min_distance(&phi, &y, 0.0).unwrap();
        let gram = (&phi * phi.transpose()).llt(Side::Lower).unwrap();
        let deviation = Mat::<f64>::from_fn(p, 1, |j, _| mirror(m[j], 3.0));
        let outside = (&deviation - phi.transpose() * gram.solve(&phi * &deviation)).norm_l2() / deviation.norm_l2();
        assert!(outside > 0.1, "the control leaves the row space by only {outside:e}");
        eprintln!("p-norm KKT: worst residual {:.1e}, worst stationarity {:.1e}", worst.0, worst.1);
    }

    /// q = 2 is the squared map: the minimum-distance interpolator, to 1e-10 relative.
    #[test]
    fn q_two_is_the_minimum_distance_interpolator() {
        let (phi, y) = problem(50, 150, false, 7);
        for c in [0.0, 0.01, -0.3] {
            let (a, residual) = pnorm(&phi, &y, c, 2.0).unwrap();
            let (b, _) = min_distance(&phi, &y, c).unwrap();
            let gap = norm(&a.iter().zip(&b).map(|(x, z)| x - z).collect::<Vec<_>>()) / norm(&b);
            assert!(gap < 1e-10 && residual < 1e-10, "c = {c}: {gap:e} from min_distance, residual {residual:e}");
            eprintln!("p-norm q = 2, c = {c}: {gap:.1e} from min_distance");
        }
    }

    /// Both routes reach the same point where both converge (q = 1.5 and 3, where each
    /// side's curvature is finite away from 0): the dispatch does not pick a different
    /// answer, only a better-behaved method.
    #[test]
    fn the_dual_and_primal_routes_agree() {
        let (phi, y) = problem(40, 120, false, 11);
        for q in [1.5, 3.0] {
            let (dual, _) = dual_newton(&phi, &y, 0.01, q).0.unwrap();
            let (primal, _) = primal_newton(&phi, &y, 0.01, q).0.unwrap();
            let gap = norm(&dual.iter().zip(&primal).map(|(x, z)| x - z).collect::<Vec<_>>()) / norm(&dual);
            assert!(gap < 1e-8, "q = {q}: the routes differ by {gap:e}");
            eprintln!("p-norm routes at q = {q}: {gap:.1e} apart");
        }
    }

    #[test]
    fn a_singular_gram_is_an_error_not_a_number() {
        let (mut phi, y) = problem(10, 30, false, 3);
        for j in 0..30 {
            phi[(9, j)] = phi[(8, j)];
        }
        for q in [1.5, 3.0] {
            assert!(matches!(pnorm(&phi, &y, 0.0, q), Err(TrainError::SingularGram | TrainError::NotInterpolating(_))), "q = {q}");
        }
    }

    /// Exponents far outside the measured grid (q = 1.02 .. 10, starts 0, -0.3, 2, labels of
    /// size 3) still reach residual 1e-10 (measured 1e-15 .. 2e-11); zero labels from a zero
    /// start give a = 0.
    #[test]
    fn extreme_exponents_still_interpolate() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (n, p) = (100, 300);
        let phi = Mat::from_fn(n, p, |_, _| rng.sample::<f64, _>(StandardNormal) / (p as f64).sqrt());
        let y: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal) * 3.0).collect();
        for q in [1.02, 1.05, 2.05, 6.0, 10.0] {
            for c in [0.0, -0.3, 2.0] {
                let (_, residual) = pnorm(&phi, &y, c, q).unwrap_or_else(|e| panic!("q = {q}, c = {c}: {e}"));
                assert!(residual <= PNORM_TOLERANCE, "q = {q}, c = {c}: {residual:e}");
            }
        }
        for q in [1.5, 3.0] {
            let (a, residual) = pnorm(&phi, &vec![0.0; n], 0.0, q).unwrap();
            assert!(residual == 0.0 && a.iter().all(|&v| v == 0.0), "q = {q}");
        }
    }

    /// A route of [`pnorm`]: its answer and the Newton iterations it took.
    type Route = fn(&Mat<f64>, &[f64], f64, f64) -> (Result<(Vec<f64>, f64), TrainError>, usize);

    /// The measurement behind the choice of route in [`pnorm`]:
    /// `cargo test --release -p rfrisk-validation --lib pnorm_routes -- --ignored --nocapture`
    /// (`PNORM_SIZES=large` for n = 600 and the chosen route only). Per problem: D (dual)
    /// and P (primal) iterations (seconds, residual) or FAIL[why].
    #[test]
    #[ignore]
    fn pnorm_routes() {
        let large = std::env::var("PNORM_SIZES").as_deref() == Ok("large");
        let sizes: Vec<(usize, usize)> = if large { vec![(600, 1200), (600, 2400)] } else { vec![(100, 200), (100, 400), (300, 600), (300, 1200)] };
        for &(n, p) in &sizes {
            for q in [1.1, 1.25, 1.5, 2.0, 3.0, 4.0] {
                let mut line = format!("n={n} p={p} q={q}:");
                for sparse in [false, true] {
                    let (phi, y) = problem(n, p, sparse, (n * 7 + p) as u64 + sparse as u64);
                    for c in [0.0, 0.01, -0.3] {
                        let routes: &[(&str, Route)] = match (large, q <= 2.0) {
                            (false, _) => &[("D", dual_newton), ("P", primal_newton)],
                            (true, true) => &[("D", dual_newton)],
                            (true, false) => &[("P", primal_newton)],
                        };
                        for (tag, route) in routes {
                            let clock = std::time::Instant::now();
                            match route(&phi, &y, c, q) {
                                (Ok((_, r)), it) => line += &format!(" {tag}{it}({:.2}s,{r:.0e})", clock.elapsed().as_secs_f64()),
                                (Err(e), _) => line += &format!(" {tag}FAIL[{e}]"),
                            }
                        }
                        line += " |";
                    }
                }
                println!("{line}");
            }
        }
    }

    /// `pnorm` at n = 500, p = 2000 next to `min_distance` in the same run:
    /// `cargo test --release -p rfrisk-validation --lib pnorm_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn pnorm_timing() {
        let (phi, y) = problem(500, 2000, false, 500);
        let clock = std::time::Instant::now();
        min_distance(&phi, &y, 0.0).unwrap();
        println!("min_distance: {:.3}s", clock.elapsed().as_secs_f64());
        for q in [1.25, 1.5, 3.0] {
            for c in [0.0, -0.3] {
                let clock = std::time::Instant::now();
                let (_, residual) = pnorm(&phi, &y, c, q).unwrap();
                println!("pnorm q = {q}, c = {c}: {:.3}s (residual {residual:.1e})", clock.elapsed().as_secs_f64());
            }
        }
    }
}
