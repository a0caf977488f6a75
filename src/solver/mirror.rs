//! Separable mirror maps as the last layer's CGMT sees them: the proximal map
//! `P_eta(chi) = argmin_x { D_phi(x, c) + (x - chi)^2 / (2 eta) }` of the
//! per-coordinate Bregman divergence from the scaled start `c`, with the
//! derivatives the top equations need ([equations/entropic.md (1.1), (7.1), (7.2)](../../equations/entropic.md#entropic)).

/// `P_eta(chi)` and its derivatives at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prox {
    /// `P`.
    pub x: f64,
    /// `P - chi`, computed without the cancellation of that difference.
    pub shift: f64,
    /// `dP/dchi`, in (0, 1).
    pub slope: f64,
    /// `1 - dP/dchi`, computed directly: (T1) near `n/d_L = 1` is `E[1 - P'] = 1 - n/d_L`.
    pub slack: f64,
    /// `d^2P/dchi^2`.
    pub curvature: f64,
    /// `dP/deta`.
    pub d_eta: f64,
    /// `d(dP/dchi)/deta`.
    pub slope_d_eta: f64,
}

/// A separable mirror map `psi(a) = sum_i phi(sqrt(p) a_i)` (assumption M of entropic.md §1).
pub trait MirrorMap: Sync {
    /// The prox of `eta D_phi(., c)` at `chi`.
    fn prox(&self, chi: f64, eta: f64, c: f64) -> Prox;
    /// Whether the domain of `phi` is bounded below by 0 (interpolation can be infeasible).
    fn positive_domain(&self) -> bool;
    /// Where `P_eta` bends on a scale far below the teacher's: `(chi, scale)` pairs around
    /// which the expectations grade their panels (entropic.md §7, "Expectations").
    fn bends(&self, eta: f64, c: f64) -> Vec<(f64, f64)>;
    /// Whether `P_eta` is odd in `chi` from the start `c`: the expectations over a symmetric
    /// teacher then need only `chi >= 0` (every integrand of `entropic::moments` is even).
    fn is_odd(&self, _c: f64) -> bool {
        false
    }
    /// How the prox step scales with the problem's scale `r` (the teacher's, or the noise's):
    /// the squared map's start `eta = (1 - delta)/delta` times this.
    fn step_scale(&self, _r: f64) -> f64 {
        1.0
    }
    /// The start `c'` with `phi'(c') = phi'(c) - t`: `D_phi(x, c) + t x` is `D_phi(x, c')` up to a
    /// constant, so a linear tilt of the objective (the multiplier of the mean spike's
    /// constraint, equations/nonodd.md §5) moves the start.
    fn tilted_start(&self, c: f64, t: f64) -> f64;
    /// The tilt `t` that takes the start `c` to `c'`: the inverse of [`MirrorMap::tilted_start`],
    /// `phi'(c) - phi'(c')`.
    fn tilt(&self, c: f64, c_prime: f64) -> f64;
}

/// `phi(x) = x^2 / 2`: SGD. `P = (chi + eta c)/(1 + eta)` (entropic.md §9).
pub struct Squared;

impl MirrorMap for Squared {
    fn prox(&self, chi: f64, eta: f64, c: f64) -> Prox {
        let k = 1.0 / (1.0 + eta);
        Prox {
            x: (chi + eta * c) * k,
            shift: eta * (c - chi) * k,
            slope: k,
            slack: eta * k,
            curvature: 0.0,
            d_eta: (c - chi) * k * k,
            slope_d_eta: -k * k,
        }
    }
    fn positive_domain(&self) -> bool {
        false
    }
    fn bends(&self, _eta: f64, _c: f64) -> Vec<(f64, f64)> {
        Vec::new()
    }
    fn is_odd(&self, c: f64) -> bool {
        c == 0.0
    }
    fn tilted_start(&self, c: f64, t: f64) -> f64 {
        c - t
    }
    fn tilt(&self, c: f64, c_prime: f64) -> f64 {
        c - c_prime
    }
}

/// `phi(x) = x log x` on `x > 0`: exponentiated gradient.
/// `P = eta omega(chi/eta + log(c/eta))` with `omega` the Wright omega function (entropic.md (7.1)).
pub struct Entropic;

impl MirrorMap for Entropic {
    fn prox(&self, chi: f64, eta: f64, c: f64) -> Prox {
        let log_omega = log_wright_omega(chi / eta + (c / eta).ln());
        let omega = log_omega.exp();
        let x = eta * omega;
        let slope = omega / (1.0 + omega);
        // The optimality condition log(P/c) = (chi - P)/eta gives P - chi = -eta log(P/c)
        // and dP/deta = -P log(P/c)/(P + eta), without the cancellation in chi - P.
        let log_ratio = log_omega + (eta / c).ln(); // log(P/c)
        let d_eta = -slope * log_ratio;
        let curvature = slope / (eta * (1.0 + omega) * (1.0 + omega));
        let slope_d_eta = (eta * d_eta - x) / ((x + eta) * (x + eta));
        Prox { x, shift: -eta * log_ratio, slope, slack: 1.0 / (1.0 + omega), curvature, d_eta, slope_d_eta }
    }
    fn positive_domain(&self) -> bool {
        true
    }
    /// Near `chi = eta log(eta/c)`: above it the slack `1 - P'` decays like `eta/chi`.
    fn bends(&self, eta: f64, c: f64) -> Vec<(f64, f64)> {
        vec![(eta * (eta / c).ln(), eta)]
    }
    fn tilted_start(&self, c: f64, t: f64) -> f64 {
        c * (-t).exp()
    }
    fn tilt(&self, c: f64, c_prime: f64) -> f64 {
        (c / c_prime).ln()
    }
}

/// `phi(x) = |x|^q / q`, `1 < q < infinity` (equations/pnorm.md): `P` solves
/// `g(P) + P/eta = g(c) + chi/eta` with `g(x) = phi'(x) = sgn(x)|x|^(q-1)`.
pub struct PNorm {
    pub q: f64,
}

impl PNorm {
    /// `g(x) = sgn(x) |x|^(q-1)`.
    fn g(&self, x: f64) -> f64 {
        x.signum() * x.abs().powf(self.q - 1.0)
    }

    /// The root `P >= 0` of `g(P) + P/eta = z` for `z >= 0` (pnorm.md §2), with `|P|^(q-2)`.
    /// `G(P) = g(P) + P/eta` is bracketed within a factor 2: `P` lies between
    /// `min(eta z, z^(1/(q-1)))` and half of each term's own root. Halley's method runs on the
    /// convex form of the equation from the upper end: in `P` for `q >= 2` (`g` convex), in
    /// `u = g(P)` for `q < 2` (`u + u^(1/(q-1))/eta = z`, convex in `u`). Its cubic
    /// convergence takes the factor-2 start to full precision in about four steps, each one
    /// `powf`: the prox's cost is nearly all in these powers (`rfrisk bench sweep`).
    fn root(&self, z: f64, eta: f64) -> (f64, f64) {
        if z == 0.0 {
            return (0.0, if self.q > 2.0 { 0.0 } else { f64::INFINITY });
        }
        let (q, m) = (self.q, 1.0 / (self.q - 1.0));
        let hi = (eta * z).min(z.powf(m));
        // Half of each term's root: (eta z)/2 and (z/2)^m = z^m 2^-m.
        let lo = (0.5 * eta * z).min(z.powf(m) * (-m).exp2());
        // Halley on f with f' > 0, f'' >= 0, kept inside the bracket [lo, hi] (in P or u).
        let halley = |x: f64, f: f64, f1: f64, f2: f64, lo: f64, hi: f64| {
            let newton = f / f1;
            let next = x - newton / (1.0 - 0.5 * newton * f2 / f1).max(0.5);
            next.clamp(lo, hi)
        };
        if q >= 2.0 {
            let mut x = hi;
            for _ in 0..50 {
                let t = x.powf(q - 2.0);
                let f = x * t + x / eta - z;
                let next = halley(x, f, (q - 1.0) * t + 1.0 / eta, (q - 1.0) * (q - 2.0) * t / x, lo, hi);
                if (next - x).abs() <= 2.0 * f64::EPSILON * x {
                    return (next, next.powf(q - 2.0));
                }
                x = next;
            }
            (x, x.powf(q - 2.0))
        } else {
            // The same bracket in u = P^(q-1): (eta z)^(q-1) and z, each halved (in P) for the lower end.
            let a = (eta * z).powf(q - 1.0);
            let (u_lo, u_hi) = ((a * (1.0 - q).exp2()).min(0.5 * z), a.min(z));
            let mut u = u_hi;
            for _ in 0..50 {
                let w = u.powf(m - 1.0); // u^(m-1): P = u w, |P|^(q-2) = 1/w
                let f = u + u * w / eta - z;
                let next = halley(u, f, 1.0 + m * w / eta, m * (m - 1.0) * w / (u * eta), u_lo, u_hi);
                if (next - u).abs() <= 2.0 * f64::EPSILON * u {
                    let w = next.powf(m - 1.0);
                    return (next * w, 1.0 / w);
                }
                u = next;
            }
            let w = u.powf(m - 1.0);
            (u * w, 1.0 / w)
        }
    }
}

impl MirrorMap for PNorm {
    fn prox(&self, chi: f64, eta: f64, c: f64) -> Prox {
        let q = self.q;
        let b = self.g(c);
        let z = b + chi / eta;
        // t = |P|^(q-2) gives g, g' and g''.
        let (magnitude, t) = self.root(z.abs(), eta);
        let x = z.signum() * magnitude;
        let ax = x.abs();
        // P - chi = eta (g(c) - g(P)), without the cancellation of the difference.
        let shift = eta * (b - x * t);
        // h = eta g'(P) = eta (q-1) |P|^(q-2): infinite at P = 0 for q < 2, 0 for q > 2.
        let h = eta * (q - 1.0) * t;
        let (slope, slack) = if h.is_finite() { (1.0 / (1.0 + h), h / (1.0 + h)) } else { (0.0, 1.0) };
        // g''(P) P'^3 eta, written so that P = 0 gives its limit 0 where it has one.
        let g2 = if ax > 0.0 { (q - 1.0) * (q - 2.0) * t / x } else { 0.0 };
        let curvature = if slope > 0.0 && ax > 0.0 { -eta * g2 * slope * slope * slope } else { 0.0 };
        let d_eta = shift * slope / eta;
        let g1 = if h.is_finite() { h / eta } else { f64::INFINITY };
        let slope_d_eta = if slope > 0.0 && ax > 0.0 { -slope * slope * (g1 + eta * g2 * d_eta) } else { 0.0 };
        Prox { x, shift, slope, slack, curvature, d_eta, slope_d_eta }
    }
    fn positive_domain(&self) -> bool {
        false
    }
    /// Around `chi_0 = -eta g(c)`, where `P = 0` and `P'` jumps to 0 (q < 2) or 1 (q > 2): over
    /// the `chi`-width where `eta g'(P)` passes 1, `|P| = (eta (q-1))^(1/(2-q))`, that is
    /// `chi - chi_0 = P + eta g(P)` there.
    fn bends(&self, eta: f64, c: f64) -> Vec<(f64, f64)> {
        let p = (eta * (self.q - 1.0)).powf(1.0 / (2.0 - self.q));
        let scale = p + eta * p.powf(self.q - 1.0);
        let centre = -eta * self.g(c);
        if scale.is_finite() && scale > 0.0 { vec![(centre, scale)] } else { vec![(centre, eta)] }
    }
    fn is_odd(&self, c: f64) -> bool {
        c == 0.0
    }
    /// Scaling `(r, sigma, c)` by `l` scales `s` by `l` and `eta` by `l^(2-q)` (pnorm.md §2).
    fn step_scale(&self, r: f64) -> f64 {
        let scale = r.powf(2.0 - self.q);
        if scale.is_finite() && scale > 0.0 { scale } else { 1.0 }
    }
    fn tilted_start(&self, c: f64, t: f64) -> f64 {
        let z = self.g(c) - t;
        z.signum() * z.abs().powf(1.0 / (self.q - 1.0))
    }
    fn tilt(&self, c: f64, c_prime: f64) -> f64 {
        self.g(c) - self.g(c_prime)
    }
}

/// `log omega(z)`, where `omega + log omega = z` (Wright omega, `omega(z) = W_0(e^z)`).
///
/// Newton on `g(l) = e^l + l - z` (convex and increasing, so it converges from any
/// start after at most one overshoot), started at `z` for `z <= 1` and `log z` above.
/// Working in `l = log omega` keeps `omega = e^z` for very negative `z` representable
/// as its logarithm and never overflows for large `z` (entropic.md §7).
pub fn log_wright_omega(z: f64) -> f64 {
    let mut l = if z <= 1.0 { z } else { z.ln() };
    for _ in 0..64 {
        let e = l.exp();
        let step = (e + l - z) / (e + 1.0);
        l -= step;
        if step.abs() <= 4.0 * f64::EPSILON * l.abs().max(1.0) {
            break;
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wright_omega_solves_its_equation() {
        for z in [-1000.0, -30.0, -1.0, 0.0, 0.5, 1.0, 1.0001, 3.0, 50.0, 1e5, 1e10] {
            let l = log_wright_omega(z);
            let omega = l.exp();
            assert!(((omega + l) - z).abs() <= 1e-14 * z.abs().max(1.0), "z = {z}: omega {omega}");
        }
        // omega(1) = 1 exactly, omega(0) = W(1) = 0.5671432904097838 (the omega constant).
        assert!((log_wright_omega(1.0)).abs() < 1e-16);
        assert!((log_wright_omega(0.0).exp() - 0.567_143_290_409_783_8).abs() < 1e-16);
    }

    /// The prox satisfies its optimality condition, and every derivative matches
    /// a central difference.
    #[test]
    fn prox_derivatives_match_differences() {
        let maps: [&dyn MirrorMap; 6] = [&Squared, &Entropic, &PNorm { q: 1.25 }, &PNorm { q: 1.5 }, &PNorm { q: 3.0 }, &PNorm { q: 4.0 }];
        for map in maps {
            for (chi, eta, c) in [(0.3, 0.7, 0.8), (-1.2, 0.05, 0.4), (2.5, 3.0, 0.1), (0.01, 1e-3, 1.0), (-0.7, 0.9, 0.0), (0.2, 1.5, -0.3)] {
                if map.positive_domain() && c <= 0.0 {
                    continue; // the entropic map starts at c > 0
                }
                let p = map.prox(chi, eta, c);
                let h = 1e-6;
                let at = |chi: f64, eta: f64| map.prox(chi, eta, c);
                let fd = |f: &dyn Fn(Prox) -> f64, dchi: f64, deta: f64| {
                    (f(at(chi + dchi, eta + deta)) - f(at(chi - dchi, eta - deta))) / (2.0 * h)
                };
                let close = |a: f64, b: f64, what: &str| {
                    assert!((a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs())), "{what} at {chi},{eta},{c}: {a} vs {b}")
                };
                close(p.slope, fd(&|p| p.x, h * eta, 0.0) / eta, "slope");
                close(p.shift, p.x - chi, "shift");
                close(p.slack, 1.0 - p.slope, "slack");
                close(p.curvature, fd(&|p| p.slope, h * eta, 0.0) / eta, "curvature");
                close(p.d_eta, fd(&|p| p.x, 0.0, h * eta) / eta, "d_eta");
                close(p.slope_d_eta, fd(&|p| p.slope, 0.0, h * eta) / eta, "slope_d_eta");
            }
        }
        // Optimality of the p-norm prox, g(P) - g(c) + (P - chi)/eta = 0, and q = 2 the squared map.
        for q in [1.05, 1.25, 1.5, 3.0, 6.0] {
            let map = PNorm { q };
            for (chi, eta, c) in [(0.3, 0.7, 0.8), (-1.2, 0.05, 0.4), (40.0, 3.0, 0.0), (1e-9, 1e-3, 0.0), (-5.0, 200.0, 2.0)] {
                let p = map.prox(chi, eta, c);
                let residual = map.g(p.x) - map.g(c) + (p.x - chi) / eta;
                let scale = map.g(p.x).abs() + map.g(c).abs() + (p.x.abs() + chi.abs()) / eta;
                assert!(residual.abs() <= 1e-14 * scale, "q = {q} at {chi},{eta},{c}: residual {residual:e}");
            }
        }
        let (a, b) = (PNorm { q: 2.0 }.prox(0.3, 0.7, 0.8), Squared.prox(0.3, 0.7, 0.8));
        assert!((a.x - b.x).abs() < 1e-15 && (a.slope - b.slope).abs() < 1e-15 && (a.d_eta - b.d_eta).abs() < 1e-15);
        // Optimality of the entropic prox: log(P/c) + (P - chi)/eta = 0.
        let p = Entropic.prox(0.3, 0.7, 0.8);
        assert!(((p.x / 0.8).ln() + (p.x - 0.3) / 0.7).abs() < 1e-15);
    }
}
