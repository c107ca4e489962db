//! Builds the paper's time-domain experiment for an rMD17-like dataset: frames stored in shuffled
//! order with their original MD step (`old_indices`), 0.5 fs per step; the last 10% in time is the
//! test set, 1000-frame training windows at 5 positions before it, 50 validation frames each.
//! Writes the split as JSON, reads it back and verifies it regenerates exactly.
//!
//! Run: `cargo run -p mlff-splits --example time_windows [OUT.json]`

use mlff_splits::{
    Size, SlidingWindowParams, Split, SplitRequest, Strategy, TimeOrder, TimeTestSegment,
    Validation, ValidationPlacement, WindowPlacement,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Stand-in for rMD17's `old_indices`: 100,000 distinct MD steps in a scrambled order.
    let n_frames = 100_000u64;
    let old_indices: Vec<u64> = (0..n_frames).map(|i| (i * 7919) % n_frames * 2).collect();
    let time = TimeOrder::from_md_steps(&old_indices)?.with_timestep_fs(0.5)?;

    let request = SplitRequest::new(
        Strategy::SlidingWindows(SlidingWindowParams {
            segment: TimeTestSegment {
                time: Some(time),
                test_fraction: 0.1,
                gap: 0,
            },
            window: 1000,
            placement: WindowPlacement::Positions(5),
        }),
        2026,
    )
    .with_validation(Validation {
        size: Size::Count(50),
        placement: ValidationPlacement::Random,
    });
    let split = request.generate()?;
    print!("{}", split.summary());

    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("mlff_time_windows_split.json"));
    split.write_json(&path)?;
    Split::read_json(&path)?.verify()?;
    println!("wrote {} and verified it regenerates", path.display());
    Ok(())
}
