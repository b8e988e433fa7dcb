//! NumPy files and streams at the command line: weights from `.npy`,
//! `.npz` and whitespace tables, stimulus and spikes as `.npz`, `-` as
//! standard output, FIFOs written in place, per-population summaries.

mod common;
use common::*;
use std::path::Path;

const GATE_STIMULUS: &str = "examples/and_gate/stimulus.csv";

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// An `.npy` of `values` (given in C order, shape [rows, cols]) stored in `order`.
fn npy<T: npyz::AutoSerialize + Copy>(rows: usize, cols: usize, values: &[T], order: npyz::Order) -> Vec<u8> {
    use npyz::WriterBuilder;
    let stored: Vec<T> = match order {
        npyz::Order::C => values.to_vec(),
        npyz::Order::Fortran => (0..cols).flat_map(|c| (0..rows).map(move |r| values[r * cols + c])).collect(),
    };
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(&[rows as u64, cols as u64])
        .order(order)
        .writer(&mut out)
        .begin_nd()
        .unwrap();
    w.extend(stored).unwrap();
    w.finish().unwrap();
    out
}

/// A network whose dense weights come from `weights` (a file name beside it).
fn weighted(dir: &Path, weights: &str) -> String {
    let src = dir.join(format!("n_{}.fpn", weights.replace(['.', ':'], "_")));
    std::fs::write(
        &src,
        format!(
            "network n {{ source s[3] : poisson {{ rate = 300, seed = 2 }}; population p[2] : if {{ threshold = 2 }};\n\
             connect s -> p : dense(\"{weights}\"); output p; }}\n"
        ),
    )
    .unwrap();
    s(&src)
}

fn sim_spikes(src: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["sim", src, "--steps", "200", "--spikes", "-"];
    args.extend(extra);
    let out = fpnna(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    (String::from_utf8(out.stdout.clone()).unwrap(), stderr(&out))
}

#[test]
fn npy_weights_in_float64_c_and_int32_fortran_order_make_the_csv_network() {
    let tmp = tempdir();
    let d = tmp.path();
    let w = [1.0f64, 0.0, 2.0, 1.0, 0.0, 3.0];
    std::fs::write(d.join("w.csv"), "a,b\n1,0\n2,1\n0,3\n").unwrap();
    std::fs::write(d.join("w.txt"), "# np.savetxt\n1.0e+00 0.0e+00\n2.0e+00 1.0e+00\n0.0e+00 3.0e+00\n").unwrap();
    std::fs::write(d.join("c.npy"), npy(3, 2, &w, npyz::Order::C)).unwrap();
    let ints: Vec<i32> = w.iter().map(|&x| x as i32).collect();
    std::fs::write(d.join("f.npy"), npy(3, 2, &ints, npyz::Order::Fortran)).unwrap();
    let mut z = fpnna_data::NpzWriter::default();
    z.add_u8("w", 3, 2, |r, row| row.iter_mut().enumerate().for_each(|(c, x)| *x = w[r * 2 + c] as u8)).unwrap();
    z.add_u8("other", 1, 1, |_, _| {}).unwrap();
    std::fs::write(d.join("w.npz"), z.finish().unwrap()).unwrap();
    let (csv, _) = sim_spikes(&weighted(d, "w.csv"), &[]);
    assert!(csv.lines().count() > 10, "the network should spike: {csv}");
    for other in ["c.npy", "f.npy", "w.txt", "w.npz:w"] {
        assert_eq!(sim_spikes(&weighted(d, other), &[]).0, csv, "{other}");
    }
    // The transpose is another network: the order is read, not ignored.
    let swapped: Vec<i32> = vec![0, 1, 1, 2, 3, 0];
    std::fs::write(d.join("t.npy"), npy(3, 2, &swapped, npyz::Order::Fortran)).unwrap();
    assert_ne!(sim_spikes(&weighted(d, "t.npy"), &[]).0, csv);
    // An archive of two arrays needs the name.
    let out = fpnna(&["check", &weighted(d, "w.npz")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("holds 2 arrays (other, w)"), "{}", stderr(&out));
}

#[test]
fn a_malformed_number_in_line_one_is_located_not_taken_for_a_header() {
    let tmp = tempdir();
    std::fs::write(tmp.path().join("w.csv"), "1,NaN\n2,1\n0,3\n").unwrap();
    let out = fpnna(&["check", &weighted(tmp.path(), "w.csv")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("w.csv: line 1, column 2: `NaN` is not a finite number"), "{}", stderr(&out));
    std::fs::write(tmp.path().join("w.npy"), npy(3, 2, &[1.0, f64::INFINITY, 2.0, 1.0, 0.0, 3.0], npyz::Order::C))
        .unwrap();
    let out = fpnna(&["check", &weighted(tmp.path(), "w.npy")]);
    assert!(stderr(&out).contains("w.npy: element [0, 1]: inf is not a finite number"), "{}", stderr(&out));
}

#[test]
fn npz_and_npy_stimulus_give_the_csv_spikes() {
    let tmp = tempdir();
    let (csv, _) = sim_spikes(GATE, &["--stimulus", GATE_STIMULUS]);
    assert!(csv.lines().count() > 1);
    // The CSV stimulus as one [steps, 1] array per port.
    let text = std::fs::read_to_string(GATE_STIMULUS).unwrap();
    let steps_of = |port: &str| -> Vec<usize> {
        text.lines()
            .skip(1)
            .filter(|l| l.split(',').nth(1) == Some(port))
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect()
    };
    let mut z = fpnna_data::NpzWriter::default();
    for port in ["a", "b"] {
        let steps = steps_of(port);
        z.add_u8(port, 200, 1, |r, row| row[0] = u8::from(steps.contains(&r))).unwrap();
    }
    let npz = tmp.path().join("stim.npz");
    std::fs::write(&npz, z.finish().unwrap()).unwrap();
    assert_eq!(sim_spikes(GATE, &["--stimulus", &s(&npz)]).0, csv);
    // From standard input too (recognised by its magic).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fpnna"))
        .args(["sim", GATE, "--steps", "200", "--stimulus", "-", "--spikes", "-"])
        .current_dir(root())
        .stdin(std::fs::File::open(&npz).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), csv, "{}", stderr(&out));
    // An .npy needs exactly one input port; wrong names and values are named.
    let one = tmp.path().join("a.npy");
    std::fs::write(&one, npy(200, 1, &[0u8; 200], npyz::Order::C)).unwrap();
    let out = fpnna(&["sim", GATE, "--steps", "200", "--stimulus", &s(&one)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("feeds the only input port, but there are 2 (input ports: a, b)"),
        "{}",
        stderr(&out)
    );
    let mut z = fpnna_data::NpzWriter::default();
    z.add_u8("a", 10, 1, |r, row| row[0] = if r == 3 { 2 } else { 0 }).unwrap();
    z.add_u8("c", 10, 1, |_, _| {}).unwrap();
    let bad = tmp.path().join("bad.npz");
    std::fs::write(&bad, z.finish().unwrap()).unwrap();
    let out = fpnna(&["sim", GATE, "--steps", "200", "--stimulus", &s(&bad)]);
    assert!(stderr(&out).contains("bad.npz:a: element [3, 0]: 2: a stimulus holds 0"), "{}", stderr(&out));
}

#[test]
fn spikes_as_npz_hold_one_count_array_per_population() {
    let tmp = tempdir();
    let (csv, _) = sim_spikes(GATE, &["--stimulus", GATE_STIMULUS]);
    let npz = tmp.path().join("out.npz");
    let out = fpnna(&["sim", GATE, "--steps", "200", "--stimulus", GATE_STIMULUS, "--spikes", &s(&npz)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let arrays = fpnna_data::npz_arrays("out.npz", &std::fs::read(&npz).unwrap()).unwrap();
    assert_eq!(arrays.len(), 1);
    let (name, y) = &arrays[0];
    assert_eq!((name.as_str(), y.shape.clone()), ("y", vec![200, 1]));
    let want: Vec<usize> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    let got: Vec<usize> = (0..200).filter(|&t| y.values[t] == 1.0).collect();
    assert_eq!(got, want);
    assert_eq!(y.values.iter().sum::<f64>(), want.len() as f64);
    // Same run, same bytes.
    let again = tmp.path().join("again.npz");
    fpnna_ok(&["sim", GATE, "--steps", "200", "--stimulus", GATE_STIMULUS, "--spikes", &s(&again)].map(String::from));
    assert_eq!(std::fs::read(&npz).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn dash_is_standard_output_and_summaries_go_to_stderr() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let file = tmp.path().join("o.csv");
    let run = |spikes: &str| {
        let out =
            fpnna(&["run", &s(&fpb), "--steps", "60", "--ideal", "--stimulus", GATE_STIMULUS, "--spikes", spikes]);
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    let out = run("-");
    assert!(!tmp.path().join("-").exists(), "wrote a file named `-`");
    run(&s(&file));
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), std::fs::read_to_string(&file).unwrap());
    assert!(String::from_utf8(out.stdout.clone()).unwrap().starts_with("step,population,index\n26,y,0\n"));
    // The summary names each recorded population with its count and rate.
    let err = stderr(&out);
    let y = err.lines().find(|l| l.starts_with("y ")).unwrap_or_else(|| panic!("no `y` row in {err}"));
    let n = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
    assert!(y.split_whitespace().eq(["y", "1", &n.to_string(), &format!("{:.3}", n as f64 / 0.06)]), "{y}");
    let (_, sim_err) = sim_spikes(GATE, &["--stimulus", GATE_STIMULUS]);
    for pop in ["a ", "b ", "y "] {
        assert!(sim_err.lines().any(|l| l.starts_with(pop)), "sim summary lacks `{pop}`: {sim_err}");
    }
    // Two outputs cannot share standard output.
    let out = fpnna(&["run", &s(&fpb), "--steps", "6", "--spikes", "-", "--stats", "-"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // A bitstream piped from `compile -o -` runs.
    let compiled = fpnna(&["compile", GATE, "-o", "-"]);
    assert_eq!(compiled.stdout, std::fs::read(&fpb).unwrap());
}

#[test]
fn a_fifo_is_written_in_place_not_renamed_over() {
    let tmp = tempdir();
    let fifo = tmp.path().join("spikes.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = fpnna(&["sim", GATE, "--steps", "200", "--stimulus", GATE_STIMULUS, "--spikes", &s(&fifo)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = reader.join().unwrap();
    assert_eq!(read, sim_spikes(GATE, &["--stimulus", GATE_STIMULUS]).0);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "a temporary was left behind");
}

#[test]
fn a_source_on_standard_input_compiles_as_its_file_and_is_named_in_errors() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let piped = |args: &[&str], text: &[u8]| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fpnna"))
            .args(args)
            .current_dir(root().join("examples/and_gate"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text).unwrap();
        child.wait_with_output().unwrap()
    };
    let source = std::fs::read(root().join(GATE)).unwrap();
    let out = piped(&["compile", "-", "-o", "-"], &source);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, std::fs::read(&fpb).unwrap(), "`compile -` differs from compiling the file");
    // Errors point into "standard input", at the line and column.
    let out = piped(&["check", "-"], b"network { bad }\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("standard input:1:9"), "{}", stderr(&out));
    let out = piped(&["check", "-"], b"network n { \xff }\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("standard input: not UTF-8 text (invalid byte at offset 12)"), "{}", stderr(&out));
}
