//! Time to render hostile markdown shapes of about 20,000 characters (the comment limit):
//! `cargo run --release -p atrium-core --example markdown_bench`. Figures in docs/benchmarks.md.

fn main() {
    let cases: Vec<(&str, String)> = vec![
        ("nested quotes", "> ".repeat(9_999)),
        ("nested ordered lists", "1. ".repeat(6_000)),
        ("quoted lists", "> - ".repeat(5_000)),
        ("5,000-column table", "|a".repeat(5_000) + "\n" + &"|-".repeat(5_000) + "\n" + &"|x\n".repeat(1_000)),
        ("raw <div> nesting", "<div>".repeat(4_000)),
        ("emphasis runs", "*a".repeat(10_000)),
        ("unclosed mentions", "@[".repeat(9_999) + "\n]"),
        ("prose", "hello world ".repeat(1_666)),
    ];
    println!("{:<22} {:>8} {:>10} {:>10}", "shape", "in (B)", "out (B)", "ms");
    for (name, source) in &cases {
        // Best of five: the figure is the work, not the machine's noise.
        let mut best = std::time::Duration::MAX;
        let mut out = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            out = atrium_core::markdown::to_html(source).len();
            best = best.min(t.elapsed());
        }
        println!("{name:<22} {:>8} {out:>10} {:>10.2}", source.len(), best.as_secs_f64() * 1000.0);
    }
}
