//! Chooses the chunk index's sizes (BENCHMARKS.md "Chunk index"): for
//! each candidate (min, avg, max), the chunking and BLAKE3 cost and the index's size on
//! random data, and how much of a new build a differential fetch reuses from an old one.
//!
//! ```text
//! cargo run --release --example chunk_sizes -- speed [MIB]      # default 1024 MiB, 3 rounds
//! cargo run --release --example chunk_sizes -- reuse OLD NEW    # a real pair of builds
//! cargo run --release --example chunk_sizes -- split FILE DIR [ROUNDS]
//! ```
//!
//! `speed` pushes a random buffer through [`voxctl::chunks::Chunker`] in 64 KiB slices (what
//! `split` feeds it) and hashes every chunk, timing this thread's CPU time (not wall time, so
//! other load on a shared machine matters less); the best of 3 rounds is printed. `reuse`
//! indexes both files with each candidate and counts the bytes of NEW in chunks whose BLAKE3
//! some chunk of OLD has: what a fetch copies instead of downloading. "download" is the rest
//! plus the index itself, as a share of NEW. `split` runs [`voxctl::split::split`] of FILE
//! into DIR (deleted and `sync`ed before each run, FILE read into the page cache) without an
//! index and with each of 16K/32K/64K averages (min avg/4 and avg/2), interleaved, for ROUNDS
//! rounds (default 3), and prints each run's wall and CPU time (user + system, all threads)
//! and the median wall ratio to the same round's run without an index.

use std::collections::HashSet;
use std::time::Instant;

use voxctl::chunks::{hash, Chunker, Params};

/// The candidates: `with_avg` (min avg/4, max 4 avg) at 8, 16, 32 and 64 KiB, and min avg/2.
fn candidates() -> Vec<Params> {
    let mut out = Vec::new();
    for avg in [8u32 << 10, 16 << 10, 32 << 10, 64 << 10] {
        out.push(Params::with_avg(avg).unwrap());
        out.push(Params {
            min: avg / 2,
            ..Params::with_avg(avg).unwrap()
        });
    }
    out
}

fn label(p: Params) -> String {
    format!("{}K/{}K/{}K", p.min >> 10, p.avg >> 10, p.max >> 10)
}

/// This thread's CPU time in seconds.
fn thread_cpu() -> f64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).expect("clock");
    t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9
}

/// Each chunk's (offset, len, BLAKE3) of `data`, fed in 64 KiB slices.
fn index(data: &[u8], p: Params, hashed: bool) -> Vec<(u64, u32, [u8; 32])> {
    let mut out = Vec::new();
    let mut chunker = Chunker::new(p);
    let mut each = |offset: u64, bytes: &[u8]| {
        let h = if hashed { hash(bytes) } else { [0; 32] };
        out.push((offset, bytes.len() as u32, h));
        Ok(())
    };
    for slice in data.chunks(64 << 10) {
        chunker.push(slice, &mut each).unwrap();
    }
    chunker.finish(&mut each).unwrap();
    out
}

fn speed(mib: usize) {
    let mut data = vec![0u8; mib << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for c in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
    }
    let gb = data.len() as f64 / 1e9;
    println!(
        "{:<14} {:>9} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "min/avg/max",
        "chunks",
        "mean KiB",
        "index %",
        "chunker GB/s",
        "+BLAKE3 GB/s",
        "CPU s/2 GiB"
    );
    for p in candidates() {
        let (mut chunk_s, mut both_s, mut count) = (f64::MAX, f64::MAX, 0);
        for _ in 0..3 {
            let t = thread_cpu();
            count = index(&data, p, false).len();
            chunk_s = chunk_s.min(thread_cpu() - t);
            let t = thread_cpu();
            index(&data, p, true);
            both_s = both_s.min(thread_cpu() - t);
        }
        let index_bytes = 72 + 36 * count;
        println!(
            "{:<14} {count:>9} {:>10.1} {:>10.3} {:>12.2} {:>12.2} {:>12.2}",
            label(p),
            data.len() as f64 / count as f64 / 1024.0,
            index_bytes as f64 * 100.0 / data.len() as f64,
            gb / chunk_s,
            gb / both_s,
            both_s * (2u64 << 30) as f64 / data.len() as f64
        );
    }
}

fn reuse(old: &str, new: &str) {
    let old = std::fs::read(old).expect("OLD");
    let new = std::fs::read(new).expect("NEW");
    println!("old {} bytes, new {} bytes", old.len(), new.len());
    println!(
        "{:<14} {:>9} {:>10} {:>10} {:>12}",
        "min/avg/max", "chunks", "index %", "reused %", "download %"
    );
    let t = Instant::now();
    for p in candidates() {
        let have: HashSet<[u8; 32]> = index(&old, p, true).into_iter().map(|c| c.2).collect();
        let chunks = index(&new, p, true);
        let reused: u64 = chunks
            .iter()
            .filter(|c| have.contains(&c.2))
            .map(|c| u64::from(c.1))
            .sum();
        let index_bytes = (72 + 36 * chunks.len()) as f64;
        let n = new.len() as f64;
        println!(
            "{:<14} {:>9} {:>10.3} {:>10.2} {:>12.2}",
            label(p),
            chunks.len(),
            index_bytes * 100.0 / n,
            reused as f64 * 100.0 / n,
            (n - reused as f64 + index_bytes) * 100.0 / n
        );
    }
    eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
}

/// This process's CPU time (user + system, all threads) in seconds.
fn process_cpu() -> f64 {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    s(u.user_time()) + s(u.system_time())
}

fn split_cost(file: &str, dir: &str, rounds: usize) {
    use std::io::Read;
    let mut settings: Vec<(String, Option<Params>)> = vec![("--no-index".into(), None)];
    for avg in [16u32 << 10, 32 << 10, 64 << 10] {
        for p in [
            Params::with_avg(avg).unwrap(),
            Params {
                min: avg / 2,
                ..Params::with_avg(avg).unwrap()
            },
        ] {
            settings.push((label(p), Some(p)));
        }
    }
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    for round in 0..rounds {
        for (i, (name, index)) in settings.iter().enumerate() {
            let _ = std::fs::remove_dir_all(dir);
            nix::unistd::sync();
            let mut f = std::fs::File::open(file).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            while f.read(&mut buf).unwrap() > 0 {}
            let mut s =
                voxctl::split::Settings::new(file.as_ref(), dir.as_ref(), "voicebox-server-cuda");
            s.index = *index;
            let (t, c) = (Instant::now(), process_cpu());
            voxctl::split::split(&s, &|_| {}).unwrap();
            let (wall, cpu) = (t.elapsed().as_secs_f64(), process_cpu() - c);
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            let load = load.split(' ').next().unwrap_or("?");
            println!("round {round} {name:<14} wall {wall:.2} s  cpu {cpu:.2} s  load {load}");
            walls[i].push(wall);
            cpus[i].push(cpu);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratios: Vec<Vec<f64>> = walls
        .iter()
        .map(|w| w.iter().zip(&walls[0]).map(|(a, b)| a / b).collect())
        .collect();
    println!(
        "{:<14} {:>12} {:>10} {:>14}",
        "index", "median wall", "median cpu", "ratio (median)"
    );
    for (i, (name, _)) in settings.iter().enumerate() {
        let (mut w, mut c, mut r) = (walls[i].clone(), cpus[i].clone(), ratios[i].clone());
        println!(
            "{name:<14} {:>10.2} s {:>8.2} s {:>13.2}x",
            median(&mut w),
            median(&mut c),
            median(&mut r)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reuse") if args.len() == 3 => reuse(&args[1], &args[2]),
        Some("split") if args.len() >= 3 => split_cost(
            &args[1],
            &args[2],
            args.get(3).map_or(3, |r| r.parse().expect("ROUNDS")),
        ),
        Some("speed") | None => speed(args.get(1).map_or(1024, |m| m.parse().expect("MIB"))),
        _ => eprintln!(
            "usage: chunk_sizes speed [MIB] | chunk_sizes reuse OLD NEW | chunk_sizes split \
             FILE DIR [ROUNDS]"
        ),
    }
}
