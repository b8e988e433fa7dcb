//! The HDF5 layout of a NIR file, as the `nir` package 1.0 writes it:
//! a `version` string and a group `node` holding the top graph; a graph
//! group holds its `type` (`NIRGraph`), a group `nodes` with one group per
//! node, and `edges`, an `[n, 2]` dataset of strings; a node group holds
//! its `type` string and one dataset per parameter. This module is the one
//! that calls `hdf5-pure`.

use crate::NirError;
use crate::graph::{Array, Graph, Node, Padding};
use hdf5_pure::{DType, FileBuilder, GroupBuilder};

/// Largest dataset read, in elements (checked from the shape before any
/// value is read).
const MAX_ELEMENTS: u64 = 1 << 26;
/// Largest size, stride, padding or dilation (the largest population).
const MAX_SIZE: i64 = 1 << 24;
/// Deepest nesting of graphs.
const MAX_DEPTH: usize = 16;

fn format(path: &str, what: impl std::fmt::Display) -> NirError {
    NirError::Format { path: path.to_string(), what: what.to_string() }
}

/// Reads a NIR graph from the bytes of an HDF5 file.
pub fn read(bytes: &[u8]) -> Result<Graph, NirError> {
    if !bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Err(format("/", "not an HDF5 file (no HDF5 signature at byte 0)"));
    }
    let file = hdf5_pure::File::from_bytes(bytes.to_vec()).map_err(|e| format("/", e))?;
    let root = file.root();
    let node = root.group("node").map_err(|e| format("/node", format_args!("no top graph: {e}")))?;
    read_graph(&node, "/node", 0)
}

fn names(list: Result<Vec<String>, hdf5_pure::Error>, path: &str) -> Result<Vec<String>, NirError> {
    let mut v = list.map_err(|e| format(path, e))?;
    v.sort();
    Ok(v)
}

fn read_graph(g: &hdf5_pure::Group, path: &str, depth: usize) -> Result<Graph, NirError> {
    if depth > MAX_DEPTH {
        return Err(format(path, format_args!("graphs nested deeper than {MAX_DEPTH}")));
    }
    let nodes_path = format!("{path}/nodes");
    let nodes = g.group("nodes").map_err(|e| format(&nodes_path, e))?;
    let mut graph = Graph::default();
    for name in names(nodes.groups(), &nodes_path)? {
        let p = format!("{nodes_path}/{name}");
        let ng = nodes.group(&name).map_err(|e| format(&p, e))?;
        graph.nodes.insert(name, read_node(&ng, &p, depth)?);
    }
    let edges_path = format!("{path}/edges");
    let ds = g.dataset("edges").map_err(|e| format(&edges_path, e))?;
    let shape = ds.shape().map_err(|e| format(&edges_path, e))?;
    let count = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
    if count > 0 {
        if shape.len() != 2 || shape[1] != 2 {
            return Err(format(&edges_path, format_args!("shape {shape:?}, expected [n, 2]")));
        }
        let s = strings(&ds, &edges_path, count)?;
        graph.edges = s.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    }
    Ok(graph)
}

fn strings(ds: &hdf5_pure::Dataset, path: &str, count: u64) -> Result<Vec<String>, NirError> {
    if count > MAX_ELEMENTS {
        return Err(format(path, format_args!("{count} elements, more than {MAX_ELEMENTS}")));
    }
    match ds.dtype().map_err(|e| format(path, e))? {
        DType::String | DType::VariableLengthString => {}
        other => return Err(format(path, format_args!("holds {other}, expected strings"))),
    }
    let v = ds.read_string().map_err(|e| format(path, e))?;
    Ok(v.into_iter().map(|s| s.trim_end_matches('\0').to_string()).collect())
}

/// One node group's datasets.
struct Fields<'a> {
    g: &'a hdf5_pure::Group,
    path: &'a str,
    present: Vec<String>,
}

impl Fields<'_> {
    fn has(&self, name: &str) -> bool {
        self.present.iter().any(|n| n == name)
    }

    fn dataset(&self, name: &str) -> Result<(hdf5_pure::Dataset, String), NirError> {
        let p = format!("{}/{name}", self.path);
        if !self.has(name) {
            return Err(format(&p, "missing"));
        }
        Ok((self.g.dataset(name).map_err(|e| format(&p, e))?, p))
    }

    fn string(&self, name: &str) -> Result<String, NirError> {
        let (ds, p) = self.dataset(name)?;
        let s = strings(&ds, &p, 1)?;
        match <[String; 1]>::try_from(s) {
            Ok([s]) => Ok(s),
            Err(s) => Err(format(&p, format_args!("{} strings, expected one", s.len()))),
        }
    }

    fn is_string(&self, name: &str) -> Result<bool, NirError> {
        let (ds, p) = self.dataset(name)?;
        Ok(matches!(ds.dtype().map_err(|e| format(&p, e))?, DType::String | DType::VariableLengthString))
    }

    fn array(&self, name: &str) -> Result<Array, NirError> {
        let (ds, p) = self.dataset(name)?;
        let shape = ds.shape().map_err(|e| format(&p, e))?;
        let count = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
        if count > MAX_ELEMENTS {
            return Err(format(&p, format_args!("{count} elements, more than {MAX_ELEMENTS}")));
        }
        match ds.dtype().map_err(|e| format(&p, e))? {
            DType::F32
            | DType::F64
            | DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U8
            | DType::U16
            | DType::U32
            | DType::U64 => {}
            other => return Err(format(&p, format_args!("holds {other}, expected numbers"))),
        }
        let data = ds.read_f64().map_err(|e| format(&p, e))?;
        if data.len() as u64 != count {
            return Err(format(&p, format_args!("{} values for the shape {shape:?}", data.len())));
        }
        if let Some(k) = data.iter().position(|x| !x.is_finite()) {
            return Err(format(&p, format_args!("element {k} is {}", data[k])));
        }
        Ok(Array { shape: shape.iter().map(|&d| d as usize).collect(), data })
    }

    fn opt_array(&self, name: &str) -> Result<Option<Array>, NirError> {
        if self.has(name) { self.array(name).map(Some) } else { Ok(None) }
    }

    /// Whole numbers (a scalar or a vector).
    fn ints(&self, name: &str) -> Result<Vec<i64>, NirError> {
        let a = self.array(name)?;
        a.data
            .iter()
            .map(|&x| {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    Ok(x as i64)
                } else {
                    Err(format(&format!("{}/{name}", self.path), format_args!("{x} is not a whole number")))
                }
            })
            .collect()
    }

    /// Non-negative whole numbers, one per spatial dimension (a scalar
    /// applies to every one).
    fn sizes(&self, name: &str, dims: usize) -> Result<Vec<usize>, NirError> {
        let v = self.ints(name)?;
        let p = format!("{}/{name}", self.path);
        if let Some(x) = v.iter().find(|&&x| !(0..=MAX_SIZE).contains(&x)) {
            return Err(format(&p, format_args!("{x} is outside 0..={MAX_SIZE}")));
        }
        match v.len() {
            1 => Ok(vec![v[0] as usize; dims]),
            n if n == dims => Ok(v.iter().map(|&x| x as usize).collect()),
            n => Err(format(&p, format_args!("{n} values for {dims} dimensions"))),
        }
    }

    fn shape(&self, name: &str) -> Result<Vec<usize>, NirError> {
        let v = self.ints(name)?;
        let p = format!("{}/{name}", self.path);
        if let Some(x) = v.iter().find(|&&x| !(1..=MAX_SIZE).contains(&x)) {
            return Err(format(&p, format_args!("dimension {x} is outside 1..={MAX_SIZE}")));
        }
        if v.iter().try_fold(1i64, |a, &d| a.checked_mul(d)).is_none_or(|n| n > MAX_SIZE) {
            return Err(format(&p, format_args!("{v:?} holds more than {MAX_SIZE} values")));
        }
        Ok(v.iter().map(|&x| x as usize).collect())
    }
}

fn read_node(g: &hdf5_pure::Group, path: &str, depth: usize) -> Result<Node, NirError> {
    let f = Fields { g, path, present: names(g.datasets(), path)? };
    let ty = f.string("type")?;
    let a = |n: &str| f.array(n);
    let reset = |th: &Array| -> Result<Array, NirError> {
        Ok(f.opt_array("v_reset")?.unwrap_or(Array { shape: th.shape.clone(), data: vec![0.0; th.len()] }))
    };
    Ok(match ty.as_str() {
        "NIRGraph" => Node::Graph(read_graph(g, path, depth + 1)?),
        "Input" => Node::Input { shape: f.shape("shape")? },
        "Output" => Node::Output { shape: f.shape("shape")? },
        "Affine" => Node::Affine { weight: a("weight")?, bias: a("bias")? },
        "Linear" => Node::Linear { weight: a("weight")? },
        "Scale" => Node::Scale { scale: a("scale")? },
        "LIF" => {
            let v_threshold = a("v_threshold")?;
            Node::Lif { tau: a("tau")?, r: a("r")?, v_leak: a("v_leak")?, v_reset: reset(&v_threshold)?, v_threshold }
        }
        "CubaLIF" => {
            let v_threshold = a("v_threshold")?;
            let w_in = match f.opt_array("w_in")? {
                Some(w) => w,
                None => Array { shape: v_threshold.shape.clone(), data: vec![1.0; v_threshold.len()] },
            };
            Node::CubaLif {
                tau_syn: a("tau_syn")?,
                tau_mem: a("tau_mem")?,
                r: a("r")?,
                v_leak: a("v_leak")?,
                v_reset: reset(&v_threshold)?,
                v_threshold,
                w_in,
            }
        }
        "IF" => {
            let v_threshold = a("v_threshold")?;
            Node::If { r: a("r")?, v_reset: reset(&v_threshold)?, v_threshold }
        }
        "LI" => Node::Li { tau: a("tau")?, r: a("r")?, v_leak: a("v_leak")? },
        "I" => Node::Integrator { r: a("r")? },
        "Threshold" => Node::Threshold { threshold: a("threshold")? },
        "Delay" => Node::Delay { delay: a("delay")? },
        "Flatten" => {
            let one = |n: &str| -> Result<i64, NirError> {
                match f.ints(n)?[..] {
                    [x] => Ok(x),
                    _ => Err(format(&format!("{path}/{n}"), "expected one number")),
                }
            };
            let input_shape = if f.has("input_type") { Some(f.shape("input_type")?) } else { None };
            Node::Flatten { start_dim: one("start_dim")?, end_dim: one("end_dim")?, input_shape }
        }
        "Conv1d" | "Conv2d" => {
            let dims = if ty == "Conv1d" { 1 } else { 2 };
            let weight = a("weight")?;
            if weight.shape.len() != dims + 2 {
                return Err(format(
                    &format!("{path}/weight"),
                    format_args!("shape {:?}, expected {} dimensions", weight.shape, dims + 2),
                ));
            }
            let padding = if f.is_string("padding")? {
                match f.string("padding")?.as_str() {
                    "same" => Padding::Same,
                    "valid" => Padding::Valid,
                    other => return Err(format(&format!("{path}/padding"), format_args!("`{other}`"))),
                }
            } else {
                Padding::Explicit(f.sizes("padding", dims)?)
            };
            let groups = match f.ints("groups")?[..] {
                [g] if (1..=MAX_SIZE).contains(&g) => g as usize,
                _ => return Err(format(&format!("{path}/groups"), "expected one positive number")),
            };
            let input_shape = if f.has("input_shape") { Some(f.shape("input_shape")?) } else { None };
            Node::Conv {
                bias: a("bias")?,
                stride: f.sizes("stride", dims)?,
                dilation: f.sizes("dilation", dims)?,
                padding,
                groups,
                input_shape,
                weight,
            }
        }
        "SumPool2d" | "AvgPool2d" => Node::Pool {
            average: ty == "AvgPool2d",
            kernel: f.sizes("kernel_size", 2)?,
            stride: f.sizes("stride", 2)?,
            padding: f.sizes("padding", 2)?,
        },
        _ => Node::Other(ty),
    })
}

/// Writes a graph as the `nir` package lays it out (`version` `1.0.8`,
/// the newest layout this reader was checked against). Values are `f64`,
/// so that every fixed-point value of fpnna is written exactly.
pub fn write(graph: &Graph) -> Result<Vec<u8>, NirError> {
    let mut b = FileBuilder::new();
    b.create_dataset("version").with_vlen_strings(&["1.0.8"]).with_shape(&[]);
    let mut node = b.create_group("node");
    write_graph(&mut node, graph)?;
    b.add_group(node.finish());
    b.finish().map_err(|e| format("/", format_args!("cannot write HDF5: {e}")))
}

fn write_graph(g: &mut GroupBuilder, graph: &Graph) -> Result<(), NirError> {
    g.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
    let mut nodes = g.create_group("nodes");
    for (name, node) in &graph.nodes {
        let mut ng = nodes.create_group(name);
        write_node(&mut ng, name, node)?;
        nodes.add_group(ng.finish());
    }
    g.add_group(nodes.finish());
    let flat: Vec<&str> = graph.edges.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    g.create_dataset("edges").with_vlen_strings(&flat).with_shape(&[graph.edges.len() as u64, 2]);
    Ok(())
}

fn put(g: &mut GroupBuilder, name: &str, a: &Array) {
    let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    g.create_dataset(name).with_f64_data(&a.data).with_shape(&shape);
}

fn write_node(g: &mut GroupBuilder, name: &str, node: &Node) -> Result<(), NirError> {
    if let Node::Graph(inner) = node {
        return write_graph(g, inner);
    }
    g.create_dataset("type").with_vlen_strings(&[node.type_name()]).with_shape(&[]);
    match node {
        Node::Input { shape } | Node::Output { shape } => {
            let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            g.create_dataset("shape").with_i64_data(&s);
        }
        Node::Affine { weight, bias } => {
            put(g, "weight", weight);
            put(g, "bias", bias);
        }
        Node::Linear { weight } => put(g, "weight", weight),
        Node::Lif { tau, r, v_leak, v_threshold, v_reset } => {
            for (n, a) in
                [("tau", tau), ("r", r), ("v_leak", v_leak), ("v_threshold", v_threshold), ("v_reset", v_reset)]
            {
                put(g, n, a);
            }
        }
        Node::CubaLif { tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in } => {
            for (n, a) in [
                ("tau_syn", tau_syn),
                ("tau_mem", tau_mem),
                ("r", r),
                ("v_leak", v_leak),
                ("v_threshold", v_threshold),
                ("v_reset", v_reset),
                ("w_in", w_in),
            ] {
                put(g, n, a);
            }
        }
        Node::If { r, v_threshold, v_reset } => {
            for (n, a) in [("r", r), ("v_threshold", v_threshold), ("v_reset", v_reset)] {
                put(g, n, a);
            }
        }
        Node::Delay { delay } => put(g, "delay", delay),
        other => {
            return Err(NirError::Node {
                node: name.to_string(),
                what: format!("writing a {} node is not implemented", other.type_name()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let mut g = Graph::default();
        g.nodes.insert("in".into(), Node::Input { shape: vec![2] });
        g.nodes.insert(
            "fc".into(),
            Node::Linear { weight: Array { shape: vec![3, 2], data: vec![1.0, -0.5, 0.25, 0.0, 2.0, 1.0 / 65536.0] } },
        );
        let v = |x: f64| Array::vector(vec![x; 3]);
        g.nodes.insert(
            "lif".into(),
            Node::Lif { tau: v(0.004), r: v(4.0), v_leak: v(0.0), v_threshold: v(1.0), v_reset: v(0.0) },
        );
        g.nodes.insert("out".into(), Node::Output { shape: vec![3] });
        g.edges = vec![("in".into(), "fc".into()), ("fc".into(), "lif".into()), ("lif".into(), "out".into())];
        g
    }

    #[test]
    fn a_written_graph_reads_back_equal_and_writes_the_same_bytes_again() {
        let bytes = write(&graph()).unwrap();
        assert_eq!(read(&bytes).unwrap(), graph());
        assert_eq!(write(&graph()).unwrap(), bytes);
    }

    #[test]
    fn malformed_files_are_errors_with_a_path() {
        let bytes = write(&graph()).unwrap();
        assert!(matches!(read(b"not hdf5"), Err(NirError::Format { .. })));
        for cut in [8, 100, bytes.len() / 2, bytes.len() - 1] {
            let e = read(&bytes[..cut]).unwrap_err();
            assert!(e.to_string().starts_with('/'), "{e}");
        }
    }
}

#[cfg(test)]
mod mutations {
    /// Every 53rd byte of an h5py-written fixture flipped, one at a time,
    /// and every prefix length in steps of 401: read and import return (an
    /// error or a network), never panic. The fuzz target `nir_read` does
    /// this at random; this is the fixed sweep the test suite runs.
    #[test]
    fn flipped_bytes_and_truncations_of_an_h5py_file_never_panic() {
        let bytes = include_bytes!("../../../tests/fixtures/nir/nested.nir");
        let try_one = |b: &[u8]| {
            if let Ok(g) = super::read(b) {
                let _ = crate::import(&g, "m", 1.0);
            }
        };
        let mut ok = 0;
        for k in (0..bytes.len()).step_by(53) {
            let mut b = bytes.to_vec();
            b[k] ^= 0xA5;
            ok += usize::from(super::read(&b).is_ok());
            try_one(&b);
        }
        for n in (0..bytes.len()).step_by(401) {
            try_one(&bytes[..n]);
        }
        // Most of the file is padding that no reader looks at.
        assert!(ok > 0);
    }
}
