//! The step loop: tile phases (possibly on threads), sources, delivery into
//! the array's arrival ring, the mesh's cycle model, statistics.

use crate::bank::add_in;
use crate::build::{Built, SentRows, SrcKind, send_groups};
use crate::stats::{MinMeanMax, Stats};
use crate::tile::{Arrival, Ctx, RING};
use crate::{EmuError, Observer, RunResult, StepView};
use rayon::prelude::*;

impl Built {
    /// Checks a stimulus and turns it into sorted, deduplicated
    /// (absolute step, source).
    pub fn check_stimulus(&self, steps: u64, stimulus: &[(u64, u32)]) -> Result<Vec<(u64, u32)>, EmuError> {
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
                Some(s) if self.src_kind[s] == SrcKind::Input => out.push((self.now + step, s as u32)),
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

    /// Groups the rows due at step `t` by tile (keeping their queue order)
    /// into `due` and `due_start`, and empties their slot.
    fn group_arrivals(&mut self, t: u64) {
        let slot = &mut self.arrivals[(t % RING) as usize];
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

    /// Delivers a spike of source `s` sent at step `t` (with `pre`): its
    /// rows read when sent are counted at their due steps and their nodes
    /// added into those steps' input slots; the others are queued.
    #[inline]
    fn send(&mut self, s: u32, t: u64, packets_in: &mut [u64]) {
        let nt = self.tiles.len();
        let (a, b) = (self.send_start[s as usize] as usize, self.send_start[s as usize + 1] as usize);
        for g in send_groups(&self.send[a..b]) {
            let slot = ((t + g.delay) % RING) as usize;
            for &e in g.entries {
                let e = SentRows(e);
                let tile = e.tile();
                packets_in[tile as usize] += u64::from(e.first());
                let count = &mut self.pre_count[slot * nt + tile as usize];
                // Noted in any case (a slot has room for one more than every
                // tile), kept when the tile is new to the slot.
                let len = &mut self.pre_touched_len[slot];
                self.pre_touched[slot * (nt + 1) + *len] = tile;
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
        let (a, b) = (self.queued_start[s as usize] as usize, self.queued_start[s as usize + 1] as usize);
        for q in &self.queued[a..b] {
            packets_in[q.tile as usize] += u64::from(q.first);
            self.arrivals[((t + u64::from(q.delay)) % RING) as usize].push((q.tile, Arrival::of_delivered(q.row)));
        }
    }

    /// The row (of its tile) an arrival names.
    pub(crate) fn arrival_row(&self, a: Arrival) -> u32 {
        match a.delivered() {
            Some(i) => self.deliver_rows[i as usize].row,
            None => a.tile_row(),
        }
    }

    pub fn run(
        &mut self,
        steps: u64,
        stim: &[(u64, u32)],
        observer: &mut dyn Observer,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<RunResult, EmuError> {
        let first = self.now;
        self.net.max_load = 0;
        let start_act: Vec<_> = self.tiles.iter().map(|t| t.act.clone()).collect();
        let mut st = Stats { steps, ..Stats::default() };
        let (mut cmin, mut cmax) = (u64::MAX, 0u64);
        let mut spikes_out = Vec::new();
        let (mut srcs, mut keys): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        let mut si = 0;
        let rows_per_cycle = u64::from(self.arch.timing.rows_per_cycle.max(1));
        // Cycles to read `rows` rows (a table for the counts a tile can
        // have in a step: a division is slow).
        let rows_max = self.tiles.iter().map(|t| t.row_delay.len()).max().unwrap_or(0);
        let reads: Vec<u64> = (0..=rows_max as u64).map(|r| r.div_ceil(rows_per_cycle)).collect();
        let reads_of = |rows: u32| match reads.get(rows as usize) {
            Some(&r) => r,
            None => u64::from(rows).div_ceil(rows_per_cycle),
        };
        let barrier = u64::from(self.arch.timing.barrier_cycles);
        let columns: u64 = self.tiles.iter().map(|t| t.col_key.len() as u64).sum();
        let noisy_nv = self.dev.noisy_reads();
        // Packets each tile received in this run (a small array that stays
        // in cache, added to the tiles' activity at the end).
        let mut packets_in = vec![0u64; self.tiles.len()];
        let mut fired = Vec::new();
        // Per tile, this step's rows read when sent, and this run's rows,
        // synaptic events and busy cycles (added to the tiles at the end).
        let nt = self.tiles.len();
        let (mut step_rows, mut run_rows, mut run_syn, mut run_busy) =
            (vec![0u64; nt], vec![0u64; nt], vec![0u64; nt], vec![0u64; nt]);
        let update_cycles: Vec<u64> = self.tiles.iter().map(|t| t.update_cycles).collect();
        let mut busy = Vec::new();
        let want_load = observer.wants_link_load();
        let mut failed = None;
        for _ in 0..steps {
            let t = self.now;
            self.group_arrivals(t);
            let ctx = Ctx {
                due: &self.due,
                due_start: &self.due_start,
                deliver_rows: &self.deliver_rows,
                deliver_node_start: &self.deliver_node_start,
                deliver_nodes: &self.deliver_nodes,
                seed: self.seed,
                read_noise: self.dev.read_noise,
                // Time since programming, in timesteps: step t ends at t + 1.
                drift: if self.dev.drift_nu > 0.0 { ((t + 1) as f64).powf(-self.dev.drift_nu) } else { 1.0 },
                noisy_nv,
                c2c: self.dev.c2c_noise,
            };
            // (a) + (b): the tiles with rows due read them into their
            // columns' inputs (rows added when their spike was sent are
            // counted here, at their due step).
            busy.clear();
            let ring = !self.due.is_empty();
            let due_start = &self.due_start;
            let queued = |ti: usize| ring && due_start[ti] < due_start[ti + 1];
            if ring {
                busy.extend((0..nt as u32).filter(|&ti| queued(ti as usize)));
            }
            // Tile cycles: row reads then neuron updates, tiles in parallel
            // (the update cycles of every tile are added at the end).
            let mut tile_cycles = self.max_update_cycles;
            let rs = (t % RING) as usize;
            let touched = std::mem::take(&mut self.pre_touched_len[rs]);
            for &ti in &self.pre_touched[rs * (nt + 1)..][..touched] {
                let (rows, nodes) = std::mem::take(&mut self.pre_count[rs * nt + ti as usize]);
                let ti = ti as usize;
                if queued(ti) {
                    step_rows[ti] = u64::from(rows);
                } else {
                    let reads = reads_of(rows);
                    run_busy[ti] += reads;
                    tile_cycles = tile_cycles.max(reads + update_cycles[ti]);
                }
                run_rows[ti] += u64::from(rows);
                run_syn[ti] += u64::from(nodes);
                st.row_reads += u64::from(rows);
                st.synaptic_events += u64::from(nodes);
            }
            let (input, carry) = self.bank.slot(t);
            if ring {
                if let Some(pool) = pool {
                    let mut work = Vec::new();
                    let mut input = &mut input[..];
                    for (ti, tile) in self.tiles.iter_mut().enumerate() {
                        let (mine, rest) = input.split_at_mut(tile.col_key.len());
                        input = rest;
                        if queued(ti) {
                            work.push((ti, tile, mine));
                        }
                    }
                    pool.install(|| {
                        work.into_par_iter().for_each(|(ti, tile, input)| tile.read_rows(ti, t, &ctx, input))
                    });
                } else {
                    for &ti in &busy {
                        let tile = &mut self.tiles[ti as usize];
                        let lo = tile.col_lo as usize;
                        tile.read_rows(ti as usize, t, &ctx, &mut input[lo..lo + tile.col_key.len()]);
                    }
                }
            }

            // The tiles that read queued rows (and maybe rows read when sent).
            for &ti in &busy {
                let ti = ti as usize;
                let tile = &mut self.tiles[ti];
                let rows = std::mem::take(&mut step_rows[ti]) + tile.rows_read;
                st.row_reads += tile.rows_read;
                st.synaptic_events += tile.syn;
                st.node_writes += tile.writes;
                carry.append(&mut tile.carry);
                (tile.rows_read, tile.syn, tile.writes) = (0, 0, 0);
                let reads = rows.div_ceil(rows_per_cycle);
                run_busy[ti] += reads;
                tile_cycles = tile_cycles.max(reads + update_cycles[ti]);
            }

            // (c) + (d): every neuron; (e): the fired ones' STDP inputs.
            fired.clear();
            self.bank.update(t, &mut fired, pool);
            srcs.clear();
            for &c in &fired {
                let ti = self.bank.col_tile[c as usize] as usize;
                let tile = &mut self.tiles[ti];
                st.node_writes += tile.fired(c as usize - tile.col_lo as usize, t);
                srcs.push(self.bank.col_source[c as usize]);
            }
            st.neuron_spikes += fired.len() as u64;
            st.neuron_updates += columns;

            // (f) sources of this step.
            for &(s, ch, g) in &self.gens {
                if g.fires(ch, t) {
                    srcs.push(s);
                }
            }
            while si < stim.len() && stim[si].0 == t {
                srcs.push(stim[si].1);
                si += 1;
            }
            srcs.sort_unstable();
            // Read a word of every cache line of each source's send stream
            // and tree now: their first touch is a cache miss, and these
            // independent loads let the misses overlap instead of waiting
            // one by one inside the sends (a software prefetch in safe
            // code: CUBA's run phase about 4 ms faster).
            let mut touch = 0u32;
            for &s in &srcs {
                if self.pre {
                    let a = self.send_start[s as usize] as usize;
                    let b = self.send_start[s as usize + 1] as usize;
                    for i in (a..b).step_by(16) {
                        touch ^= self.send[i];
                    }
                }
                touch ^= self.net.touch(s);
            }
            std::hint::black_box(touch);
            keys.clear();
            if self.pre {
                self.sent[rs].clone_from(&srcs);
            }
            for &s in &srcs {
                let key = self.src_key[s as usize];
                keys.push(key);
                if self.recorded[s as usize] {
                    spikes_out.push((t - first, key));
                }
                if self.pre {
                    self.send(s, t, &mut packets_in);
                    st.synaptic_events_sent += self.sent_nodes[s as usize];
                    continue;
                }
                let (lo, hi) = (self.deliver_start[s as usize] as usize, self.deliver_start[s as usize + 1] as usize);
                for d in &self.deliver[lo..hi] {
                    packets_in[d.tile as usize] += 1;
                    st.synaptic_events_sent += u64::from(d.nodes);
                    for i in d.lo..d.hi {
                        let slot = ((t + u64::from(self.deliver_rows[i as usize].delay)) % RING) as usize;
                        self.arrivals[slot].push((d.tile, Arrival::of_delivered(i)));
                    }
                }
            }
            st.spikes += srcs.len() as u64;

            let ns = self.net.step(t, &srcs, want_load);
            st.packets += ns.packets;
            st.hops += ns.hops;
            st.deliveries += ns.deliveries;
            st.stall_cycles += ns.stall;
            let cycles = tile_cycles + ns.cycles + barrier;
            cmin = cmin.min(cycles);
            cmax = cmax.max(cycles);
            st.cycles_total += cycles;
            let view = StepView {
                step: t,
                cycle_start: self.cycle_now,
                cycles,
                spikes: &keys,
                link_load: &self.net.load,
                emu: self,
            };
            let observed = observer.step(&view);
            self.cycle_now += cycles;
            self.now += 1;
            if let Err(e) = observed {
                failed = Some(e);
                break;
            }
        }
        // The run's per-tile totals (also when an observer failed: the
        // steps before were run).
        for (ti, tile) in self.tiles.iter_mut().enumerate() {
            tile.act.busy_cycles += (self.now - first) * tile.update_cycles + run_busy[ti];
            tile.act.packets_in += packets_in[ti];
            tile.act.row_reads += run_rows[ti];
            tile.act.synaptic_events += run_syn[ti];
        }
        if let Some(e) = failed {
            return Err(e.into());
        }

        st.cycles_per_step = MinMeanMax {
            min: if steps == 0 { 0 } else { cmin },
            mean: if steps == 0 { 0.0 } else { st.cycles_total as f64 / steps as f64 },
            max: cmax,
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
        Ok(RunResult { first_step: first, spikes: spikes_out, stats: st })
    }
}
