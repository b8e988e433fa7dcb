//! `fpnna import` and `fpnna export` (docs/nir.md): the fixtures of
//! tests/fixtures/nir (written by make_fixtures.py with the pinned `nir`
//! package) imported and checked against the conversions, the errors,
//! the round trip, and every export read back by `nir.read`.

mod common;
use common::*;
use fpnna_ir::{Network, PopId, PopKind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FIX: &str = "tests/fixtures/nir";

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Imports a fixture into `dir`, returning the source path.
fn import(fixture: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("{}.fpn", fixture.trim_end_matches(".nir")));
    let mut args = vec!["import".to_string(), format!("{FIX}/{fixture}"), "-o".into(), s(&out)];
    args.extend(extra.iter().map(|a| a.to_string()));
    fpnna_ok(&args);
    out
}

fn load(path: &Path) -> Network {
    fpnna_dsl::load_file(path, &fpnna_dsl::Options { seed: 1 }).unwrap_or_else(|d| panic!("{:?}", d.reports()))
}

fn pop(net: &Network, name: &str) -> PopId {
    net.pop_by_name(name).unwrap_or_else(|| panic!("no population `{name}`"))
}

/// The synapses from `a` to `b` as (pre, post, weight in Q16, delay).
fn synapses(net: &Network, a: &str, b: &str) -> BTreeSet<(u32, u32, i32, u8)> {
    let (a, b) = (pop(net, a), pop(net, b));
    let mut out = BTreeSet::new();
    for (id, p) in net.projs() {
        if net.endpoints(id) == (a, b) {
            for k in 0..p.syn.len() {
                out.insert((p.syn.pre[k], p.syn.post[k], p.syn.weight[k], p.syn.delay[k]));
            }
        }
    }
    out
}

const ONE: i32 = 65536;

#[test]
fn lif_and_cubalif_convert_by_forward_euler() {
    let tmp = tempdir();
    let net = load(&import("lif_chain.nir", tmp.path(), &[]));
    let lif = net.pop(pop(&net, "lif1")).neurons().unwrap();
    // tau = 4 ms at dt = 1 ms: dt/tau = 1/4; r dt/tau = 1: weights as written.
    assert_eq!((lif.params[0].decay_v, lif.params[0].decay_i), (1024, 4096));
    // v > 1 in NIR is v >= 1 + 2^-16 in fixed point.
    assert_eq!(lif.params[0].threshold, ONE + 1);
    // The Affine's bias 0.125 on neuron 3, times the gain 1.
    assert_eq!(lif.params.iter().map(|p| p.bias).collect::<Vec<_>>(), vec![0, 0, 0, ONE / 8]);
    let cuba = net.pop(pop(&net, "cuba")).neurons().unwrap();
    assert_eq!((cuba.params[0].decay_v, cuba.params[0].decay_i), (512, 2048));
    assert_eq!(cuba.params[0].threshold, 3 * ONE / 4 + 1);
    let w1 = synapses(&net, "input_", "lif1");
    let want: BTreeSet<_> =
        [(0, 0, 3 * ONE / 2), (1, 1, 5 * ONE / 4), (2, 2, ONE / 2), (0, 3, ONE / 2), (1, 3, ONE / 2), (2, 3, ONE / 2)]
            .into_iter()
            .map(|(a, b, w)| (a, b, w, 1))
            .collect();
    assert_eq!(w1, want);
    // r w_in dt/tau_mem = 8 * 1/8 = 1: the Linear's weights, zeros dropped.
    let w2 = synapses(&net, "lif1", "cuba");
    assert!(w2.contains(&(3, 0, -ONE / 2, 1)) && w2.contains(&(2, 1, ONE / 4, 1)) && w2.len() == 6, "{w2:?}");
    assert!(net.pop(pop(&net, "cuba")).output && !net.pop(pop(&net, "lif1")).output);
}

#[test]
fn gzip_chunked_datasets_read_as_the_plain_ones() {
    let tmp = tempdir();
    let plain = load(&import("lif_chain.nir", tmp.path(), &[]));
    let gzip = load(&import("lif_chain_gzip.nir", tmp.path(), &[]));
    for (a, b) in [("input_", "lif1"), ("lif1", "cuba")] {
        assert_eq!(synapses(&plain, a, b), synapses(&gzip, a, b));
    }
    assert_eq!(
        plain.pop(pop(&plain, "lif1")).neurons().unwrap().params,
        gzip.pop(pop(&gzip, "lif1")).neurons().unwrap().params
    );
}

#[test]
fn convolutions_and_pools_unroll_into_synapses() {
    let tmp = tempdir();
    let net = load(&import("conv.nir", tmp.path(), &[]));
    // IF with r = 1000 at dt = 1 ms: gain 1.
    let c = synapses(&net, "input_", "if1");
    // Weight k of the 2x1x3x3 kernel is (k % 5) / 4 - 1/4. Output (0, 0, 0)
    // sees pixel (0, 0) through the kernel's centre (k = 4) and pixel (0, 1)
    // through (1, 2) (k = 5); output channel 1 at (1, 1) sees pixel (0, 0)
    // through (0, 0) (k = 9).
    assert!(c.contains(&(0, 0, 3 * ONE / 4, 1)), "{c:?}");
    assert!(c.contains(&(1, 0, -ONE / 4, 1)));
    assert!(c.contains(&(0, 16 + 5, 3 * ONE / 4, 1)));
    // 2 channels x 16 outputs, each the kernel's in-range taps (padding 1),
    // with the zero weights dropped.
    assert!(c.len() < 2 * 16 * 9 && c.len() > 2 * 4 * 4, "{}", c.len());
    // if1 -> if2: the 2x2 sum pool then fc (fc[o, i] = (8o + i) % 5 / 4 + 1/4)
    // plus the average pool then fc_avg ((8o + i) % 5 / 2, over 4).
    let p = synapses(&net, "if1", "if2");
    assert!(p.contains(&(0, 0, ONE / 4, 1)), "{p:?}");
    assert!(p.contains(&(0, 1, ONE + 3 * ONE / 8, 1)));
    // Neuron (c 0, y 1, x 1) pools into the same cell as (0, 0, 0).
    assert!(p.contains(&(5, 1, ONE + 3 * ONE / 8, 1)));
    assert_eq!(net.pop(pop(&net, "if1")).size, 32);
}

#[test]
fn conv1d_feeds_a_threshold_with_its_bias() {
    let tmp = tempdir();
    let net = load(&import("conv1d.nir", tmp.path(), &[]));
    let thr = net.pop(pop(&net, "thr")).neurons().unwrap();
    assert_eq!(thr.params.len(), 9);
    // The potential is the step's input: decay 1, and it fires above 0.5.
    assert_eq!((thr.params[0].decay_v, thr.params[0].threshold), (4096, ONE / 2 + 1));
    // Channel biases 0, 0.25, -0.25 over 3 positions each.
    let b: Vec<i32> = thr.params.iter().map(|p| p.bias).collect();
    assert_eq!(b, [0, 0, 0, ONE / 4, ONE / 4, ONE / 4, -ONE / 4, -ONE / 4, -ONE / 4]);
    // Stride 2, padding 1: output 1 of channel 0 is centred on input 2.
    let c = synapses(&net, "input_", "thr");
    let w = |k: i32| (k % 5) * ONE / 4;
    assert!(c.contains(&(2, 1, w(1), 1)) && c.contains(&(3, 1, w(2), 1)), "{c:?}");
    assert!(c.contains(&(5 + 2, 1, w(4), 1)));
}

#[test]
fn nested_graphs_scale_and_delay_inline() {
    let tmp = tempdir();
    let net = load(&import("nested.nir", tmp.path(), &[]));
    // Scale [2, 1] before the subgraph's Affine, its LIF's gain r dt/tau = 1.
    let a = synapses(&net, "input_", "block_lif");
    assert_eq!(a, [(0, 0, 2 * ONE, 1), (0, 1, ONE, 1), (1, 0, ONE / 2, 1), (1, 1, ONE, 1)].into_iter().collect());
    // A delay of 2 ms on neuron 0 is two steps on top of the synapse's one.
    assert_eq!(synapses(&net, "block_lif", "li"), [(0, 0, ONE, 3), (1, 0, ONE, 1)].into_iter().collect());
    let li = net.pop(pop(&net, "li")).neurons().unwrap();
    assert_eq!((li.params[0].decay_v, li.params[0].threshold), (1024, 32767 * ONE));
    let recorded: Vec<&str> = net.pops().filter(|(_, p)| p.output).map(|(_, p)| p.name.as_str()).collect();
    assert_eq!(recorded, ["block_lif", "integ", "li"]);
}

#[test]
fn dt_sets_the_decays_and_a_time_constant_below_it_is_refused() {
    let tmp = tempdir();
    let net = load(&import("lif_chain.nir", tmp.path(), &["--dt", "0.5"]));
    let lif = net.pop(pop(&net, "lif1")).neurons().unwrap();
    assert_eq!(lif.params[0].decay_v, 512);
    assert_eq!(synapses(&net, "input_", "lif1").first(), Some(&(0, 0, 3 * ONE / 4, 1)));
    let out = fpnna(&["import", &format!("{FIX}/lif_chain.nir"), "-o", &s(&tmp.path().join("x.fpn")), "--dt", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("node `cuba`: tau_syn"), "{}", stderr(&out));
}

#[test]
fn bad_files_are_refused_naming_the_file_and_node_and_write_nothing() {
    let tmp = tempdir();
    for (fixture, says) in [
        ("unsupported.nir", "node `cubali`: the NIR node type `CubaLI` is not supported"),
        ("mismatch.nir", "node `lif`: a population of 5 neurons receives 4 values from `fc`"),
        ("not_hdf5.nir", "not an HDF5 file"),
        ("missing.nir", "cannot read"),
    ] {
        let out = fpnna(&["import", &format!("{FIX}/{fixture}"), "-o", &s(&tmp.path().join("net.fpn"))]);
        assert_eq!(out.status.code(), Some(1), "{fixture}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(fixture) && err.contains(says), "{fixture}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "{fixture}: wrote something");
    }
    // A truncated HDF5 file.
    let bytes = std::fs::read(format!("{FIX}/lif_chain.nir")).unwrap();
    let cut = tmp.path().join("cut.nir");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = fpnna(&["import", &s(&cut), "-o", &s(&tmp.path().join("net.fpn"))]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cut.nir"), "{}", stderr(&out));
}

/// A network of every exportable kind: IF, LIF, CubaLIF, biases, per-neuron
/// thresholds, delays above one step.
const EXPORTABLE: &str = "network x {
    dt = 0.5;
    input a[3];
    population p[2] : if { threshold = [1.0, 1.5] };
    population q[2] : lif { tau_m = 4, threshold = 0.75, bias = 0.125 };
    population r[3] : lif { tau_m = 8, tau_syn = 2, threshold = 2 };
    connect a -> p : sparse([[0, 0, 0.5], [1, 1, 0.75, 3], [2, 0, -0.25]]);
    connect p -> q : all_to_all weight 0.625 delay 2;
    connect q -> r : dense([[1, 0, 0.5], [0, 2, 0]]);
    connect r -> r : one_to_one weight -0.5;
    output q, r;
}
";

fn same_network(a: &Network, b: &Network) {
    let names = |n: &Network| n.pops().map(|(_, p)| (p.name.clone(), p.size)).collect::<BTreeSet<_>>();
    assert_eq!(names(a), names(b));
    for (_, p) in a.pops() {
        let q = b.pop(pop(b, &p.name));
        assert_eq!(p.output, q.output, "{}", p.name);
        match (&p.kind, &q.kind) {
            (PopKind::Neurons(x), PopKind::Neurons(y)) => assert_eq!(x.params, y.params, "{}", p.name),
            (x, y) => assert_eq!(x, y),
        }
        for (_, r) in a.pops() {
            assert_eq!(synapses(a, &p.name, &r.name), synapses(b, &p.name, &r.name), "{} -> {}", p.name, r.name);
        }
    }
}

#[test]
fn export_then_import_gives_back_the_same_network() {
    let tmp = tempdir();
    let src = tmp.path().join("x.fpn");
    std::fs::write(&src, EXPORTABLE).unwrap();
    let nir = tmp.path().join("x.nir");
    fpnna_ok(&["export".into(), s(&src), "-o".into(), s(&nir)]);
    let again = tmp.path().join("again.nir");
    fpnna_ok(&["export".into(), s(&src), "-o".into(), s(&again)]);
    assert_eq!(std::fs::read(&nir).unwrap(), std::fs::read(&again).unwrap(), "export not reproducible");
    let back = tmp.path().join("back.fpn");
    fpnna_ok(&["import".into(), s(&nir), "-o".into(), s(&back), "--dt".into(), "0.5".into()]);
    let (orig, back) = (load(&src), load(&back));
    // Export names the port `a`; every population keeps its name.
    same_network(&orig, &back);
}

#[test]
fn what_nir_cannot_say_is_refused_on_export() {
    let tmp = tempdir();
    for (body, says) in [
        (
            "source g[2] : regular { period = 3 }; population p[2] : if {}; connect g -> p : one_to_one;",
            "`g`: NIR has no spike generators",
        ),
        ("population p[2] : lif { reset = subtract };", "`p`: neuron 0: reset = subtract"),
        ("input a[1]; population p[1] : if {}; connect a -> p : one_to_one volatile {};", "a volatile synapse"),
    ] {
        let src = tmp.path().join("y.fpn");
        std::fs::write(&src, format!("network y {{ {body} }}\n")).unwrap();
        let out = fpnna(&["export", &s(&src), "-o", &s(&tmp.path().join("y.nir"))]);
        assert_eq!(out.status.code(), Some(1), "{body}");
        assert!(stderr(&out).contains(says), "{body}: {}", stderr(&out));
        assert!(!tmp.path().join("y.nir").exists());
    }
}

/// Reads a NIR file with the reference package; returns what it printed.
fn nir_read(path: &Path) -> String {
    let script = "import sys, nir\n\
                  g = nir.read(sys.argv[1])\n\
                  for k in sorted(g.nodes): print(k, type(g.nodes[k]).__name__)\n\
                  print(len(g.edges), 'edges')\n";
    let out = std::process::Command::new("python3").args(["-c", script, &s(path)]).output().expect("python3");
    assert!(
        out.status.success(),
        "nir.read refused {} (pip install -r {FIX}/requirements.txt): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_nir_package_reads_every_export() {
    let tmp = tempdir();
    let src = tmp.path().join("x.fpn");
    std::fs::write(&src, EXPORTABLE).unwrap();
    let nir = tmp.path().join("x.nir");
    fpnna_ok(&["export".into(), s(&src), "-o".into(), s(&nir)]);
    let listing = nir_read(&nir);
    for line in ["a Input", "p IF", "q LIF", "r CubaLIF", "p_to_q_delay Delay", "q_to_r Linear", "r_output Output"] {
        assert!(listing.contains(line), "{line} missing from\n{listing}");
    }
    // A bitstream: the quantized network the hardware computes.
    let fpb = tmp.path().join("mlp.fpb");
    fpnna_ok(&["compile".into(), "examples/nir_mlp/nir_mlp.fpn".into(), "-o".into(), s(&fpb)]);
    let hw = tmp.path().join("hw.nir");
    fpnna_ok(&["export".into(), s(&fpb), "-o".into(), s(&hw)]);
    assert!(nir_read(&hw).contains("lif1 CubaLIF"));
}

#[test]
fn a_bitstream_exports_the_network_the_hardware_computes() {
    let tmp = tempdir();
    let t = |n: &str| tmp.path().join(n);
    let ex = "examples/nir_mlp";
    fpnna_ok(&["compile".into(), format!("{ex}/nir_mlp.fpn"), "-o".into(), s(&t("mlp.fpb"))]);
    fpnna_ok(&["export".into(), s(&t("mlp.fpb")), "-o".into(), s(&t("hw.nir"))]);
    fpnna_ok(&["import".into(), s(&t("hw.nir")), "-o".into(), s(&t("hw.fpn"))]);
    let run = ["--steps".to_string(), "40".into(), "--stimulus".into(), format!("{ex}/stimulus.csv")];
    let mut sim = vec!["sim".to_string(), format!("{ex}/nir_mlp.fpn"), "--spikes".into(), s(&t("a.csv"))];
    sim.extend(run.clone());
    fpnna_ok(&sim);
    let mut exact = vec!["sim".to_string(), s(&t("hw.fpn")), "--exact".into(), "--spikes".into(), s(&t("b.csv"))];
    exact.extend(run);
    fpnna_ok(&exact);
    let a = std::fs::read_to_string(t("a.csv")).unwrap();
    assert!(a.lines().count() > 10);
    assert_eq!(a, std::fs::read_to_string(t("b.csv")).unwrap());
}

#[test]
fn the_example_is_the_import_of_its_nir_file() {
    let tmp = tempdir();
    let out = tmp.path().join("nir_mlp.fpn");
    fpnna_ok(&["import".into(), "examples/nir_mlp/nir_mlp.nir".into(), "-o".into(), s(&out)]);
    for e in std::fs::read_dir(tmp.path()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let committed = std::fs::read_to_string(root().join("examples/nir_mlp").join(&name)).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), committed, "{name} differs from the import");
    }
}
