//! The rMD17 index-file reader, against files written in the published format: one zero-based
//! frame index per line, no header (`rmd17/splits/index_train_01.csv`), as read by
//! `np.loadtxt(path).astype(int)` in rMD17 users' code.

use std::io::Write;

use mlff_splits::*;

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::File::create(dir.join(name))
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[test]
fn reads_published_split_files() {
    let dir = tempfile::tempdir().unwrap();
    // 10 train and 5 test indices, one per line, trailing newline, as in the real files.
    write(
        dir.path(),
        "index_train_03.csv",
        "97618\n4\n55021\n1200\n7\n80000\n99999\n3\n42\n61234\n",
    );
    write(dir.path(), "index_test_03.csv", "0\n12\n50000\n77777\n88\n");
    let params = Rmd17Params::from_directory(dir.path(), 3, 100_000).unwrap();
    assert_eq!(params.published_train[0], 97618);
    assert_eq!(params.published_test, vec![0, 12, 50000, 77777, 88]);
    let split = SplitRequest::new(Strategy::Rmd17Published(params), 1)
        .with_validation(Validation {
            size: Size::Count(2),
            placement: ValidationPlacement::Random,
        })
        .generate()
        .unwrap();
    let SplitIndices::Single(s) = &split.indices else {
        panic!("expected a single split")
    };
    assert_eq!((s.train.len(), s.validation.len()), (8, 2));
    assert_eq!(s.test, vec![0, 12, 88, 50000, 77777]);
    let mut side: Vec<usize> = [&s.train[..], &s.validation].concat();
    side.sort_unstable();
    assert_eq!(
        side,
        vec![3, 4, 7, 42, 1200, 55021, 61234, 80000, 97618, 99999]
    );
    // Regenerates from the JSON alone, without the files.
    let text = split.to_json().unwrap();
    drop(dir);
    Split::from_json(&text).unwrap().verify().unwrap();
}

#[test]
fn accepts_numpy_savetxt_floats_and_crlf() {
    let path = std::path::Path::new("index_train_01.csv");
    let parsed = parse_index_text("9.761800000000000000e+04\r\n4.0\r\n\r\n12, 13\n", path).unwrap();
    assert_eq!(parsed, vec![97618, 4, 12, 13]);
}

#[test]
fn reader_errors_name_file_and_line() {
    let path = std::path::Path::new("index_test_02.csv");
    let err = parse_index_text("1\n2\n-3\n", path).unwrap_err();
    assert!(matches!(err, SplitError::IndexFileParse { line: 3, .. }));
    assert!(err.to_string().contains("index_test_02.csv:3"), "{err}");
    assert!(matches!(
        parse_index_text("1.5\n", path).unwrap_err(),
        SplitError::IndexFileParse { line: 1, .. }
    ));
    assert!(matches!(
        parse_index_text("\n", path).unwrap_err(),
        SplitError::EmptyDataset { .. }
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Rmd17Params::from_directory(dir.path(), 1, 100).unwrap_err(),
        SplitError::Io { .. }
    ));
    assert!(matches!(
        Rmd17Params::from_directory(dir.path(), 6, 100).unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
}

#[test]
fn published_lists_are_checked() {
    let make = |train: Vec<usize>, test: Vec<usize>| {
        SplitRequest::new(
            Strategy::Rmd17Published(Rmd17Params {
                n_frames: 100,
                split_number: 1,
                published_train: train,
                published_test: test,
            }),
            0,
        )
        .generate()
        .unwrap_err()
    };
    assert!(matches!(
        make(vec![1, 100], vec![2]),
        SplitError::IndexOutOfRange {
            index: 100,
            position: 1,
            ..
        }
    ));
    assert!(matches!(
        make(vec![1, 1], vec![2]),
        SplitError::DuplicateIndex { index: 1, .. }
    ));
    assert!(matches!(
        make(vec![1, 2], vec![2]),
        SplitError::DuplicateIndex { index: 2, .. }
    ));
}
