//! The step loop: tile phases (possibly on threads), sources, delivery into
//! the array's arrival ring, the mesh's cycle model, statistics. `Built::run`
//! drives one method per phase; what a run adds up is in `RunAcc`, the
//! cycle model's constants in `Timing`, the buffers reused from step to step
//! in `Scratch`.

use crate::bank::add_in;
use crate::build::{ArrivalRing, Built, SentRows, SrcKind, send_groups};
use crate::stats::TileActivity;
use crate::stats::{EventCounts, MinMeanMax, Stats};
use crate::tile::{Arrival, Ctx, RING};
use crate::{Checkpoint, EmuError, Observer, RunProgress, RunResult, StepView};
use rayon::prelude::*;

impl Built {
    /// Checks the stimulus of a run of `steps` steps from step `first` and
    /// turns it into sorted, deduplicated (absolute step, source).
    pub fn check_stimulus_from(
        &self,
        first: u64,
        steps: u64,
        stimulus: &[(u64, u32)],
    ) -> Result<Vec<(u64, u32)>, EmuError> {
        let mut out = Vec::with_capacity(stimulus.len());
        for (n, &(step, key)) in stimulus.iter().enumerate() {
            let err = |why: String| EmuError::Stimulus { n, step, key, why };
            if step >= steps {
                return Err(err(if steps == 0 {
                    "the run has no steps".into()
                } else {
                    format!("beyond the last step {} of the run", steps - 1)
                }));
            }
            match self.source(key) {
                Some(s) if self.src.kind[s] == SrcKind::Input => out.push((first + step, s as u32)),
                _ => {
                    let what = match self.name_of(key) {
                        Some((name, i)) => format!("`{name}[{i}]`"),
                        None => "it".into(),
                    };
                    let inputs: Vec<&str> = self
                        .ports
                        .iter()
                        .filter(|p| p.kind == fpnna_bitstream::PortKind::Input)
                        .map(|p| p.name.as_str())
                        .collect();
                    return Err(err(format!(
                        "{what} is not a channel of an input port (input ports: {})",
                        if inputs.is_empty() { "none".to_string() } else { inputs.join(", ") }
                    )));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// The cycle model's constants for a run.
struct Timing {
    rows_per_cycle: u64,
    /// Cycles to read `rows` rows (a table for the counts a tile can have
    /// in a step: a division is slow).
    reads: Vec<u64>,
    barrier: u64,
    /// Columns of all tiles (neuron updates per step).
    columns: u64,
    /// Each tile's neuron update, cycles.
    update_cycles: Vec<u64>,
    noisy_nv: bool,
}

impl Timing {
    fn new(b: &Built) -> Timing {
        let rows_per_cycle = u64::from(b.arch.timing.rows_per_cycle.max(1));
        let rows_max = b.tiles.iter().map(|t| t.row_delay.len()).max().unwrap_or(0);
        Timing {
            rows_per_cycle,
            reads: (0..=rows_max as u64).map(|r| r.div_ceil(rows_per_cycle)).collect(),
            barrier: u64::from(b.arch.timing.barrier_cycles),
            columns: b.tiles.iter().map(|t| t.col_key.len() as u64).sum(),
            update_cycles: b.tiles.iter().map(|t| t.update_cycles).collect(),
            noisy_nv: b.dev.noisy_reads(),
        }
    }

    /// Cycles to read `rows` rows.
    #[inline]
    fn reads_of(&self, rows: u32) -> u64 {
        match self.reads.get(rows as usize) {
            Some(&r) => r,
            None => u64::from(rows).div_ceil(self.rows_per_cycle),
        }
    }
}

/// What a run adds up: its statistics, and per tile what is added to the
/// tiles' activity at the end (small arrays that stay in cache).
struct RunAcc {
    st: Stats,
    /// Fewest and most cycles of a step.
    cmin: u64,
    cmax: u64,
    /// Packets each tile received.
    packets_in: Vec<u64>,
    /// This step's rows read when sent of a tile that also reads queued rows.
    step_rows: Vec<u64>,
    /// Rows, synaptic events and busy cycles of the rows read when sent.
    run_rows: Vec<u64>,
    run_syn: Vec<u64>,
    run_busy: Vec<u64>,
    /// The energy counts at the end of the last step (for the per-step series).
    last: EventCounts,
    last_spikes: u64,
}

impl RunAcc {
    fn new(steps: u64, nt: usize) -> RunAcc {
        RunAcc {
            st: Stats { steps, ..Stats::default() },
            cmin: u64::MAX,
            cmax: 0,
            packets_in: vec![0; nt],
            step_rows: vec![0; nt],
            run_rows: vec![0; nt],
            run_syn: vec![0; nt],
            run_busy: vec![0; nt],
            last: EventCounts::default(),
            last_spikes: 0,
        }
    }
}

/// Buffers reused from step to step.
/// Whether a run keeps its recorded spikes for its [`RunResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// In `RunResult::spikes`.
    Spikes,
    /// Only shown to the observer (`StepView::recorded`), step by step.
    Nothing,
}

#[derive(Default)]
struct Scratch {
    /// Tiles with rows due.
    busy: Vec<u32>,
    /// Columns that fired.
    fired: Vec<u32>,
    /// Sources that spiked, sorted, and their keys.
    srcs: Vec<u32>,
    keys: Vec<u32>,
    /// The keys of the recorded ones among them.
    recorded: Vec<u32>,
}

impl ArrivalRing {
    /// Groups the rows due at step `t` by tile (keeping their queue order)
    /// into `due` and `due_start`, and empties their slot.
    fn group(&mut self, t: u64) {
        let slot = &mut self.slots[(t % RING) as usize];
        if slot.is_empty() && self.due.is_empty() {
            return;
        }
        let start = &mut self.due_start;
        start.iter_mut().for_each(|s| *s = 0);
        for &(ti, _) in slot.iter() {
            start[ti as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        self.due.clear();
        self.due.resize(slot.len(), Arrival::of_delivered(0));
        // Fill from the back of each tile's range, walking the slot backwards.
        for &(ti, r) in slot.iter().rev() {
            let end = &mut start[ti as usize + 1];
            *end -= 1;
            self.due[*end as usize] = r;
        }
        // Now start[i + 1] == start of tile i: shift back into place.
        start.rotate_left(1);
        let n = start.len();
        start[n - 1] = slot.len() as u32;
        slot.clear();
    }
}

impl Built {
    /// Delivers a spike of source `s` sent at step `t` (with `pre`): its
    /// rows read when sent are counted at their due steps and their nodes
    /// added into those steps' input slots; the others are queued.
    #[inline]
    fn send(&mut self, s: u32, t: u64, packets_in: &mut [u64]) {
        let nt = self.tiles.len();
        let st = &self.streams;
        let p = &mut self.pre_slots;
        let (a, b) = (st.send_start[s as usize] as usize, st.send_start[s as usize + 1] as usize);
        for g in send_groups(&st.send[a..b]) {
            let slot = ((t + g.delay) % RING) as usize;
            for &e in g.entries {
                let e = SentRows(e);
                let tile = e.tile();
                packets_in[tile as usize] += u64::from(e.first());
                let count = &mut p.count[slot * nt + tile as usize];
                // Noted in any case (a slot has room for one more than every
                // tile), kept when the tile is new to the slot.
                let len = &mut p.touched_len[slot];
                p.touched[slot * (nt + 1) + *len] = tile;
                // (A tile's first entry in a group counts at least one row.)
                *len += usize::from(count.0 == 0);
                count.0 += e.rows();
                count.1 += e.nodes();
            }
            let (input, carry) = self.bank.slot(t + g.delay);
            for p in g.nodes.chunks_exact(2) {
                add_in(input, carry, p[0] as usize, p[0], p[1] as i32);
            }
        }
        let (a, b) = (st.queued_start[s as usize] as usize, st.queued_start[s as usize + 1] as usize);
        for q in &st.queued[a..b] {
            packets_in[q.tile as usize] += u64::from(q.first);
            self.ring.push(t + u64::from(q.delay), q.tile, Arrival::of_delivered(q.row));
        }
    }

    /// Delivers a spike of source `s` sent at step `t` (without `pre`):
    /// every row it selects is queued.
    #[inline]
    fn deliver(&mut self, s: u32, t: u64, acc: &mut RunAcc) {
        let (lo, hi) = (self.deliver_start[s as usize] as usize, self.deliver_start[s as usize + 1] as usize);
        for d in &self.deliver[lo..hi] {
            acc.packets_in[d.tile as usize] += 1;
            acc.st.synaptic_events_sent += u64::from(d.nodes);
            for i in d.lo..d.hi {
                self.ring.push(t + u64::from(self.deliver_rows[i as usize].delay), d.tile, Arrival::of_delivered(i));
            }
        }
    }

    /// The row (of its tile) an arrival names.
    pub(crate) fn arrival_row(&self, a: Arrival) -> u32 {
        match a.delivered() {
            Some(i) => self.deliver_rows[i as usize].row,
            None => a.tile_row(),
        }
    }

    /// Runs `steps` steps (`stim` checked), or, with `resume`, the rest of
    /// the run a checkpoint was taken of (its state already loaded).
    pub fn run(
        &mut self,
        steps: u64,
        stim: &[(u64, u32)],
        observer: &mut dyn Observer,
        pool: Option<&rayon::ThreadPool>,
        keep: Keep,
        resume: Option<RunProgress>,
    ) -> Result<RunResult, EmuError> {
        let (first, mut acc, start_act) = match resume {
            Some(p) => self.resume_acc(p),
            None => {
                self.net.max_load = 0;
                let start_act = self.tiles.iter().map(|t| t.act.clone()).collect();
                (self.clock.now, RunAcc::new(steps, self.tiles.len()), start_act)
            }
        };
        let timing = Timing::new(self);
        let mut sc = Scratch::default();
        let mut spikes_out = Vec::new();
        let mut si = stim.partition_point(|&(t, _)| t < self.clock.now);
        let want_load = observer.wants_link_load();
        let every = observer.checkpoint_every();
        let mut failed = None;
        while self.clock.now - first < steps {
            let t = self.clock.now;
            let tile_cycles = self.tile_phase(t, &timing, &mut acc, &mut sc.busy, pool);
            self.neuron_phase(t, &timing, &mut acc, &mut sc, pool);
            self.source_phase(t, stim, &mut si, &mut sc.srcs);
            self.prefetch(&sc.srcs);
            self.spike_phase(t, &mut acc, &sc.srcs, &mut sc.keys, &mut sc.recorded);
            if keep == Keep::Spikes {
                spikes_out.extend(sc.recorded.iter().map(|&k| (t - first, k)));
            }
            let cycles = self.mesh_phase(t, &sc.srcs, want_load, tile_cycles + timing.barrier, &mut acc);
            self.end_step(self.clock.now - first, cycles, &mut acc);
            let view = StepView {
                step: t,
                cycle_start: self.clock.cycle,
                cycles,
                spikes: &sc.keys,
                recorded: &sc.recorded,
                link_load: &self.net.load,
                emu: self,
            };
            let mut observed = observer.step(&view);
            self.clock.cycle += cycles;
            self.clock.now += 1;
            let done = self.clock.now - first;
            if observed.is_ok() && every > 0 && done.is_multiple_of(every) && done < steps {
                observed = observer.checkpoint(&self.checkpoint(first, &acc, &start_act));
            }
            if let Err(e) = observed {
                failed = Some(e);
                break;
            }
        }
        // The run's per-tile totals (also when an observer failed: the
        // steps before were run).
        self.add_to_tiles(self.clock.now - first, &acc);
        if let Some(e) = failed {
            return Err(e.into());
        }
        let stats = self.run_stats(steps, acc, start_act);
        Ok(RunResult { first_step: first, spikes: spikes_out, stats })
    }

    /// Where a run from step `first` stands now (`acc`, `start_act`).
    fn checkpoint(&self, first: u64, acc: &RunAcc, start_act: &[TileActivity]) -> Checkpoint {
        let progress = RunProgress {
            first,
            steps: acc.st.steps,
            done: self.clock.now - first,
            stats: acc.st.clone(),
            cmin: acc.cmin,
            cmax: acc.cmax,
            max_load: self.net.max_load,
            packets_in: acc.packets_in.clone(),
            run_rows: acc.run_rows.clone(),
            run_syn: acc.run_syn.clone(),
            run_busy: acc.run_busy.clone(),
            start_act: start_act.to_vec(),
            act: self.tiles.iter().map(|t| t.act.clone()).collect(),
        };
        Checkpoint { state: self.save_state(), progress }
    }

    /// The accumulators of a run resumed from `p` (the tiles' activity and
    /// the link maximum put back): its first step, its sums, the tiles'
    /// activity when it started.
    fn resume_acc(&mut self, p: RunProgress) -> (u64, RunAcc, Vec<TileActivity>) {
        self.net.max_load = p.max_load;
        for (t, a) in self.tiles.iter_mut().zip(p.act) {
            t.act = a;
        }
        let nt = self.tiles.len();
        let acc = RunAcc {
            last: EventCounts::of(&p.stats),
            last_spikes: p.stats.spikes,
            st: p.stats,
            cmin: p.cmin,
            cmax: p.cmax,
            packets_in: p.packets_in,
            step_rows: vec![0; nt],
            run_rows: p.run_rows,
            run_syn: p.run_syn,
            run_busy: p.run_busy,
        };
        (p.first, acc, p.start_act)
    }

    /// Phases (a) + (b) of step `t`: the tiles with rows due read them into
    /// their columns' inputs (rows added when their spike was sent are
    /// counted here, at their due step). Returns the slowest tile's cycles:
    /// row reads then neuron updates, tiles in parallel (the update cycles
    /// of every tile are added at the end).
    fn tile_phase(
        &mut self,
        t: u64,
        k: &Timing,
        acc: &mut RunAcc,
        busy: &mut Vec<u32>,
        pool: Option<&rayon::ThreadPool>,
    ) -> u64 {
        self.ring.group(t);
        busy.clear();
        let ring = !self.ring.due.is_empty();
        if ring {
            busy.extend((0..self.tiles.len() as u32).filter(|&ti| self.ring.has_due(ti as usize)));
        }
        let sent = self.count_sent_rows(t, k, acc);
        if ring {
            self.read_due(t, k, busy, pool);
        }
        let read = self.collect_reads(t, k, acc, busy);
        self.max_update_cycles.max(sent).max(read)
    }

    /// The rows read when sent that are due at step `t`: counted, and the
    /// cycles of the tiles that read nothing else (a tile that also has
    /// rows due reads them together, `collect_reads`). Returns the slowest
    /// of those tiles' cycles.
    fn count_sent_rows(&mut self, t: u64, k: &Timing, acc: &mut RunAcc) -> u64 {
        let nt = self.tiles.len();
        let rs = (t % RING) as usize;
        let p = &mut self.pre_slots;
        let touched = std::mem::take(&mut p.touched_len[rs]);
        let mut cycles = 0;
        for &ti in &p.touched[rs * (nt + 1)..][..touched] {
            let (rows, nodes) = std::mem::take(&mut p.count[rs * nt + ti as usize]);
            let ti = ti as usize;
            if self.ring.has_due(ti) {
                acc.step_rows[ti] = u64::from(rows);
            } else {
                let reads = k.reads_of(rows);
                acc.run_busy[ti] += reads;
                cycles = cycles.max(reads + k.update_cycles[ti]);
            }
            acc.run_rows[ti] += u64::from(rows);
            acc.run_syn[ti] += u64::from(nodes);
            acc.st.row_reads += u64::from(rows);
            acc.st.synaptic_events += u64::from(nodes);
        }
        cycles
    }

    /// The tiles `busy` read their rows due at step `t` (on the pool's
    /// threads, when there is one).
    fn read_due(&mut self, t: u64, k: &Timing, busy: &[u32], pool: Option<&rayon::ThreadPool>) {
        let ctx = Ctx {
            due: &self.ring.due,
            due_start: &self.ring.due_start,
            deliver_rows: &self.deliver_rows,
            deliver_node_start: &self.deliver_node_start,
            deliver_nodes: &self.deliver_nodes,
            seed: self.seed,
            read_noise: self.dev.read_noise,
            // Time since programming, in timesteps: step t ends at t + 1.
            drift: if self.dev.drift_nu > 0.0 { ((t + 1) as f64).powf(-self.dev.drift_nu) } else { 1.0 },
            noisy_nv: k.noisy_nv,
            c2c: self.dev.c2c_noise,
        };
        let (input, _) = self.bank.slot(t);
        if let Some(pool) = pool {
            let mut work = Vec::new();
            let mut input = &mut input[..];
            for (ti, tile) in self.tiles.iter_mut().enumerate() {
                let (mine, rest) = input.split_at_mut(tile.col_key.len());
                input = rest;
                if self.ring.has_due(ti) {
                    work.push((ti, tile, mine));
                }
            }
            pool.install(|| work.into_par_iter().for_each(|(ti, tile, input)| tile.read_rows(ti, t, &ctx, input)));
        } else {
            for &ti in busy {
                let tile = &mut self.tiles[ti as usize];
                let lo = tile.col_lo as usize;
                tile.read_rows(ti as usize, t, &ctx, &mut input[lo..lo + tile.col_key.len()]);
            }
        }
    }

    /// The tiles `busy` that read rows due at step `t` (and maybe rows read
    /// when sent): their counts, their input wraps handed to the bank, their
    /// cycles. Returns the slowest one's.
    fn collect_reads(&mut self, t: u64, k: &Timing, acc: &mut RunAcc, busy: &[u32]) -> u64 {
        let (_, carry) = self.bank.slot(t);
        let mut cycles = 0;
        for &ti in busy {
            let ti = ti as usize;
            let tile = &mut self.tiles[ti];
            let rows = std::mem::take(&mut acc.step_rows[ti]) + tile.rows_read;
            acc.st.row_reads += tile.rows_read;
            acc.st.synaptic_events += tile.syn;
            acc.st.node_writes += tile.writes;
            carry.append(&mut tile.carry);
            (tile.rows_read, tile.syn, tile.writes) = (0, 0, 0);
            let reads = rows.div_ceil(k.rows_per_cycle);
            acc.run_busy[ti] += reads;
            cycles = cycles.max(reads + k.update_cycles[ti]);
        }
        cycles
    }

    /// Phases (c) + (d) of step `t`: every neuron; (e): the fired ones'
    /// STDP inputs. Their sources start `sc.srcs`.
    fn neuron_phase(
        &mut self,
        t: u64,
        k: &Timing,
        acc: &mut RunAcc,
        sc: &mut Scratch,
        pool: Option<&rayon::ThreadPool>,
    ) {
        sc.fired.clear();
        self.bank.update(t, &mut sc.fired, pool);
        sc.srcs.clear();
        for &c in &sc.fired {
            let ti = self.bank.col_tile[c as usize] as usize;
            let tile = &mut self.tiles[ti];
            acc.st.node_writes += tile.fired(c as usize - tile.col_lo as usize, t);
            sc.srcs.push(self.bank.col_source[c as usize]);
        }
        acc.st.neuron_spikes += sc.fired.len() as u64;
        acc.st.neuron_updates += k.columns;
    }

    /// Phase (f): the generators and stimulus spikes (`stim[*si..]`) of step
    /// `t` join `srcs`, which is then sorted.
    fn source_phase(&self, t: u64, stim: &[(u64, u32)], si: &mut usize, srcs: &mut Vec<u32>) {
        for &(s, ch, g) in &self.src.gens {
            if g.fires(ch, t) {
                srcs.push(s);
            }
        }
        while *si < stim.len() && stim[*si].0 == t {
            srcs.push(stim[*si].1);
            *si += 1;
        }
        srcs.sort_unstable();
    }

    /// Reads a word of every cache line of each source's send stream and
    /// tree now: their first touch is a cache miss, and these independent
    /// loads let the misses overlap instead of waiting one by one inside
    /// the sends (a software prefetch in safe code: CUBA's run phase about
    /// 4 ms faster).
    fn prefetch(&self, srcs: &[u32]) {
        let mut touch = 0u32;
        for &s in srcs {
            if self.pre {
                let a = self.streams.send_start[s as usize] as usize;
                let b = self.streams.send_start[s as usize + 1] as usize;
                for i in (a..b).step_by(16) {
                    touch ^= self.streams.send[i];
                }
            }
            touch ^= self.net.touch(s);
        }
        std::hint::black_box(touch);
    }

    /// The spikes of step `t` (sources `srcs`): their keys, the keys of the
    /// recorded ones, and what each delivers.
    fn spike_phase(&mut self, t: u64, acc: &mut RunAcc, srcs: &[u32], keys: &mut Vec<u32>, recorded: &mut Vec<u32>) {
        keys.clear();
        recorded.clear();
        if self.pre {
            let sent = &mut self.pre_slots.sent[(t % RING) as usize];
            sent.clear();
            sent.extend_from_slice(srcs);
        }
        for &s in srcs {
            let key = self.src.key[s as usize];
            keys.push(key);
            if self.src.recorded[s as usize] {
                recorded.push(key);
            }
            if self.pre {
                self.send(s, t, &mut acc.packets_in);
                acc.st.synaptic_events_sent += self.streams.sent_nodes[s as usize];
            } else {
                self.deliver(s, t, acc);
            }
        }
        acc.st.spikes += srcs.len() as u64;
    }

    /// The mesh's cycle model of step `t`'s packets (sources `srcs`).
    /// Returns the step's cycles: `other_cycles` (tiles and barrier) and
    /// the mesh's.
    fn mesh_phase(&mut self, t: u64, srcs: &[u32], want_load: bool, other_cycles: u64, acc: &mut RunAcc) -> u64 {
        let ns = self.net.step(t, srcs, want_load);
        let st = &mut acc.st;
        st.packets += ns.packets;
        st.hops += ns.hops;
        st.deliveries += ns.deliveries;
        st.stall_cycles += ns.stall;
        let cycles = other_cycles + ns.cycles;
        acc.cmin = acc.cmin.min(cycles);
        acc.cmax = acc.cmax.max(cycles);
        st.cycles_total += cycles;
        cycles
    }

    /// Adds step `i` of the run (`cycles` long) to its series (the counts
    /// since the previous step's).
    fn end_step(&self, i: u64, cycles: u64, acc: &mut RunAcc) {
        let now = EventCounts::of(&acc.st);
        let d = now.since(&acc.last);
        let spikes = acc.st.spikes - acc.last_spikes;
        acc.st.per_step.record(i, cycles, spikes, d.synaptic_events(), d.energy_pj(&self.arch, cycles));
        acc.last = now;
        acc.last_spikes = acc.st.spikes;
    }

    /// Adds a run of `steps_run` steps (`acc`) to the tiles' activity.
    fn add_to_tiles(&mut self, steps_run: u64, acc: &RunAcc) {
        for (ti, tile) in self.tiles.iter_mut().enumerate() {
            tile.act.busy_cycles += steps_run * tile.update_cycles + acc.run_busy[ti];
            tile.act.packets_in += acc.packets_in[ti];
            tile.act.row_reads += acc.run_rows[ti];
            tile.act.synaptic_events += acc.run_syn[ti];
        }
    }

    /// The statistics of a run of `steps` steps, from its accumulators and
    /// the tiles' activity before it (`start_act`).
    fn run_stats(&self, steps: u64, acc: RunAcc, start_act: Vec<TileActivity>) -> Stats {
        let mut st = acc.st;
        st.cycles_per_step = MinMeanMax {
            min: if steps == 0 { 0 } else { acc.cmin },
            mean: if steps == 0 { 0.0 } else { st.cycles_total as f64 / steps as f64 },
            max: acc.cmax,
        };
        st.time_us = st.cycles_total as f64 / self.arch.timing.clock_mhz;
        st.max_link_packets_per_step = self.net.max_load;
        st.config_cycles = self.config.config_cycles;
        st.config_energy_pj = self.config.config_energy_pj;
        st.config = self.config.clone();
        st.devices = Some(self.dev.clone());
        st.tiles = self
            .tiles
            .iter()
            .zip(start_act)
            .map(|(t, a)| {
                let mut d = t.act.clone();
                d.spikes -= a.spikes;
                d.row_reads -= a.row_reads;
                d.synaptic_events -= a.synaptic_events;
                d.packets_in -= a.packets_in;
                d.node_writes -= a.node_writes;
                d.busy_cycles -= a.busy_cycles;
                d
            })
            .collect();
        st.route_faults = self.faults.iter().map(|f| f.to_string()).collect();
        st.compute_energy(&self.arch);
        st
    }
}
