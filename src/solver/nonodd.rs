//! The mean-corrected theory for non-odd activations (equations/nonodd.md): each unit of
//! layer `l >= 2` sees a quenched offset `b_i = (W_l m_{l-1})_i`, distributed as
//! `N(0, M_{l-1})` with `M_{l-1}` the mean square of layer `l-1`'s feature means, so its
//! coefficients `rho1(b), rho2(b)` vary from unit to unit. The layer chain then carries
//! expectations over that law: [`peel`] replaces the explicit layer equation by a monotone
//! root in the next shift. With one unit law (odd activations, or a first layer) it is
//! today's explicit equation exactly.

use crate::solver::activation::{unit_moments, Activation, GaussianEquivalence};
use crate::solver::quadrature::gauss_hermite;
use crate::solver::squared::{self, brent_root, Chain, Input, Layer, Ratio, SolveError, Trace};

/// Nodes of the Gauss–Hermite rule over a layer's offset law.
pub const OFFSET_NODES: usize = 48;

/// One node of a layer's unit law: its weight, `rho1(b)^2`, `rho2(b)^2`, its feature's mean
/// `mu(b)`, and `rho1(b) b`, its weight on the lower features along the offsets' direction
/// (the coupling of equations/nonodd.md §7; 0 when the layer has no offsets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    pub weight: f64,
    pub r1: f64,
    pub r2: f64,
    pub mean: f64,
    pub coupling: f64,
}

/// A hidden layer whose units have a law of coefficients (equations/nonodd.md (N2)).
#[derive(Clone, Debug, PartialEq)]
pub struct MixedLayer {
    /// `gamma_l = d_l / d_{l-1}`.
    pub aspect: f64,
    pub units: Vec<Unit>,
    /// The offsets' variance `M_{l-1}` (0 for a first layer and for odd activations).
    pub offset_var: f64,
}

impl MixedLayer {
    /// The layer with the unit law's average coefficients `E r1`, `E r2` (the scale of its spectrum).
    pub fn averaged(&self) -> Layer {
        let (r1, r2) = self.units.iter().fold((0.0, 0.0), |(a, b), u| (a + u.weight * u.r1, b + u.weight * u.r2));
        Layer { rho1: r1.sqrt(), rho2: r2.sqrt(), aspect: self.aspect }
    }

    /// The single-law layer of today's chain, when there is one law.
    pub fn uniform(&self) -> Option<Layer> {
        match self.units.as_slice() {
            [u] => Some(Layer { rho1: u.r1.sqrt(), rho2: u.r2.sqrt(), aspect: self.aspect }),
            _ => None,
        }
    }
}

/// What the fold over depth carries for one layer (equations/nonodd.md (N1)).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct OffsetLaw {
    /// The variance of the layer's pre-activations around their offsets, `v_{l-1}`.
    pub v_in: f64,
    /// The variance of the offsets `b_i`, `M_{l-1}` (0 for the first layer and for odd activations).
    pub offset_var: f64,
    /// `E_b rho1(b)^2` and `E_b rho2(b)^2`.
    pub mean_r1: f64,
    pub mean_r2: f64,
    /// `E_b Var sigma(b + z)`: the next layer's `v`.
    pub v_out: f64,
    /// `E_b (E sigma(b + z))^2`: the next layer's offset variance `M_l`.
    pub mean_square_out: f64,
}

/// The unit laws of layers `1..=depth` for inputs of mean 0 and `tr Sigma_0 / d_0 = 1`.
pub fn fold(activation: Activation, depth: usize) -> Vec<(OffsetLaw, Vec<Unit>)> {
    let (nodes, weights) = gauss_hermite(OFFSET_NODES);
    let (mut v, mut offset_var) = (1.0f64, 0.0f64);
    (0..depth)
        .map(|_| {
            let units: Vec<(f64, f64, crate::solver::activation::UnitMoments)> = if offset_var == 0.0 {
                vec![(1.0, 0.0, unit_moments_or_gep(activation, 0.0, v))]
            } else {
                // b = sqrt(2 M) x_i with weights w_i / sqrt(pi) (physicists' Hermite).
                nodes
                    .iter()
                    .zip(&weights)
                    .map(|(&x, &w)| {
                        let b = (2.0 * offset_var).sqrt() * x;
                        (w / std::f64::consts::PI.sqrt(), b, unit_moments(activation, b, v))
                    })
                    .collect()
            };
            let law = OffsetLaw {
                v_in: v,
                offset_var,
                mean_r1: units.iter().map(|(w, _, m)| w * m.rho1 * m.rho1).sum(),
                mean_r2: units.iter().map(|(w, _, m)| w * m.rho2_squared(v)).sum(),
                v_out: units.iter().map(|(w, _, m)| w * m.variance).sum(),
                mean_square_out: units.iter().map(|(w, _, m)| w * m.mean * m.mean).sum(),
            };
            let list = units
                .iter()
                .map(|(w, b, m)| Unit { weight: *w, r1: m.rho1 * m.rho1, r2: m.rho2_squared(v), mean: m.mean, coupling: m.rho1 * b })
                .collect();
            (v, offset_var) = (law.v_out, law.mean_square_out);
            (law, list)
        })
        .collect()
}

/// At offset 0 an odd activation's moments are today's GEP coefficients, bit for bit.
fn unit_moments_or_gep(activation: Activation, b: f64, v: f64) -> crate::solver::activation::UnitMoments {
    if activation.is_odd() && b == 0.0 {
        let g = activation.gep(v);
        crate::solver::activation::UnitMoments { mean: 0.0, rho1: g.rho1, variance: g.v_out }
    } else {
        unit_moments(activation, b, v)
    }
}

/// Peels one mixed layer (equations/nonodd.md (N3)): given `log u_l` and layer `l-1`'s trace
/// there, the next shift `s = u_{l+1}` solves
/// `F(s) = gamma E_b[r1/(s + r2 + r1 e)] - 1/u = 0`, `e = u tau_{l-1}(u)`, which falls in `s`;
/// layer `l`'s trace is `tau_l = 1 - s E_b[1/(s + r2 + r1 e)]`, with its elasticity and the
/// gain `d log s / d log u` by implicit differentiation. One law: [`squared::layer_equation`].
/// `None` below the physical branch (`F(0) <= 0`, no positive shift).
pub fn peel(layer: &MixedLayer, log_u: f64, below: Trace) -> Option<(f64, Trace, f64)> {
    if let Some(uniform) = layer.uniform() {
        return squared::layer_equation(&uniform, log_u, below, None);
    }
    let u = log_u.exp();
    let e = u * below.tau;
    let gamma = layer.aspect;
    // Dead units (r1 = r2 = 0: a ReLU far below its offset) add nothing to F, and 0/0 at s = 0.
    let f = |s: f64| gamma * layer.units.iter().filter(|n| n.r1 > 0.0).map(|n| n.weight * n.r1 / (s + n.r2 + n.r1 * e)).sum::<f64>() - 1.0 / u;
    if !(f(0.0) > 0.0) || !u.is_finite() {
        return None;
    }
    // Bracket in log s: F(s) -> -1/u < 0 as s grows.
    let (mut hi, mut width) = (log_u, 2.0);
    while f(hi.exp()) > 0.0 {
        hi += width;
        width *= 2.0;
        if hi > 700.0 {
            return None;
        }
    }
    let (mut lo, mut width) = (hi - 2.0, 2.0);
    while f(lo.exp()) <= 0.0 {
        lo -= width;
        width *= 2.0;
        if lo < -700.0 {
            return None;
        }
    }
    let (log_s, _) = brent_root(|x| f(x.exp()) * u, lo, hi, 1e-15, 300)?;
    let (trace, gain) = along_one(layer, log_u, log_s, below)?;
    Some((log_s, trace, gain))
}

/// The chain upwards from `log u_1` through mixed layers.
pub fn bottom_up(input: &Input, layers: &[MixedLayer], log_u1: f64) -> Option<Chain> {
    let mut log_shifts = vec![log_u1];
    let mut traces = vec![input.trace(log_u1)];
    let mut gains = Vec::with_capacity(layers.len());
    for layer in layers {
        let (next, t, gain) = peel(layer, *log_shifts.last().unwrap(), *traces.last().unwrap())?;
        log_shifts.push(next);
        traces.push(t);
        gains.push(gain);
    }
    Some(Chain { log_shifts, traces, gains })
}

/// A root in `log u_1` of an increasing function of the chain (`None` below the branch
/// counts as `below`), bracketed geometrically as in [`squared::solve_with`].
fn shoot(input: &Input, layers: &[MixedLayer], value: impl Fn(&Chain) -> f64, below: f64) -> Option<(f64, u64)> {
    let at = |x: f64| bottom_up(input, layers, x).map_or(below, |c| value(&c));
    let (mut hi, mut width, mut steps) = (0.0, 2.0, 0);
    while at(hi) < 0.0 {
        hi += width;
        width *= 2.0;
        steps += 1;
        if hi > 1e6 {
            return None;
        }
    }
    let (mut lo, mut width) = (hi - 2.0, 2.0);
    while at(lo) >= 0.0 {
        lo -= width;
        width *= 2.0;
        steps += 1;
        if lo < -1e6 {
            return None;
        }
    }
    brent_root(at, lo, hi, 1e-15, 300).map(|(x, i)| (x, i + steps))
}

/// Solves `E_0..E_L` through mixed layers (equations/nonodd.md §4): one bracketed Brent root
/// in `log u_1`. All layers uniform: [`squared::solve_with`], with its Newton polish.
pub fn solve(input: &Input, layers: &[MixedLayer], ratio: Ratio, ridge: f64) -> Result<squared::Solution, SolveError> {
    if let Some(uniform) = layers.iter().map(MixedLayer::uniform).collect::<Option<Vec<Layer>>>() {
        return squared::solve_with(input, &uniform, ratio, ridge);
    }
    // E_0 written to increase with u_1: n/d_L (1 - lambda/kappa) - tau_L(kappa).
    let e0 = |c: &Chain| -squared::sample_equation_with_ridge(c, ratio, ridge);
    let (x, iterations) = shoot(input, layers, e0, -1.0).ok_or(SolveError::NoBracket { ratio: ratio.delta })?;
    let no_chain = || SolveError::NoConvergence { iterations, residuals: vec![1.0; layers.len() + 1] };
    let shot = bottom_up(input, layers, x).ok_or_else(no_chain)?;
    let chain = polish(input, layers, ratio, ridge, shot);
    let residuals = residuals(input, layers, ratio, ridge, &chain);
    let solution = squared::Solution { chain, residuals, iterations };
    if solution.max_residual() <= squared::MAX_RESIDUAL {
        Ok(solution)
    } else {
        Err(SolveError::NoConvergence { iterations, residuals: solution.residuals })
    }
}

/// The deepest mixed chain [`polish`] refines (its Newton step is dense, `(2L+1)^2` numbers).
pub const MAX_POLISHED_DEPTH: usize = 40;

/// The system of a mixed chain with every shift and every trace its own unknown:
/// `x = [log u_1..log u_{L+1}, tau_1..tau_L]` (`tau_l` = layer `l`'s trace at `u_{l+1}`). Rows:
/// (N3) for each layer, `G_l = gamma E[r1/(s + r2 + r1 u t)] u - 1` with `t = tau_{l-1}(u_l)`;
/// the definition of `tau_l`, `H_l = 1 - s E[1/(s + r2 + r1 u t)] - tau_l`; and `E_0`.
/// Each row involves neighbouring unknowns only, so shooting's loss of precision through a
/// bottleneck does not carry to the top.
fn system(input: &Input, layers: &[MixedLayer], ratio: Ratio, ridge: f64, x: &[f64]) -> Vec<f64> {
    let depth = layers.len();
    let mut out = Vec::with_capacity(2 * depth + 1);
    for (l, layer) in layers.iter().enumerate() {
        let (u, s) = (x[l].exp(), x[l + 1].exp());
        let t = if l == 0 { input.trace(x[0]).tau } else { x[depth + l] };
        let (mut g, mut m) = (0.0, 0.0);
        for n in &layer.units {
            let d = s + n.r2 + n.r1 * u * t;
            g += n.weight * n.r1 / d;
            m += n.weight / d;
        }
        out.push(layer.aspect * g * u - 1.0);
        out.push(1.0 - s * m - x[depth + 1 + l]);
    }
    let kappa = x[depth].exp();
    let target = ratio.delta * (1.0 - if ridge == 0.0 { 0.0 } else { ridge / kappa });
    out.push((x[2 * depth] - target) / ratio.delta.max(1e-300));
    out
}

/// Newton on [`system`] from the shooting point, with a finite-difference Jacobian (dense;
/// depth at most [`MAX_POLISHED_DEPTH`]); keeps the best point, then carries the traces
/// along its shifts.
fn polish(input: &Input, layers: &[MixedLayer], ratio: Ratio, ridge: f64, shot: Chain) -> Chain {
    let depth = layers.len();
    if depth > MAX_POLISHED_DEPTH {
        return shot;
    }
    let size = 2 * depth + 1;
    let mut x: Vec<f64> = shot.log_shifts.clone();
    x.extend(shot.traces[1..].iter().map(|t| t.tau));
    let norm = |r: &[f64]| r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut r = system(input, layers, ratio, ridge, &x);
    let mut best = norm(&r);
    for _ in 0..8 {
        if !(best > 4.0 * f64::EPSILON) {
            break;
        }
        let mut jacobian = faer::Mat::<f64>::zeros(size, size);
        for j in 0..size {
            let h = 1e-7 * x[j].abs().max(1e-3);
            let mut y = x.clone();
            y[j] += h;
            let ry = system(input, layers, ratio, ridge, &y);
            for i in 0..size {
                jacobian[(i, j)] = (ry[i] - r[i]) / h;
            }
        }
        let rhs = faer::Mat::<f64>::from_fn(size, 1, |i, _| r[i]);
        let step = faer::linalg::solvers::Solve::solve(&jacobian.partial_piv_lu(), &rhs);
        let trial: Vec<f64> = x.iter().enumerate().map(|(i, v)| v - step[(i, 0)]).collect();
        let r_trial = system(input, layers, ratio, ridge, &trial);
        let n = norm(&r_trial);
        if !(n < best) {
            break;
        }
        (x, r, best) = (trial, r_trial, n);
    }
    // The traces and gains along the polished shifts, each layer from its own shift pair; each
    // trace is the polished unknown itself (recomputing it from the shifts would bring back the
    // precision lost through a bottleneck), its elasticity and gain from the local derivatives.
    let mut traces = vec![input.trace(x[0])];
    let mut gains = Vec::with_capacity(depth);
    for (l, layer) in layers.iter().enumerate() {
        match along_one(layer, x[l], x[l + 1], *traces.last().unwrap()) {
            Some((t, g)) => {
                traces.push(Trace { tau: x[depth + 1 + l], ..t });
                gains.push(g);
            }
            None => return shot,
        }
    }
    Chain { log_shifts: x[..=depth].to_vec(), traces, gains }
}

/// Layer `l`'s trace at `s = e^{log_s}` and its gain, given `u = e^{log_u}` and the trace below
/// (the quantities of [`peel`], at a given pair of shifts instead of a solved one).
fn along_one(layer: &MixedLayer, log_u: f64, log_s: f64, below: Trace) -> Option<(Trace, f64)> {
    if let Some(uniform) = layer.uniform() {
        return squared::layer_equation(&uniform, log_u, below, Some((log_s - log_u).exp())).map(|(_, t, g)| (t, g));
    }
    let (u, s) = (log_u.exp(), log_s.exp());
    let e = u * below.tau;
    let de_du = below.tau + below.elasticity;
    let gamma = layer.aspect;
    let (mut m, mut a2, mut b2, mut c2) = (0.0, 0.0, 0.0, 0.0);
    for n in &layer.units {
        let d = s + n.r2 + n.r1 * e;
        m += n.weight / d;
        a2 += n.weight * n.r1 / (d * d); // -dF/ds / gamma, and the r1-weighted E[1/d^2]
        b2 += n.weight * n.r1 * n.r1 / (d * d); // -dF/du / (gamma e') without the 1/u^2
        c2 += n.weight / (d * d);
    }
    // F(s(u), u) = 0: ds/du = -(dF/du)/(dF/ds), dF/ds = -gamma a2, dF/du = -gamma b2 e' + 1/u^2.
    let ds_du = (-gamma * b2 * de_du + 1.0 / (u * u)) / (gamma * a2);
    if !(ds_du > 0.0 && ds_du.is_finite()) {
        return None;
    }
    let du_ds = 1.0 / ds_du;
    // dm/ds along the chain: -E[(1 + r1 e' du/ds)/d^2].
    let dm_ds = -(c2 + de_du * du_ds * a2);
    Some((Trace { tau: 1.0 - s * m, elasticity: -s * m - s * s * dm_ds }, u * ds_du / s))
}

/// The coupling of layer `l`'s offsets to its own weights, as the strength of a rank-one term
/// along the units' `rho1(b) b` (equations/nonodd.md (N6)): `theta_l = (gamma_l / M_{l-1})
/// (1/q_{l-1}(u) - u)`, with `q_{l-1}(u)` the mean direction's resolvent one layer down at the
/// layer's `u`. What the layer below cannot explain of the lower features along that direction.
pub fn coupling_strength(layer: &MixedLayer, q_below: f64, u: f64) -> f64 {
    if layer.offset_var == 0.0 {
        return 0.0;
    }
    layer.aspect / layer.offset_var * (1.0 / q_below - u)
}

/// The mean direction's resolvent `q_l(s) = m_l^T (Sigma_l + s)^{-1} m_l / |m_l|^2` of the top of
/// `layers` at its chain's top shift (equations/nonodd.md (N7)): each layer's diagonal
/// equivalent `1/(s + r2 + r1 u tau_{l-1}(u))` on the unit law, with the rank-one coupling of
/// [`coupling_strength`] taken out by Sherman–Morrison, bottom-up (a first layer's mean is
/// generic for its weights: `q_1 = m_1`). With it, its derivative in the log of the top shift
/// along the chain (forward mode: layer `l`'s shifts move by `prod 1/gain` of the layers above,
/// its trace by its elasticity). `None` when the top layer's features have no mean.
pub fn mean_resolvent(layers: &[MixedLayer], chain: &Chain) -> Option<(f64, f64)> {
    let depth = layers.len();
    // d log(shift l) / d log(top shift), from the top down.
    let mut moves = vec![1.0; depth + 1];
    for l in (0..depth).rev() {
        moves[l] = moves[l + 1] / chain.gains[l];
    }
    let mut q: Option<(f64, f64)> = None;
    for (l, layer) in layers.iter().enumerate() {
        let (u, s) = (chain.log_shifts[l].exp(), chain.log_shifts[l + 1].exp());
        let trace = chain.traces[l];
        let e = u * trace.tau;
        let (de, ds) = (u * (trace.tau + trace.elasticity) * moves[l], s * moves[l + 1]);
        let (theta, dtheta) = match q {
            Some((q_below, dq_below)) if layer.offset_var > 0.0 => {
                (coupling_strength(layer, q_below, u), layer.aspect / layer.offset_var * (-dq_below / (q_below * q_below) - u * moves[l]))
            }
            _ => (0.0, 0.0),
        };
        let (mut mm, mut mc, mut cc, mut m2) = (0.0, 0.0, 0.0, 0.0);
        let (mut dmm, mut dmc, mut dcc) = (0.0, 0.0, 0.0);
        for n in &layer.units {
            let d = s + n.r2 + n.r1 * e;
            let (g, dg) = (n.weight / d, -n.weight / (d * d) * (ds + n.r1 * de));
            (mm, mc, cc, m2) = (mm + g * n.mean * n.mean, mc + g * n.mean * n.coupling, cc + g * n.coupling * n.coupling, m2 + n.weight * n.mean * n.mean);
            (dmm, dmc, dcc) = (dmm + dg * n.mean * n.mean, dmc + dg * n.mean * n.coupling, dcc + dg * n.coupling * n.coupling);
        }
        // coupled = mc^2 / (1/theta + cc), and its derivative.
        let (coupled, dcoupled) = if theta > 0.0 {
            let den = 1.0 / theta + cc;
            (mc * mc / den, (2.0 * mc * dmc * den - mc * mc * (dcc - dtheta / (theta * theta))) / (den * den))
        } else {
            (0.0, 0.0)
        };
        q = (m2 > 0.0).then(|| ((mm - coupled) / m2, (dmm - dcoupled) / m2));
    }
    q
}

/// The chain whose top shift is `kappa` (no sample equation), as [`squared::chain_at`].
pub fn chain_at(input: &Input, layers: &[MixedLayer], log_kappa: f64) -> Option<Chain> {
    if let Some(uniform) = layers.iter().map(MixedLayer::uniform).collect::<Option<Vec<Layer>>>() {
        return squared::chain_at(input, &uniform, log_kappa);
    }
    let depth = layers.len();
    let (x, _) = shoot(input, layers, |c| (c.log_shifts[depth] - log_kappa).max(-1e3), -1e3)?;
    bottom_up(input, layers, x)
}

/// Relative residuals of `E_0` and of each layer's (N3) at a chain, each against its
/// largest term.
pub fn residuals(input: &Input, layers: &[MixedLayer], ratio: Ratio, ridge: f64, chain: &Chain) -> Vec<f64> {
    let kappa = chain.kappa();
    let target = ratio.delta * (1.0 - if ridge == 0.0 { 0.0 } else { ridge / kappa });
    let top = chain.top().tau;
    let mut out = vec![(top - target) / top.abs().max(target.abs()).max(ratio.delta * if ridge == 0.0 { 0.0 } else { ridge / kappa })];
    for (l, layer) in layers.iter().enumerate() {
        let u = chain.log_shifts[l].exp();
        let s = chain.log_shifts[l + 1].exp();
        let tau_below = if l == 0 { input.trace(chain.log_shifts[0]).tau } else { chain.traces[l].tau };
        let e = u * tau_below;
        let sum: f64 = layer.units.iter().filter(|n| n.r1 > 0.0).map(|n| n.weight * n.r1 / (s + n.r2 + n.r1 * e)).sum();
        out.push((layer.aspect * sum * u - 1.0) / (layer.aspect * sum * u).max(1.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mixed layer whose units all carry the same law is today's layer: peel agrees with
    /// the explicit equation to rounding.
    #[test]
    fn identical_units_give_the_explicit_layer_equation() {
        let layer = Layer { rho1: 0.7, rho2: 0.3, aspect: 1.3 };
        let split = MixedLayer {
            aspect: 1.3,
            units: vec![Unit { weight: 0.25, r1: 0.49, r2: 0.09, mean: 0.0, coupling: 0.0 }, Unit { weight: 0.75, r1: 0.49, r2: 0.09, mean: 0.0, coupling: 0.0 }],
            offset_var: 0.0,
        };
        let below = Trace::input(0.4);
        let (a, ta, ga) = squared::layer_equation(&layer, 0.4, below, None).unwrap();
        let (b, tb, gb) = peel(&split, 0.4, below).unwrap();
        for (x, y) in [(a, b), (ta.tau, tb.tau), (ta.elasticity, tb.elasticity), (ga, gb)] {
            assert!((x - y).abs() < 1e-12 * x.abs().max(1.0), "{x} vs {y}");
        }
    }
}
