//! Checkpoints: a run resumed from any of its checkpoints (through JSON,
//! as the command line keeps them) ends exactly as the uninterrupted run:
//! the same spikes, statistics, waveforms and final state.

use fpnna_emu::{
    Checkpoint, DeviceOverrides, EmuOptions, Emulator, Observer, StepView, VcdObserver, VcdOptions, VcdProgress,
};
use fpnna_testkit::emu::emulator;
use fpnna_testkit::hand::{busy, busy_stim};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

const STEPS: u64 = 200;

/// Non-ideal devices (noise drawn per step and node), on `threads`.
fn noisy(threads: usize) -> EmuOptions {
    EmuOptions {
        ideal: false,
        seed: 9,
        threads,
        devices: DeviceOverrides { read_noise: Some(0.05), program_error: Some(0.03), ..DeviceOverrides::default() },
        chip: None,
    }
}

/// A shared byte buffer (the VCD's file).
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a checkpoint leaves: its JSON, the VCD's progress and length.
type Taken = (String, VcdProgress, usize);

/// A VCD observer that keeps every checkpoint it is given.
struct Keeper {
    vcd: VcdObserver<Buf>,
    buf: Buf,
    every: u64,
    spikes: Vec<(u64, u32)>,
    taken: Vec<Taken>,
}

impl Observer for Keeper {
    fn step(&mut self, v: &StepView<'_>) -> std::io::Result<()> {
        self.spikes.extend(v.recorded.iter().map(|&k| (v.step, k)));
        self.vcd.step(v)
    }
    fn checkpoint_every(&self) -> u64 {
        self.every
    }
    fn checkpoint(&mut self, cp: &Checkpoint) -> std::io::Result<()> {
        let json = serde_json::to_string(cp).unwrap();
        let progress = self.vcd.progress()?;
        self.taken.push((json, progress, self.buf.0.borrow().len()));
        Ok(())
    }
}

/// The VCD options of the test: two traced neurons, a window.
fn vcd_options(emu: &Emulator) -> VcdOptions {
    let trace = vec![emu.select("p0[0..2]").unwrap(), emu.select("p3[1]").unwrap()];
    VcdOptions { trace, window: Some(10..190), ..VcdOptions::default() }
}

/// What a whole run leaves: spikes, stats JSON, VCD, final state JSON and
/// its checkpoints.
type Whole = (Vec<(u64, u32)>, String, Vec<u8>, String, Vec<Taken>);

/// Runs the whole busy network with a checkpoint every `every` steps.
fn whole(opts: EmuOptions, every: u64) -> Whole {
    let (bs, inp) = busy();
    let mut emu = emulator(&bs, opts).unwrap();
    let buf = Buf::default();
    let vcd = VcdObserver::new(buf.clone(), &emu, &vcd_options(&emu)).unwrap();
    let mut k = Keeper { vcd, buf: buf.clone(), every, spikes: Vec::new(), taken: Vec::new() };
    let r = emu.run_streamed(STEPS, &busy_stim(inp, STEPS), &mut k).unwrap();
    let Keeper { vcd, spikes, taken, .. } = k;
    vcd.finish().unwrap();
    let vcd = buf.0.borrow().clone();
    (spikes, serde_json::to_string(&r.stats).unwrap(), vcd, emu.save_state().to_json(), taken)
}

#[test]
fn a_run_resumed_from_any_checkpoint_ends_as_the_whole_run() {
    for threads in [1, 2] {
        let (spikes, stats, vcd, state, taken) = whole(noisy(threads), 30);
        // Checkpoints after steps 30, 60, ..., 180; none after the last.
        assert_eq!(taken.len(), 6);
        assert!(!spikes.is_empty() && vcd.len() > 1000);
        let (bs, inp) = busy();
        for (n, (json, progress, len)) in taken.iter().enumerate() {
            let cp: Checkpoint = serde_json::from_str(json).unwrap();
            assert_eq!(cp.progress.done, 30 * (n as u64 + 1));
            let mut emu = emulator(&bs, noisy(threads)).unwrap();
            let buf = Buf(Rc::new(RefCell::new(vcd[..*len].to_vec())));
            let opts = vcd_options(&emu);
            let vcd_obs = VcdObserver::resume(buf.clone(), &emu, &opts, progress).unwrap();
            let before: Vec<(u64, u32)> = spikes.iter().copied().filter(|s| s.0 < cp.progress.done).collect();
            let mut k = Keeper { vcd: vcd_obs, buf: buf.clone(), every: 30, spikes: before, taken: Vec::new() };
            let r = emu.resume(&cp, &busy_stim(inp, STEPS), &mut k).unwrap();
            let Keeper { vcd: vcd_obs, spikes: resumed, taken: again, .. } = k;
            vcd_obs.finish().unwrap();
            let at = format!("threads {threads}, checkpoint {n}");
            assert_eq!(resumed, spikes, "{at}");
            assert_eq!(serde_json::to_string(&r.stats).unwrap(), stats, "{at}");
            assert_eq!(*buf.0.borrow(), vcd, "{at}");
            assert_eq!(emu.save_state().to_json(), state, "{at}");
            // The resumed run checkpoints on, at the same steps.
            assert_eq!(again.len(), taken.len() - n - 1, "{at}");
            assert_eq!(r.stats.steps, STEPS);
        }
    }
}

#[test]
fn a_checkpoint_that_does_not_fit_is_refused() {
    let (_, _, _, _, taken) = whole(noisy(1), 50);
    let mut cp: Checkpoint = serde_json::from_str(&taken[0].0).unwrap();
    let (bs, inp) = busy();
    let mut emu = emulator(&bs, noisy(1)).unwrap();
    cp.progress.done += 1;
    let e = emu.resume(&cp, &busy_stim(inp, STEPS), &mut fpnna_emu::NullObserver).unwrap_err();
    assert!(e.to_string().contains("does not fit its state"), "{e}");
    cp.progress.done -= 1;
    // A series that does not cover the steps done: an entry short, or
    // entries of 2 steps where one each is due.
    for edit in [
        |p: &mut serde_json::Value| drop(p["cycles"].as_array_mut().unwrap().pop()),
        |p: &mut serde_json::Value| p["steps_per_entry"] = 2.into(),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&taken[0].0).unwrap();
        edit(&mut v["progress"]["stats"]["per_step"]);
        let cp: Checkpoint = serde_json::from_value(v).unwrap();
        let e = emu.resume(&cp, &busy_stim(inp, STEPS), &mut fpnna_emu::NullObserver).unwrap_err();
        assert!(e.to_string().contains("does not fit its state"), "{e}");
    }
    cp = serde_json::from_str(&taken[0].0).unwrap();
    cp.state.fingerprint ^= 1;
    let e = emu.resume(&cp, &busy_stim(inp, STEPS), &mut fpnna_emu::NullObserver).unwrap_err();
    assert!(e.to_string().contains("another configuration"), "{e}");
}

/// Keeps the JSON of every checkpoint (no VCD).
struct Checkpoints {
    every: u64,
    taken: Vec<String>,
}

impl Observer for Checkpoints {
    fn step(&mut self, _: &StepView<'_>) -> std::io::Result<()> {
        Ok(())
    }
    fn checkpoint_every(&self) -> u64 {
        self.every
    }
    fn checkpoint(&mut self, cp: &Checkpoint) -> std::io::Result<()> {
        self.taken.push(serde_json::to_string(cp).unwrap());
        Ok(())
    }
}

#[test]
fn a_long_run_keeps_a_bounded_series_and_resumes_to_the_same_one() {
    // Beyond two fills of the series: entries of 4 steps at the end; the
    // checkpoints fall before the first merge, between and after.
    let steps = 2 * fpnna_emu::MAX_SERIES_ENTRIES as u64 + 101;
    let (bs, inp) = busy();
    let stim = busy_stim(inp, steps);
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let mut k = Checkpoints { every: 45_000, taken: Vec::new() };
    let r = emu.run_streamed(steps, &stim, &mut k).unwrap();
    let p = &r.stats.per_step;
    assert_eq!(p.steps_per_entry, 4);
    assert_eq!(p.cycles.len() as u64, steps.div_ceil(4));
    assert_eq!(p.entry_steps(p.cycles.len() - 1, steps), 1);
    assert_eq!(p.cycles.iter().sum::<u64>(), r.stats.cycles_total);
    assert_eq!(p.spikes.iter().sum::<u64>(), r.stats.spikes);
    assert_eq!(p.synaptic_events.iter().sum::<u64>(), r.stats.synaptic_events);
    assert!(r.stats.spikes > 0);
    let stats = serde_json::to_string(&r.stats).unwrap();
    assert!(stats.contains("\"steps_per_entry\":4"));
    assert_eq!(k.taken.len(), 2);
    for (n, json) in k.taken.iter().enumerate() {
        let cp: Checkpoint = serde_json::from_str(json).unwrap();
        let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
        let r = emu.resume(&cp, &stim, &mut fpnna_emu::NullObserver).unwrap();
        assert_eq!(serde_json::to_string(&r.stats).unwrap(), stats, "checkpoint {n}");
    }
}
