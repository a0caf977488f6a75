//! Independent closed forms for linear random features with a linear teacher
//! (derivation: `equations/reference/identity_teacher.md`, Monte Carlo check:
//! `equations/reference/identity_teacher.py`).
//!
//! Model: `x ~ N(0, I_d0)`, `phi = W x` with `W` (p x d0) iid `N(0, 1/d0)`,
//! `y = beta^T x + sigma eps`, `beta` iid `N(0, r2/d0)`, ridge
//! `a = argmin (1/n)|y - Phi a|^2 + lam |a|^2` (lam = 0: pseudo-inverse, i.e.
//! min-norm interpolator / least squares), excess risk `|W^T a - beta|^2`, in the
//! limit n, p, d0 -> inf with `alpha = n/d0`, `gamma = p/d0` fixed.
//!
//! lam > 0: `u` = unique root in `(0, u_max)`, `u_max = min(1, 1/gamma, alpha/gamma)`,
//! of `(1-u)(1-gamma u)(1-gamma u/alpha) = lam u`; with `a = 1-u`, `b = 1-gamma u`,
//! `c = 1-gamma u/alpha` (all positive),
//! `R = [alpha r2 b^2 + sigma2 gamma u^2 (b + gamma a)] / (alpha [a b + u c (b + gamma a)])`.
//! Every term is positive, and the root is found in whichever of `u` or
//! `t = u_max - u` is the smaller, so no step cancels.
//!
//! lam = 0, `m = min(gamma, 1)`:
//! `alpha > m`: `R = [r2 (1-m) alpha + sigma2 m] / (alpha - m)`;
//! `alpha < m`: `R = r2 (1-alpha) gamma/(gamma-alpha) + sigma2 [alpha/(1-alpha) + alpha/(gamma-alpha)]`;
//! `alpha = m`: infinite, unless the effective noise `sigma2 + r2 (1-m)` is zero
//! (or `gamma >= 1`, `alpha = 1`, `sigma2 = 0`: then `X` is square and the risk is 0).
#![allow(dead_code)]

/// Excess risk of the best linear predictor in `phi = W x`:
/// `min_a E (beta^T x - a^T W x)^2 = r2 * max(0, 1 - p/d0)`.
pub fn approximation_error(p_over_d0: f64, r2: f64) -> f64 {
    r2 * (1.0 - p_over_d0).max(0.0)
}

/// Limiting excess risk `E_x (a^T W x - beta^T x)^2` of ridge (lam > 0) or the
/// pseudo-inverse estimator (lam = 0). Returns NaN for invalid inputs,
/// `f64::INFINITY` at the lam = 0 interpolation threshold `n = min(p, d0)`.
pub fn excess_risk(n_over_d0: f64, p_over_d0: f64, lam: f64, r2: f64, sigma2: f64) -> f64 {
    let (al, ga) = (n_over_d0, p_over_d0);
    let finite = al.is_finite() && ga.is_finite() && lam.is_finite() && r2.is_finite() && sigma2.is_finite();
    if !finite || lam < 0.0 || r2 < 0.0 || sigma2 < 0.0 || al < 0.0 || ga < 0.0 {
        return f64::NAN;
    }
    if al == 0.0 || ga == 0.0 {
        // no data or no features: the estimator is 0
        return r2;
    }
    if lam > 0.0 {
        return ridge(al, ga, lam, r2, sigma2);
    }
    let m = ga.min(1.0);
    if al > m {
        // (effective) least squares: the misspecified part r2 (1-m) acts as noise
        (r2 * (1.0 - m) * al + sigma2 * m) / (al - m)
    } else if al < m {
        // minimum-norm interpolation
        r2 * (1.0 - al) * ga / (ga - al) + sigma2 * (al / (1.0 - al) + al / (ga - al))
    } else {
        let noise = sigma2 + r2 * (1.0 - m);
        if noise == 0.0 || (sigma2 == 0.0 && al == 1.0) {
            0.0
        } else {
            f64::INFINITY
        }
    }
}

/// lam > 0 branch.
fn ridge(al: f64, ga: f64, lam: f64, r2: f64, sigma2: f64) -> f64 {
    let g_a = ga / al;
    // u_max and the factor values at u_max, each computed from the inputs directly:
    // a(u) = ka + t, b(u) = kb + ga t, c(u) = kc + (ga/al) t with t = u_max - u.
    let (umax, ka, kb, kc) = if ga <= 1.0 && ga <= al {
        (1.0, 0.0, 1.0 - ga, (al - ga) / al)
    } else if ga >= 1.0 && al >= 1.0 {
        (1.0 / ga, (ga - 1.0) / ga, 0.0, (al - 1.0) / al)
    } else {
        // al < min(ga, 1)
        (al / ga, (ga - al) / ga, 1.0 - al, 0.0)
    };
    // f(u) = a b c - lam u is strictly decreasing on [0, u_max], f(0) = 1 > 0,
    // f(u_max) = -lam u_max < 0.
    let half = 0.5 * umax;
    let f_half = (1.0 - half) * (1.0 - ga * half) * (1.0 - g_a * half) - lam * half;
    let (u, a, b, c) = if f_half <= 0.0 {
        // root in (0, u_max/2]: iterate on u; the factors are >= 1/2, no cancellation
        let fac = |u: f64| (1.0 - u, 1.0 - ga * u, 1.0 - g_a * u);
        let u = newton_bisect(0.0, half, |u| {
            let (a, b, c) = fac(u);
            // sign flipped so that the function increases in the variable
            (lam * u - a * b * c, lam + b * c + ga * a * c + g_a * a * b)
        });
        let (a, b, c) = fac(u);
        (u, a, b, c)
    } else {
        // root in (u_max/2, u_max): iterate on t = u_max - u in (0, u_max/2)
        let fac = |t: f64| (ka + t, kb + ga * t, kc + g_a * t);
        let t = newton_bisect(0.0, umax - half, |t| {
            let (a, b, c) = fac(t);
            (a * b * c - lam * (umax - t), lam + b * c + ga * a * c + g_a * a * b)
        });
        let (a, b, c) = fac(t);
        (umax - t, a, b, c)
    };
    let bg = b + ga * a;
    let num = al * r2 * b * b + sigma2 * ga * u * u * bg;
    let den = al * (a * b + u * c * bg);
    num / den
}

/// Root of an increasing function on `[lo, hi]` with `f(lo) <= 0 <= f(hi)`;
/// `fd(x)` returns `(f(x), f'(x))`. Newton steps, bisection when a step leaves
/// the bracket.
fn newton_bisect(mut lo: f64, mut hi: f64, fd: impl Fn(f64) -> (f64, f64)) -> f64 {
    let mut x = 0.5 * (lo + hi);
    for _ in 0..300 {
        let (f, d) = fd(x);
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut xn = x - f / d;
        if !(xn > lo && xn < hi) {
            xn = 0.5 * (lo + hi);
        }
        let done = (xn - x).abs() <= 4.0 * f64::EPSILON * x.abs().max(xn.abs())
            || hi - lo <= 4.0 * f64::EPSILON * hi.abs();
        x = xn;
        if done {
            break;
        }
    }
    x
}
