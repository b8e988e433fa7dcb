//! The NIR graph as plain data: nodes by name, edges between names, and
//! every parameter as a dense array of `f64` (NIR stores `f32` or `f64`;
//! both widen exactly).

use std::collections::BTreeMap;

/// A dense array in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions; empty for a scalar.
    pub shape: Vec<usize>,
    /// Values, `shape.iter().product()` of them.
    pub data: Vec<f64>,
}

impl Array {
    /// A one-dimensional array.
    pub fn vector(data: Vec<f64>) -> Self {
        Array { shape: vec![data.len()], data }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Padding of a convolution or pool, per spatial dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Padding {
    /// Explicit zero padding on both sides.
    Explicit(Vec<usize>),
    /// `same`: the output as large as the input (stride 1).
    Same,
    /// `valid`: no padding.
    Valid,
}

/// A NIR node (the primitives of `nir` 1.0).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A graph input of the given shape.
    Input { shape: Vec<usize> },
    /// A graph output of the given shape.
    Output { shape: Vec<usize> },
    /// `W x + b`.
    Affine { weight: Array, bias: Array },
    /// `W x`.
    Linear { weight: Array },
    /// Elementwise `s * x`.
    Scale { scale: Array },
    /// Leaky integrate-and-fire: `tau v' = (v_leak - v) + r I`.
    Lif { tau: Array, r: Array, v_leak: Array, v_threshold: Array, v_reset: Array },
    /// Current-based LIF: `tau_syn I' = -I + w_in S`, then as LIF.
    CubaLif { tau_syn: Array, tau_mem: Array, r: Array, v_leak: Array, v_threshold: Array, v_reset: Array, w_in: Array },
    /// Integrate-and-fire: `v' = r I`.
    If { r: Array, v_threshold: Array, v_reset: Array },
    /// Leaky integrator (no spikes): `tau v' = (v_leak - v) + r I`.
    Li { tau: Array, r: Array, v_leak: Array },
    /// Integrator (no spikes): `v' = r I`.
    Integrator { r: Array },
    /// Heaviside step: `x > threshold`.
    Threshold { threshold: Array },
    /// Elementwise delay in seconds.
    Delay { delay: Array },
    /// Flattens dimensions `start..=end` (negative counts from the end).
    Flatten { start_dim: i64, end_dim: i64, input_shape: Option<Vec<usize>> },
    /// A 1-d or 2-d convolution, weight `[c_out, c_in / groups, k...]`.
    Conv {
        weight: Array,
        bias: Array,
        stride: Vec<usize>,
        padding: Padding,
        dilation: Vec<usize>,
        groups: usize,
        input_shape: Option<Vec<usize>>,
    },
    /// A 2-d sum (or average) pool over `[c, h, w]`.
    Pool { average: bool, kernel: Vec<usize>, stride: Vec<usize>, padding: Vec<usize> },
    /// A nested graph.
    Graph(Graph),
    /// A node type fpnna does not know (its `type` string).
    Other(String),
}

impl Node {
    /// The NIR type name (`LIF`, `Conv2d`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            Node::Input { .. } => "Input",
            Node::Output { .. } => "Output",
            Node::Affine { .. } => "Affine",
            Node::Linear { .. } => "Linear",
            Node::Scale { .. } => "Scale",
            Node::Lif { .. } => "LIF",
            Node::CubaLif { .. } => "CubaLIF",
            Node::If { .. } => "IF",
            Node::Li { .. } => "LI",
            Node::Integrator { .. } => "I",
            Node::Threshold { .. } => "Threshold",
            Node::Delay { .. } => "Delay",
            Node::Flatten { .. } => "Flatten",
            Node::Conv { weight, .. } if weight.shape.len() == 3 => "Conv1d",
            Node::Conv { .. } => "Conv2d",
            Node::Pool { average: true, .. } => "AvgPool2d",
            Node::Pool { average: false, .. } => "SumPool2d",
            Node::Graph(_) => "NIRGraph",
            Node::Other(t) => t,
        }
    }
}

/// A NIR graph: named nodes and the edges between them (a node's inputs
/// are summed). An edge into or out of a nested graph names its node
/// `graph.node`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges `(source, target)`, in file order.
    pub edges: Vec<(String, String)>,
}
