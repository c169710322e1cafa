//! Single-core hash throughput over an in-memory buffer (BENCHMARKS.md "Signature
//! checks in fetch"): BLAKE2b-512 as the `minisign-verify` crate's streaming verifier
//! computes it, as RustCrypto's `blake2` computes it, and as `blake2b_simd` (AVX2 when the CPU
//! has it) computes it; SHA-256 (`sha2`, SHA-NI when the CPU has it) for reference.
//!
//! `cargo run --release --example hash_throughput [MIB] [ROUNDS]` (default 1024 MiB, 3
//! rounds). Each round hashes the whole buffer with each hasher in 1 MiB updates (the size the
//! fetch feeds) and prints MB/s (10^6 bytes per second); the best round of each is the
//! figure, the others show the noise of a shared machine.

use std::time::Instant;

/// This thread's CPU time in seconds (what the hash costs, whatever else the machine runs).
fn thread_cpu() -> f64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).expect("clock");
    t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(1024, |a| a.parse().expect("MIB"));
    let rounds: usize = args.next().map_or(3, |a| a.parse().expect("ROUNDS"));
    let len = mib << 20;
    // Cheap pseudo-random contents (xorshift), so no hasher meets a trivial pattern.
    let mut data = vec![0u8; len];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for w in data.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w.copy_from_slice(&x.to_le_bytes());
    }
    const CHUNK: usize = 1 << 20;

    // minisign-verify's streaming verifier needs a prehashed signature by some key: sign
    // nothing with a fresh key; only update() is timed (finalize() then rejects, as expected).
    let kp = minisign::KeyPair::generate_unencrypted_keypair().expect("keypair");
    let sig = minisign::sign(Some(&kp.pk), &kp.sk, &b""[..], None, None).expect("sign");
    let pk = minisign_verify::PublicKey::from_base64(&kp.pk.to_base64()).expect("pk");
    let sig = minisign_verify::Signature::decode(&sig.into_string()).expect("sig");

    type Hasher<'a> = (&'a str, Box<dyn Fn(&[u8]) -> u8 + 'a>);
    let hashers: Vec<Hasher> = vec![
        (
            "minisign-verify StreamVerifier (BLAKE2b-512)",
            Box::new(|d: &[u8]| {
                let mut v = pk.verify_stream(&sig).expect("stream");
                for c in d.chunks(CHUNK) {
                    v.update(c);
                }
                u8::from(v.finalize().is_ok())
            }),
        ),
        (
            "blake2 0.10 Blake2b512 (RustCrypto)",
            Box::new(|d: &[u8]| {
                use blake2::Digest;
                let mut h = blake2::Blake2b512::new();
                for c in d.chunks(CHUNK) {
                    h.update(c);
                }
                h.finalize()[0]
            }),
        ),
        (
            "blake2b_simd 1 (BLAKE2b-512, runtime AVX2)",
            Box::new(|d: &[u8]| {
                let mut h = blake2b_simd::State::new();
                for c in d.chunks(CHUNK) {
                    h.update(c);
                }
                h.finalize().as_bytes()[0]
            }),
        ),
        (
            "sha2 0.10 Sha256 (reference)",
            Box::new(|d: &[u8]| {
                use sha2::Digest;
                let mut h = sha2::Sha256::new();
                for c in d.chunks(CHUNK) {
                    h.update(c);
                }
                h.finalize()[0]
            }),
        ),
    ];
    println!(
        "{mib} MiB in memory, {rounds} rounds, 1 MiB updates; avx2 {} sha {}",
        std::arch::is_x86_feature_detected!("avx2"),
        std::arch::is_x86_feature_detected!("sha")
    );
    let mut best = vec![0f64; hashers.len()];
    for r in 1..=rounds {
        for (i, (name, f)) in hashers.iter().enumerate() {
            let t = Instant::now();
            let c = thread_cpu();
            let out = std::hint::black_box(f(std::hint::black_box(&data)));
            let cpu = thread_cpu() - c;
            let s = t.elapsed().as_secs_f64();
            let mbs = len as f64 / cpu / 1e6;
            best[i] = best[i].max(mbs);
            println!(
                "round {r}: {name:<46} {mbs:7.0} MB/s of CPU time ({cpu:.3} s CPU, {s:.3} s \
                 wall) [{out}]"
            );
        }
    }
    println!("best of {rounds}:");
    for ((name, _), b) in hashers.iter().zip(&best) {
        let gb = 2.15e9 / (b * 1e6);
        println!("  {name:<46} {b:7.0} MB/s  = {gb:.2} s of CPU per 2.15 GB");
    }
}
