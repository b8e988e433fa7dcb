//! `fpnna plot`: bad inputs are refused with the file and the place, exit
//! 1, and no output file; a picture of an example is written.

mod common;
use common::{fpnna, stderr};

#[test]
fn plot_errors_name_the_file_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(d("bad.csv"), "step,population,index\n0,a,1\n2,a,x\n").unwrap();
    let o = fpnna(&["plot", "raster", &d("bad.csv"), "-o", &d("r.svg")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.csv:3: index `x` is not a whole number"), "{}", stderr(&o));
    assert!(!dir.path().join("r.svg").exists());

    let src = "examples/stdp/stdp.fpn";
    let o = fpnna(&["compile", src, "-o", &d("s.fpb")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fpnna(&["plot", "weights", &d("s.fpb"), "--projection", "learner -> pattern", "-o", &d("w.svg")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no projection `learner -> pattern` (projections: `pattern -> learner`"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("w.svg").exists());

    let o = fpnna(&["plot", "weights", &d("s.fpb"), "--projection", "pattern->learner", "-o", &d("w.svg")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(dir.path().join("w.svg")).unwrap().starts_with("<svg"));
}
