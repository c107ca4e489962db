//! Every kind of bad input gives a typed error naming the file, never a panic or garbage.
//! Each case writes its own small broken file.

use mlff_data::{
    DataError, Format, LoadOptions, OutputFormat, TimeOrder, XyzOptions, load, load_with,
};
use npyz::WriterBuilder;
use npyz::npz::NpzWriter;
use npyz::zip::write::FileOptions;
use std::path::{Path, PathBuf};

/// One array to put into a test npz.
enum Arr<'a> {
    F64(&'a [u64], Vec<f64>),
    F32(&'a [u64], Vec<f32>),
    I64(&'a [u64], Vec<i64>),
    U8(&'a [u64], Vec<u8>),
    F64Fortran(&'a [u64], Vec<f64>),
}

/// Adds one array of element type `T` in `order` to the archive.
fn put<T: npyz::AutoSerialize>(
    w: &mut NpzWriter<std::io::BufWriter<std::fs::File>>,
    name: &str,
    shape: &[u64],
    values: Vec<T>,
    order: npyz::Order,
) {
    let mut a = w
        .array::<T>(name, FileOptions::default())
        .unwrap()
        .default_dtype()
        .order(order)
        .shape(shape)
        .begin_nd()
        .unwrap();
    a.extend(values).unwrap();
    a.finish().unwrap();
}

fn write_npz(path: &Path, arrays: Vec<(&str, Arr<'_>)>) {
    use npyz::Order::{C, Fortran};
    let mut w = NpzWriter::create(path).unwrap();
    for (name, arr) in arrays {
        match arr {
            Arr::F64(s, v) => put(&mut w, name, s, v, C),
            Arr::F64Fortran(s, v) => put(&mut w, name, s, v, Fortran),
            Arr::F32(s, v) => put(&mut w, name, s, v, C),
            Arr::I64(s, v) => put(&mut w, name, s, v, C),
            Arr::U8(s, v) => put(&mut w, name, s, v, C),
        }
    }
    w.zip_writer().finish().unwrap();
}

/// A valid 2-frame, 3-atom MD17 file's arrays.
fn md17_arrays() -> Vec<(&'static str, Arr<'static>)> {
    vec![
        ("R", Arr::F64(&[2, 3, 3], (0..18).map(f64::from).collect())),
        ("z", Arr::U8(&[3], vec![8, 1, 1])),
        ("E", Arr::F64(&[2, 1], vec![-1.0, -2.0])),
        ("F", Arr::F64(&[2, 3, 3], vec![0.5; 18])),
    ]
}

fn replace<'a>(
    mut arrays: Vec<(&'a str, Arr<'a>)>,
    name: &'a str,
    arr: Option<Arr<'a>>,
) -> Vec<(&'a str, Arr<'a>)> {
    arrays.retain(|(n, _)| *n != name);
    if let Some(a) = arr {
        arrays.push((name, a));
    }
    arrays
}

fn temp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

fn mentions_file(e: &DataError, path: &Path) {
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "error does not name the file: {msg}"
    );
}

#[test]
fn valid_md17_file_loads_in_every_dtype_and_order() {
    let (_d, path) = temp("md17_water.npz");
    write_npz(&path, md17_arrays());
    let base = load(&path).unwrap();
    assert_eq!(base.len(), 2);
    assert_eq!(base.provenance().molecule.as_deref(), Some("water"));
    assert_eq!(base.time_order(), &TimeOrder::Sequential);

    // float32 positions, E as (T), int64 z: the same data.
    let arrays = replace(
        md17_arrays(),
        "R",
        Some(Arr::F32(&[2, 3, 3], (0..18).map(|i| i as f32).collect())),
    );
    let arrays = replace(arrays, "E", Some(Arr::F64(&[2], vec![-1.0, -2.0])));
    let arrays = replace(arrays, "z", Some(Arr::I64(&[3], vec![8, 1, 1])));
    write_npz(&path, arrays);
    let other = load(&path).unwrap();
    assert_eq!(other.positions(), base.positions());
    assert_eq!(other.energies(), base.energies());
    assert_eq!(other.species(), base.species());

    // z per frame (T, N) collapses to one molecule.
    write_npz(
        &path,
        replace(
            md17_arrays(),
            "z",
            Some(Arr::U8(&[2, 3], vec![8, 1, 1, 8, 1, 1])),
        ),
    );
    assert_eq!(load(&path).unwrap().species(), base.species());

    // Fortran-order R: values come back in C order.
    let c_order: Vec<f64> = (0..18).map(f64::from).collect();
    let mut f_order = vec![0.0; 18];
    for t in 0..2 {
        for a in 0..3 {
            for k in 0..3 {
                f_order[t + 2 * a + 6 * k] = c_order[9 * t + 3 * a + k];
            }
        }
    }
    write_npz(
        &path,
        replace(
            md17_arrays(),
            "R",
            Some(Arr::F64Fortran(&[2, 3, 3], f_order)),
        ),
    );
    assert_eq!(load(&path).unwrap().positions(), base.positions());
}

#[test]
fn missing_key_is_named() {
    let (_d, path) = temp("md17.npz");
    write_npz(&path, replace(md17_arrays(), "R", None));
    let e = load(&path).unwrap_err();
    assert!(
        matches!(&e, DataError::MissingKey { key, .. } if key == "R"),
        "{e}"
    );
    mentions_file(&e, &path);
}

#[test]
fn wrong_dtype_is_reported() {
    let (_d, path) = temp("md17.npz");
    write_npz(
        &path,
        replace(md17_arrays(), "R", Some(Arr::I64(&[2, 3, 3], vec![0; 18]))),
    );
    let e = load(&path).unwrap_err();
    assert!(
        matches!(&e, DataError::WrongDtype { key, .. } if key == "R"),
        "{e}"
    );
}

#[test]
fn mismatched_shapes_are_reported() {
    let (_d, path) = temp("md17.npz");
    write_npz(
        &path,
        replace(
            md17_arrays(),
            "F",
            Some(Arr::F64(&[2, 2, 3], vec![0.0; 12])),
        ),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::ShapeMismatch { .. }
    ));
    write_npz(
        &path,
        replace(md17_arrays(), "E", Some(Arr::F64(&[3, 1], vec![0.0; 3]))),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::ShapeMismatch { .. }
    ));
    write_npz(
        &path,
        replace(
            md17_arrays(),
            "R",
            Some(Arr::F64(&[2, 3, 2], vec![0.0; 12])),
        ),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::ShapeMismatch { .. }
    ));
    write_npz(
        &path,
        replace(md17_arrays(), "z", Some(Arr::U8(&[4], vec![1; 4]))),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::ShapeMismatch { .. }
    ));
}

#[test]
fn non_finite_values_name_field_and_frame() {
    let (_d, path) = temp("md17.npz");
    write_npz(
        &path,
        replace(
            md17_arrays(),
            "E",
            Some(Arr::F64(&[2, 1], vec![-1.0, f64::NAN])),
        ),
    );
    let e = load(&path).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::NonFinite {
                field: "energies",
                frame: 1,
                ..
            }
        ),
        "{e}"
    );
    let mut f = vec![0.5; 18];
    f[10] = f64::INFINITY;
    write_npz(
        &path,
        replace(md17_arrays(), "F", Some(Arr::F64(&[2, 3, 3], f))),
    );
    let e = load(&path).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::NonFinite {
                field: "forces",
                frame: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn invalid_atomic_numbers_are_rejected() {
    let (_d, path) = temp("md17.npz");
    write_npz(
        &path,
        replace(md17_arrays(), "z", Some(Arr::U8(&[3], vec![8, 0, 1]))),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::UnknownElement { .. }
    ));
    write_npz(
        &path,
        replace(md17_arrays(), "z", Some(Arr::I64(&[3], vec![8, 300, 1]))),
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::UnknownElement { .. }
    ));
}

#[test]
fn empty_dataset_is_rejected() {
    let (_d, path) = temp("md17.npz");
    write_npz(
        &path,
        vec![
            ("R", Arr::F64(&[0, 3, 3], vec![])),
            ("z", Arr::U8(&[3], vec![8, 1, 1])),
            ("E", Arr::F64(&[0, 1], vec![])),
            ("F", Arr::F64(&[0, 3, 3], vec![])),
        ],
    );
    assert!(matches!(load(&path).unwrap_err(), DataError::Empty { .. }));
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(load(&path).unwrap_err(), DataError::Empty { .. }));
}

#[test]
fn truncated_and_corrupt_archives_are_reported() {
    let (_d, path) = temp("md17.npz");
    write_npz(&path, md17_arrays());
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 10, 40] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(e, DataError::CorruptArchive { .. }),
            "cut at {cut}: {e}"
        );
        mentions_file(&e, &path);
    }
    // Corrupt bytes in the middle of a stored member: either the zip CRC or the npy header fails.
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 16] {
        *b ^= 0xff;
    }
    std::fs::write(&path, &flipped).unwrap();
    assert!(load(&path).is_err());
    std::fs::write(&path, [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::UnknownFormat { .. }
    ));
}

#[test]
fn unknown_npz_layout_and_sgdml_model_without_frames() {
    let (_d, path) = temp("other.npz");
    write_npz(&path, vec![("weights", Arr::F64(&[2], vec![1.0, 2.0]))]);
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::UnknownFormat { .. }
    ));
    write_npz(
        &path,
        vec![
            ("Rt_desc", Arr::F64(&[3, 2], vec![0.0; 6])),
            ("z", Arr::U8(&[3], vec![8, 1, 1])),
        ],
    );
    assert!(matches!(
        load(&path).unwrap_err(),
        DataError::NotADataset { .. }
    ));
}

const GOOD_XYZ: &str = "3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-10.5 pbc=\"F F F\"\nO 0 0 0 1 2 3\nH 0 0 1 1 2 3\nH 0 1 0 1 2 3\n";

#[test]
fn extended_xyz_detects_keys_and_reports_bad_lines() {
    let (_d, path) = temp("w.xyz");
    std::fs::write(&path, GOOD_XYZ.repeat(2)).unwrap();
    let d = load(&path).unwrap();
    assert_eq!((d.len(), d.n_atoms()), (2, 3));
    assert_eq!(d.energies().unwrap()[1], -10.5);
    assert_eq!(d.time_order(), &TimeOrder::Unknown);
    assert!(matches!(
        d.time_ordered().unwrap_err(),
        DataError::NoTimeOrder { .. }
    ));

    // REF_ keys are detected; configured keys are honoured.
    let renamed = GOOD_XYZ.replace("forces:R:3 energy", "REF_forces:R:3 REF_energy");
    std::fs::write(&path, &renamed).unwrap();
    assert_eq!(load(&path).unwrap().forces().unwrap()[[0, 0, 2]], 3.0);
    let custom = GOOD_XYZ.replace("energy=", "my_e=");
    std::fs::write(&path, &custom).unwrap();
    let opts = LoadOptions {
        xyz: XyzOptions {
            energy_key: Some("my_e".into()),
            energy_unit: Some(mlff_data::EnergyUnit::ElectronVolt),
            ..XyzOptions::default()
        },
        ..LoadOptions::default()
    };
    let d = load_with(&path, &opts).unwrap();
    assert_eq!(d.energies().unwrap()[0], -10.5);
    assert_eq!(d.units().energy, mlff_data::EnergyUnit::ElectronVolt);

    type Check = fn(&DataError) -> bool;
    let cases: [(&str, Check); 5] = [
        (&GOOD_XYZ.replace("H 0 1 0", "Qq 0 1 0"), |e| {
            matches!(e, DataError::UnknownElement { .. })
        }),
        (&GOOD_XYZ.replace("H 0 1 0 1 2 3\n", ""), |e| {
            matches!(e, DataError::Parse { line: 5, .. })
        }),
        (&GOOD_XYZ.replace("0 0 1 1", "0 zero 1 1"), |e| {
            matches!(e, DataError::Parse { line: 4, .. })
        }),
        (&GOOD_XYZ.replace("0 0 1 1 2 3", "0 0 1 1 2 NaN"), |e| {
            matches!(
                e,
                DataError::NonFinite {
                    field: "forces",
                    ..
                }
            )
        }),
        (
            &format!(
                "{GOOD_XYZ}2\nProperties=species:S:1:pos:R:3:forces:R:3 energy=1\nH 0 0 0 0 0 0\nH 1 0 0 0 0 0\n"
            ),
            |e| matches!(e, DataError::ShapeMismatch { .. }),
        ),
    ];
    for (text, check) in cases {
        std::fs::write(&path, text).unwrap();
        let e = load(&path).unwrap_err();
        assert!(check(&e), "unexpected error {e} for\n{text}");
        mentions_file(&e, &path);
    }
}

/// Issue 18: every column of an atom line must be named — an extra column is an error, and
/// columns after x y z without a `Properties=` entry are refused with the fix, not dropped.
#[test]
fn extended_xyz_columns_must_all_be_declared() {
    let (_d, path) = temp("w.xyz");
    let extra = GOOD_XYZ.replace("0 0 1 1 2 3", "0 0 1 1 2 3 7");
    std::fs::write(&path, &extra).unwrap();
    let e = load(&path).unwrap_err().to_string();
    assert!(
        e.contains("expected 7 columns (as Properties= declares), found 8"),
        "{e}"
    );
    let undeclared = GOOD_XYZ.replace("Properties=species:S:1:pos:R:3:forces:R:3 ", "");
    assert_ne!(undeclared, GOOD_XYZ, "the fixture declares its columns");
    std::fs::write(&path, &undeclared).unwrap();
    let e = load(&path).unwrap_err().to_string();
    assert!(
        e.contains("without a Properties= entry") && e.contains("forces:R:3"),
        "{e}"
    );
}

#[test]
fn plain_xyz_geometries_load_without_labels() {
    let (_d, path) = temp("mol.xyz");
    std::fs::write(
        &path,
        "3\n\nO\t0.0\t0.0\t0.1\nH 0.7 0 -0.5\nH -0.7 0 -0.5\n",
    )
    .unwrap();
    let d = load(&path).unwrap();
    assert_eq!(d.provenance().format, Some(Format::Xyz));
    assert!(d.energies().is_none() && d.forces().is_none());
    assert!(matches!(
        d.require_forces().unwrap_err(),
        DataError::MissingLabels { what: "forces", .. }
    ));
    assert!(mlff_data::save(&d, path.with_extension("npz"), OutputFormat::Md17Npz).is_ok());
}

#[test]
fn selection_out_of_range_is_an_error() {
    let (_d, path) = temp("w.xyz");
    std::fs::write(&path, GOOD_XYZ.repeat(3)).unwrap();
    let d = load(&path).unwrap();
    assert!(matches!(
        d.select(&[0, 3]).unwrap_err(),
        DataError::IndexOutOfRange { index: 3, len: 3 }
    ));
    assert!(d.frame(7).is_err());
    let s = d.select(&[2, 0]).unwrap();
    assert!(s.slice(1..3).is_err());
    assert_eq!(s.frame(1).unwrap().index, 0);
}

/// Issue 18: a negative time index or a time index that is not a whole number is an invalid
/// value of its field, not a "shape mismatch".
#[test]
fn invalid_values_are_named_by_field() {
    let (_d, path) = temp("m.npz");
    let arrays = replace(
        md17_arrays(),
        "time_index",
        Some(Arr::I64(&[2], vec![0, -3])),
    );
    write_npz(&path, arrays);
    let e = load(&path).unwrap_err();
    assert!(matches!(e, DataError::InvalidValue { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("invalid time_index: negative frame index -3"),
        "{e}"
    );
    mentions_file(&e, &path);

    let (_d, path) = temp("w.xyz");
    let frame =
        |t: &str| format!("1\nProperties=species:S:1:pos:R:3 energy=1 time_index={t}\nH 0 0 0\n");
    std::fs::write(&path, frame("0") + &frame("1.5")).unwrap();
    let e = load(&path).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid time_index: frame 1 has `1.5`"),
        "{e}"
    );
}

/// Found by fuzzing (`fuzz/regressions/npz-huge-atom-count.bin`): an atom count of 10^17 on the
/// count line used to reserve memory for that many atoms and abort; now the missing atom lines
/// are reported.
#[test]
fn an_absurd_atom_count_is_an_error_not_an_abort() {
    let (_d, path) = temp("huge.xyz");
    std::fs::write(&path, "111111111111111111\ncomment\nH 0 0 0\n").unwrap();
    let e = load(&path).unwrap_err();
    assert!(matches!(e, DataError::Parse { .. }), "{e}");
    let fuzzed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/npz-huge-atom-count.bin");
    let copy = path.with_file_name("fuzzed.npz");
    std::fs::copy(&fuzzed, &copy).unwrap();
    assert!(load(&copy).is_err());
}
