//! Neuron models, source kinds and synapse kinds: what each one's
//! parameters become in the IR.

use super::Elab;
use super::expr::{Scope, Value};
use super::params::Params;
use crate::Diag;
use crate::ast::*;
use fpnna_ir::{NeuronModel, Neurons, SynapseKind};
use fpnna_model::{self as m, Bounds, Generator, NeuronParams, Pairing, Reset, StdpParams, VolatileParams};

impl Elab<'_> {
    /// A neuron model (`lif`, `if`) and its parameters, for `n` neurons.
    pub(super) fn neurons(
        &mut self,
        model: &Ident,
        kvs: &[KeyValue],
        n: u32,
        scope: &Scope,
        full: &str,
    ) -> Option<Neurons> {
        const LIF: &[&str] = &[
            "tau_m",
            "tau_syn",
            "decay_v",
            "decay_i",
            "threshold",
            "bias",
            "v_min",
            "reset",
            "refractory",
            "v_init",
            "theta_plus",
            "tau_theta",
            "theta_decay",
        ];
        let (nm, allowed): (NeuronModel, &[&str]) = match model.name.as_str() {
            "lif" => (NeuronModel::Lif, LIF),
            "if" => (NeuronModel::If, &LIF[1..]),
            other => {
                let mut d = Diag::new(model.span, format!("unknown neuron model `{other}`")).label("not a model");
                d = d.help("neuron models: lif, if");
                self.err(d);
                return None;
            }
        };
        let p = self.params_of(kvs, allowed, scope);
        let dt = self.net.dt_ms;
        let decay_v =
            if nm == NeuronModel::Lif { self.decay(&p, "tau_m", "decay_v", 20.0, dt, scope) } else { Some(0) };
        let decay_i = self.decay(&p, "tau_syn", "decay_i", 0.0, dt, scope);
        let v_min = match p.get("v_min") {
            None => Some(i32::MIN),
            Some((_, span)) => {
                let span = *span;
                self.get_num(&p, "v_min", 0.0, scope).and_then(|v| self.fixed(v, span, "v_min"))
            }
        };
        let reset = self.get_sym(&p, "reset", &["zero", "subtract"]).map(|k| [Reset::Zero, Reset::Subtract][k]);
        let refractory = match p.get("refractory") {
            Some((Value::Num(v), span)) if v.fract() != 0.0 || *v < 0.0 || *v > 65535.0 => {
                let span = *span;
                self.err(Diag::new(span, format!("`refractory` is a whole number of steps in 0..=65535, found {v}")));
                None
            }
            _ => self.get_num(&p, "refractory", 0.0, scope).map(|v| v as u16),
        };
        let theta_decay = self.decay(&p, "tau_theta", "theta_decay", f64::INFINITY, dt, scope);
        let theta_step = self.theta_plus(&p, scope);
        let threshold = self.per_neuron(&p, "threshold", 1.0, n, full);
        let bias = self.per_neuron(&p, "bias", 0.0, n, full);
        let v_init = self.per_neuron(&p, "v_init", 0.0, n, full);
        let (decay_v, decay_i, v_min, reset, refractory) = (decay_v?, decay_i?, v_min?, reset?, refractory?);
        let (threshold, bias, v_init, theta_step, theta_decay) =
            (threshold?, bias?, v_init?, theta_step?, theta_decay?);
        let params = (0..n as usize)
            .map(|k| NeuronParams {
                decay_i,
                decay_v,
                threshold: threshold[k],
                bias: bias[k],
                v_min,
                reset,
                refractory,
                theta_step,
                theta_decay,
            })
            .collect();
        Some(Neurons { model: nm, params, v_init })
    }

    /// `theta_plus`: the adaptive threshold's rise per spike (>= 0, in
    /// potential units; 0: no adaptation).
    fn theta_plus(&mut self, p: &Params, scope: &Scope) -> Option<i32> {
        let x = self.get_num(p, "theta_plus", 0.0, scope)?;
        let span = p.get("theta_plus").map_or_else(Span::default, |x| x.1);
        if x.is_nan() || x < 0.0 {
            self.err(Diag::new(span, format!("`theta_plus` must be >= 0, found {x}")).label("negative"));
            return None;
        }
        self.fixed(x, span, "theta_plus")
    }

    /// A source kind (`poisson`, `regular`) and its parameters.
    pub(super) fn generator(&mut self, kind: &Ident, kvs: &[KeyValue], scope: &Scope, full: &str) -> Option<Generator> {
        match kind.name.as_str() {
            "poisson" => {
                let p = self.params_of(kvs, &["rate", "seed"], scope);
                let Some((_, rate_span)) = p.get("rate").cloned() else {
                    self.err(Diag::new(kind.span, "a poisson source needs `rate` (Hz)").label("no rate"));
                    return None;
                };
                let rate = self.get_num(&p, "rate", 0.0, scope)?;
                let max = 1000.0 / self.net.dt_ms;
                if !(0.0..=max).contains(&rate) {
                    self.err(Diag::new(
                        rate_span,
                        format!("rate must be in 0..={max} Hz (one spike per step), found {rate}"),
                    ));
                    return None;
                }
                let seed = match p.get("seed") {
                    Some((v, span)) => self.seed_arg(v, full, *span)?,
                    None => self.derive_seed(full),
                };
                Some(Generator::Poisson { p: Generator::poisson_p(rate, self.net.dt_ms), seed })
            }
            "regular" => {
                let p = self.params_of(kvs, &["period", "phase"], scope);
                if !p.contains_key("period") {
                    self.err(Diag::new(kind.span, "a regular source needs `period` (steps)").label("no period"));
                    return None;
                }
                let period = self.get_num(&p, "period", 1.0, scope)?;
                let phase = self.get_num(&p, "phase", 0.0, scope)?;
                let ok = |x: f64, lo: f64| x.fract() == 0.0 && x >= lo && x <= f64::from(u32::MAX);
                if !ok(period, 1.0) || !ok(phase, 0.0) {
                    let span = p.get("period").map_or(kind.span, |x| x.1);
                    self.err(
                        Diag::new(span, "period (>= 1) and phase (>= 0) are whole numbers of steps").label("here"),
                    );
                    return None;
                }
                Some(Generator::Regular { period: period as u32, phase: phase as u32 })
            }
            other => {
                self.err(
                    Diag::new(kind.span, format!("unknown source kind `{other}`"))
                        .label("not a source kind")
                        .help("source kinds: poisson, regular"),
                );
                None
            }
        }
    }

    /// A synapse kind (`nonvolatile`, `volatile`, `stdp`) and its parameters.
    pub(super) fn synapse_kind(&mut self, k: &Ident, kvs: &[KeyValue], scope: &Scope) -> Option<SynapseKind> {
        let dt = self.net.dt_ms;
        match k.name.as_str() {
            "nonvolatile" => Some(SynapseKind::NonVolatile),
            "volatile" => {
                let p = self.params_of(kvs, &["tau", "decay", "gain", "sat"], scope);
                let decay = self.decay(&p, "tau", "decay", 10.0, dt, scope);
                let gain = self.get_num(&p, "gain", 0.05, scope)?;
                let sat = self.get_num(&p, "sat", 10.0, scope)?;
                let span = kvs.first().map_or(k.span, |kv| kv.key.span.to(kvs[kvs.len() - 1].value.span));
                if !((0.0..=1.0).contains(&gain) && (1.0..=1000.0).contains(&sat)) {
                    self.err(
                        Diag::new(span, "volatile needs gain in [0, 1] and sat (Gsat/G0) in [1, 1000]")
                            .label("out of range"),
                    );
                    return None;
                }
                Some(SynapseKind::Volatile(VolatileParams {
                    decay: decay?,
                    gain: m::to_fixed(gain)?,
                    facil: m::to_fixed(sat - 1.0)?,
                }))
            }
            _ => {
                let p = self.params_of(
                    kvs,
                    &[
                        "a_plus",
                        "a_minus",
                        "tau_plus",
                        "decay_plus",
                        "tau_minus",
                        "decay_minus",
                        "w_min",
                        "w_max",
                        "pairing",
                        "bounds",
                        "relax",
                    ],
                    scope,
                );
                let a_plus = self.get_num(&p, "a_plus", 0.01, scope)?;
                let a_minus = self.get_num(&p, "a_minus", 0.0105, scope)?;
                let decay_plus = self.decay(&p, "tau_plus", "decay_plus", 20.0, dt, scope);
                let decay_minus = self.decay(&p, "tau_minus", "decay_minus", 20.0, dt, scope);
                let (decay_plus, decay_minus) = (decay_plus?, decay_minus?);
                let w_min = self.get_num(&p, "w_min", 0.0, scope)?;
                let w_max = self.get_num(&p, "w_max", 1.0, scope)?;
                let pairing =
                    [Pairing::AllToAll, Pairing::Nearest][self.get_sym(&p, "pairing", &["all", "nearest"])?];
                let bounds = [Bounds::Hard, Bounds::Soft][self.get_sym(&p, "bounds", &["hard", "soft"])?];
                let relax = self.relax(&p, scope)?;
                let span = kvs.first().map_or(k.span, |kv| kv.key.span.to(kvs[kvs.len() - 1].value.span));
                if !(a_plus >= 0.0 && a_minus >= 0.0 && 0.0 <= w_min && w_min <= w_max) {
                    self.err(
                        Diag::new(
                            span,
                            "stdp needs tau_plus, tau_minus > 0 ms, a_plus, a_minus >= 0 and 0 <= w_min <= w_max",
                        )
                        .label("out of range"),
                    );
                    return None;
                }
                Some(SynapseKind::Stdp(StdpParams {
                    a_plus: self.fixed(a_plus, span, "a_plus")?,
                    a_minus: self.fixed(a_minus, span, "a_minus")?,
                    decay_plus,
                    decay_minus,
                    w_min: self.fixed(w_min, span, "w_min")?,
                    w_max: self.fixed(w_max, span, "w_max")?,
                    pairing,
                    bounds,
                    relax,
                }))
            }
        }
    }
}
