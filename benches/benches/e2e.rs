//! The end-to-end benchmark: every host behind real pipes, fed and drained as a
//! browser would, every reply verified. Prints markdown tables with ratios.
//!
//!     cargo bench -p nmframe-benches --bench e2e            # the full run (a few minutes)
//!     cargo bench -p nmframe-benches --bench e2e -- --tiny  # a smoke run (CI)
//!     cargo bench -p nmframe-benches --bench e2e -- --runs 1 --mib 8  # a quick look
//!
//! All hosts get the same pipes (the default 64 KiB), the same payloads, the same
//! writer (bursts of up to 1 MiB of frames) and the same reader (nmframe's decoder,
//! each reply compared with what was sent).

use std::io::Write;
use std::time::{Duration, Instant};

use nmframe_benches::hosts::{Host, build_hosts, connect, cpu_ns, peak_rss_kib};
use nmframe_benches::{Shape, payload};

const SIZES: [(&str, usize); 4] = [
    ("64 B", 64),
    ("1 KiB", 1 << 10),
    ("64 KiB", 64 << 10),
    ("1 MiB", 1 << 20),
];

struct Config {
    bytes_per_run: usize,
    runs: usize,
    pings: usize,
}

fn main() {
    // cargo bench passes --bench; the harness takes --tiny.
    let tiny = std::env::args().any(|a| a == "--tiny");
    let mut config = if tiny {
        Config {
            bytes_per_run: 256 << 10,
            runs: 1,
            pings: 50,
        }
    } else {
        Config {
            bytes_per_run: 32 << 20,
            runs: 3,
            pings: 5000,
        }
    };
    // `--runs N`, `--mib N` and `--only NAME` trade precision for time while working on
    // one host.
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
    };
    if let Some(runs) = flag("--runs") {
        config.runs = runs.max(1);
    }
    if let Some(mib) = flag("--mib") {
        config.bytes_per_run = mib.max(1) << 20;
    }
    let (mut echo_hosts, mut value_hosts) = build_hosts();
    // `--only NAME[,NAME...]` keeps the hosts whose name contains one of the NAMEs (and
    // the baselines: cat, and plain C framing, which the ping-pong table compares with).
    if let Some(only) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        let wanted = |name: &str| only.split(',').any(|n| name.contains(n));
        echo_hosts.retain(|h| {
            h.name.starts_with("cat") || h.name.starts_with("plain C") || wanted(h.name)
        });
        value_hosts.retain(|h| wanted(h.name));
    }
    // `--latency` runs the ping-pong table alone.
    if args.iter().any(|a| a == "--latency") {
        latency_table(&echo_hosts, &config);
        return;
    }
    println!(
        "# nmframe end-to-end benchmark{}\n",
        if tiny {
            " (tiny: numbers mean nothing)"
        } else {
            ""
        }
    );
    println!(
        "{} MiB of JSON each way per run, median of {} run(s); MB/s = 10^6 bytes of JSON per second each way.\n",
        config.bytes_per_run >> 20,
        config.runs
    );
    for shape in [Shape::Strings, Shape::Nested] {
        throughput_table(
            &format!("Echo hosts, {shape:?} payloads"),
            &echo_hosts,
            shape,
            &config,
            "cat",
        );
        throughput_table(
            &format!("Value hosts (decode + re-serialize), {shape:?} payloads"),
            &value_hosts,
            shape,
            &config,
            "",
        );
    }
    latency_table(&echo_hosts, &config);
    startup_table(&echo_hosts, if tiny { 2 } else { 21 });
    // cat, and the hosts that answer a 64 MiB message with a refusal.
    let memory_hosts: Vec<_> = echo_hosts
        .iter()
        .filter(|h| {
            h.name.starts_with("cat (")
                || h.name == "nmframe echo (Rust)"
                || h.name.starts_with("C echo")
        })
        .collect();
    memory_table(&memory_hosts);
}

struct Sample {
    mbps: f64,
    msgs_per_s: f64,
    rss_kib: u64,
    /// CPU time (user + system, every thread) the host spent per message.
    cpu_us_per_msg: f64,
}

/// Streams `count` copies of `msg` through the host; verifies every reply. A host that
/// answers with a frame the browser would refuse (over 1 MiB: Python's `json.dumps`
/// makes some replies longer than their request) fails the cell, with why.
fn stream(host: &Host, msg: &[u8], count: usize) -> Result<Sample, String> {
    let (mut child, mut stdin, mut reader) = connect(host, false);
    let per_burst = count.min(((1 << 20) / (msg.len() + 4)).max(1));
    let mut burst = Vec::with_capacity(per_burst * (msg.len() + 4));
    for _ in 0..per_burst {
        burst.extend_from_slice(&(msg.len() as u32).to_ne_bytes());
        burst.extend_from_slice(msg);
    }
    let frame_len = msg.len() + 4;
    let check = ReplyCheck::new(host, msg);
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        let mut left = count;
        while left > 0 {
            let n = left.min(per_burst);
            if stdin.write_all(&burst[..n * frame_len]).is_err() {
                break; // the host is gone: the reader says why
            }
            left -= n;
        }
        stdin // kept open until every reply is in, so that the host is alive to measure
    });
    for i in 0..count {
        let reply = match reader.read_frame() {
            Ok(Some(reply)) => reply,
            outcome => {
                let why = match outcome {
                    Err(err) => format!("reply {i}: {err}"),
                    _ => format!("no reply {i}"),
                };
                let _ = child.kill();
                let _ = child.wait();
                drop(writer.join());
                return Err(why);
            }
        };
        assert!(
            check.matches(&reply),
            "{}: reply {i} differs from what was sent",
            host.name
        );
    }
    let took = start.elapsed();
    let rss_kib = peak_rss_kib(&child);
    let cpu_us_per_msg = cpu_ns(&child) as f64 / 1e3 / count as f64;
    drop(writer.join().unwrap());
    let status = child.wait().unwrap();
    assert!(status.success(), "{}: {status}", host.name);
    Ok(Sample {
        mbps: (count * msg.len()) as f64 / took.as_secs_f64() / 1e6,
        msgs_per_s: count as f64 / took.as_secs_f64(),
        rss_kib,
        cpu_us_per_msg,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One table: MB/s for every host and size, with the ratio to `baseline` (a host name
/// prefix; empty: the best host other than the first).
fn throughput_table(title: &str, hosts: &[Host], shape: Shape, config: &Config, baseline: &str) {
    println!("## {title}\n");
    print!("| host |");
    for (name, _) in SIZES {
        print!(" {name} |");
    }
    println!(" peak RSS at 1 MiB | host CPU per 1 MiB message |");
    println!("|---|{}---|---|", "---|".repeat(SIZES.len()));
    let mut table: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut rss = Vec::new();
    let mut cpu = Vec::new();
    for host in hosts {
        let mut row = Vec::new();
        let mut last_rss = 0;
        let mut last_cpu = 0.0;
        for (_, size) in SIZES {
            let msg = payload(shape, size);
            let count = (config.bytes_per_run / size).max(4);
            let samples: Result<Vec<Sample>, String> = (0..config.runs)
                .map(|_| stream(host, &msg, count))
                .collect();
            let samples = match samples {
                Ok(samples) => samples,
                Err(why) => {
                    eprintln!("{}, {size} bytes: {why}", host.name);
                    row.push((f64::NAN, f64::NAN));
                    (last_rss, last_cpu) = (0, f64::NAN);
                    continue;
                }
            };
            last_rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
            last_cpu = median(samples.iter().map(|s| s.cpu_us_per_msg).collect());
            row.push((
                median(samples.iter().map(|s| s.mbps).collect()),
                median(samples.iter().map(|s| s.msgs_per_s).collect()),
            ));
        }
        table.push(row);
        rss.push(last_rss);
        cpu.push(last_cpu);
    }
    for (i, host) in hosts.iter().enumerate() {
        print!("| {} |", host.name);
        for (col, (mbps, msgs)) in table[i].iter().enumerate() {
            let base = if baseline.is_empty() {
                // The best of the peers (the hosts that are not nmframe's own).
                (0..hosts.len())
                    .filter(|&j| !hosts[j].name.starts_with("nmframe"))
                    .map(|j| table[j][col].0)
                    .filter(|v| !v.is_nan())
                    .fold(0.0, f64::max)
            } else {
                table[0][col].0
            };
            let ratio = if i == 0 && !baseline.is_empty() {
                String::new()
            } else {
                format!(" ({:.2}×)", mbps / base)
            };
            if mbps.is_nan() {
                print!(" ✗ (a reply the browser refuses) |");
                continue;
            }
            print!(" {mbps:.0}{ratio}, {:.0}k msg/s |", msgs / 1e3);
        }
        let cpu_ratio = if baseline.is_empty() || i == 0 {
            String::new()
        } else {
            format!(" ({:.2}× cat)", cpu[i] / cpu[0])
        };
        if cpu[i].is_nan() {
            println!(" — | — |");
            continue;
        }
        println!(
            " {:.1} MiB | {:.0} µs{cpu_ratio} |",
            rss[i] as f64 / 1024.0,
            cpu[i]
        );
    }
    let against = if baseline.is_empty() {
        "the best peer in each column"
    } else {
        "cat"
    };
    println!(
        "\nRatios are to {against}, measured in the same run. ✗: the host answered with a frame over 1 MiB (why: on stderr).\n"
    );
}

/// How a host's replies are checked: the very bytes sent, or the same JSON value for
/// the hosts whose serializer writes it otherwise (`Host::same_value`).
struct ReplyCheck<'m> {
    sent: &'m [u8],
    value: Option<serde_json::Value>,
}

impl<'m> ReplyCheck<'m> {
    fn new(host: &Host, sent: &'m [u8]) -> Self {
        let value = host
            .same_value
            .then(|| serde_json::from_slice(sent).expect("the payloads are JSON"));
        ReplyCheck { sent, value }
    }

    fn matches(&self, reply: &[u8]) -> bool {
        match &self.value {
            None => reply == self.sent,
            Some(value) => {
                serde_json::from_slice::<serde_json::Value>(reply).is_ok_and(|r| r == *value)
            }
        }
    }
}

/// Start-up: from spawning a host to its first reply (hosts start per connection, and
/// `sendNativeMessage` starts one per message). The Python hosts are also given as a
/// ratio to the stdlib host of MDN's example.
fn startup_table(hosts: &[Host], runs: usize) {
    println!("## Start-up: spawn to the first reply of a 64 B message (median of {runs})\n");
    println!("| host | median | ÷ Python stdlib (MDN) |");
    println!("|---|---|---|");
    let msg = payload(Shape::Strings, 64);
    let mut frame = (msg.len() as u32).to_ne_bytes().to_vec();
    frame.extend_from_slice(&msg);
    let mut medians = Vec::new();
    for host in hosts.iter().filter(|h| !h.is_cat()) {
        let check = ReplyCheck::new(host, &msg);
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let (mut child, mut stdin, mut reader) = connect(host, false);
                stdin.write_all(&frame).unwrap();
                let reply = reader.read_frame().unwrap().unwrap();
                let took = start.elapsed();
                assert!(check.matches(&reply), "{}: the reply differs", host.name);
                drop(stdin);
                child.wait().unwrap();
                took
            })
            .collect();
        times.sort();
        medians.push((host.name, times[times.len() / 2]));
    }
    let stdlib = medians
        .iter()
        .find(|(name, _)| name.starts_with("Python, MDN"))
        .map(|(_, t)| *t);
    for (name, median) in &medians {
        let ratio = match stdlib {
            Some(base) if name.contains("Python") => {
                format!("{:.2}×", median.as_secs_f64() / base.as_secs_f64())
            }
            _ => String::new(),
        };
        println!(
            "| {name} | {:.1} ms | {ratio} |",
            median.as_secs_f64() * 1e3
        );
    }
    println!();
}

/// Ping-pong of one message at a time, 64 B and 64 KiB: the latency a lone message sees,
/// and the host's CPU per message (every thread, from /proc's schedstat), which a host
/// that hands each reply to a second thread pays in wake-ups; then the CPU the host
/// spends waiting for the next message (none, for a host that blocks in `read`). Each
/// cell is the median of `config.runs` runs.
fn latency_table(hosts: &[Host], config: &Config) {
    println!("## One message at a time (ping-pong)\n");
    println!(
        "| host | 64 B p50 | 64 B p99 | 64 B CPU per message | 64 KiB p50 | 64 KiB CPU per message | CPU while idle |"
    );
    println!("|---|---|---|---|---|---|---|");
    let plain = hosts.iter().position(|h| h.name.starts_with("plain C"));
    let idle_for = if config.pings < 1000 {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(1)
    };
    let mut rows = Vec::new();
    for host in hosts {
        // Per size: p50, p99, CPU µs per message; then the idle CPU in µs.
        let mut runs: Vec<[f64; 7]> = Vec::new();
        for _ in 0..config.runs {
            let mut cells = [0.0; 7];
            for (k, size) in [64, 64 << 10].into_iter().enumerate() {
                let msg = payload(Shape::Strings, size);
                let pings = if size > 64 {
                    config.pings / 5
                } else {
                    config.pings
                };
                let (mut child, mut stdin, mut reader) = connect(host, false);
                let mut frame = (msg.len() as u32).to_ne_bytes().to_vec();
                frame.extend_from_slice(&msg);
                let mut times = Vec::with_capacity(pings);
                let check = ReplyCheck::new(host, &msg);
                let mut cpu_before = 0;
                for i in 0..pings + 10 {
                    if i == 10 {
                        cpu_before = cpu_ns(&child);
                    }
                    let start = Instant::now();
                    stdin.write_all(&frame).unwrap();
                    let reply = reader.read_frame().unwrap().unwrap();
                    times.push(start.elapsed());
                    assert!(check.matches(&reply), "{}: the reply differs", host.name);
                }
                let after = cpu_ns(&child);
                cells[3 * k + 2] = (after - cpu_before) as f64 / 1e3 / pings as f64;
                if k == 0 {
                    std::thread::sleep(idle_for);
                    cells[6] = (cpu_ns(&child) - after) as f64 / 1e3;
                }
                drop(stdin);
                child.wait().unwrap();
                times.drain(..10); // warm-up
                times.sort();
                cells[3 * k] = times[times.len() / 2].as_secs_f64() * 1e6;
                cells[3 * k + 1] = times[times.len() * 99 / 100].as_secs_f64() * 1e6;
            }
            runs.push(cells);
        }
        let cells: Vec<f64> = (0..7)
            .map(|c| median(runs.iter().map(|r| r[c]).collect()))
            .collect();
        rows.push((host.name, cells));
    }
    for (name, cells) in &rows {
        let ratio = |c: usize| match plain {
            Some(p) if !name.starts_with("cat") => {
                format!(" ({:.2}× plain C)", cells[c] / rows[p].1[c])
            }
            _ => String::new(),
        };
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.1} µs{} | {:.1} µs | {:.1} µs{} | {:.0} µs in {} ms |",
            cells[0],
            cells[1],
            cells[2],
            ratio(2),
            cells[3],
            cells[5],
            ratio(5),
            cells[6],
            idle_for.as_millis()
        );
    }
    println!();
}

/// Memory under the cases the issue names, for the nmframe hosts.
fn memory_table(hosts: &[&Host]) {
    println!("## Memory (peak RSS of the host, VmHWM)\n");
    println!(
        "| host | idle (after one small message) | after one 64 MiB message | 4 GiB header + 10 bytes |"
    );
    println!("|---|---|---|---|");
    for host in hosts.iter().skip(1) {
        let small = payload(Shape::Strings, 64);
        let frame = |msg: &[u8]| [&(msg.len() as u32).to_ne_bytes()[..], msg].concat();
        let idle_and_lie = {
            let (mut child, mut stdin, mut reader) = connect(host, false);
            stdin.write_all(&frame(&small)).unwrap();
            reader.read_frame().unwrap().unwrap();
            let idle = peak_rss_kib(&child);
            stdin.write_all(&u32::MAX.to_ne_bytes()).unwrap();
            stdin.write_all(&[b'{'; 10]).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            let lied = peak_rss_kib(&child);
            drop(stdin);
            let _ = child.wait();
            (idle, lied)
        };
        let big = {
            let (mut child, mut stdin, mut reader) = connect(host, false);
            let msg = payload(Shape::Strings, 64 << 20);
            let writer = std::thread::spawn(move || {
                stdin.write_all(&frame(&msg)).unwrap();
                stdin
            });
            // The echo is refused (over 1 MiB): the host answers with an error object.
            reader.read_frame().unwrap().unwrap();
            let rss = peak_rss_kib(&child);
            drop(writer.join().unwrap());
            let _ = child.wait();
            rss
        };
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "| {} | {:.1} MiB | {:.1} MiB ({:.2} × 64 MiB) | {:.1} MiB (+{:.2} MiB) |",
            host.name,
            mib(idle_and_lie.0),
            mib(big),
            mib(big) / 64.0,
            mib(idle_and_lie.1),
            mib(idle_and_lie.1.saturating_sub(idle_and_lie.0))
        );
    }
    println!();
}
