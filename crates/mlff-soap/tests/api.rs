//! Typed errors, batch/stream consistency, centre selection and kernel behaviour.

use mlff_soap::{
    Average, AverageKernel, OwnedFrame, RadialBasisKind, RematchKernel, SimilaritySummary, Soap,
    SoapError, SoapParams, StructureKernel, set_similarity, similarity_to_training,
};
use ndarray::{Array1, Array2, Array3, Axis, array, s};

fn water() -> (Array1<u32>, Array2<f64>) {
    (
        array![8, 1, 1],
        array![
            [0.0, 0.0, 0.119],
            [0.0, 0.763, -0.477],
            [0.0, -0.763, -0.477]
        ],
    )
}

/// Water frames with a deterministic distortion per frame.
fn water_frames(n: usize) -> Array3<f64> {
    let (_, x) = water();
    Array3::from_shape_fn((n, 3, 3), |(f, i, a)| {
        x[[i, a]] + 0.05 * ((f * 7 + i * 3 + a) as f64).sin()
    })
}

fn soap() -> Soap {
    Soap::new(SoapParams::new(&[1, 8], 4.0, 4, 3, 0.5)).unwrap()
}

#[test]
fn bad_parameters_give_typed_errors() {
    let p = SoapParams::new(&[1, 8], 5.0, 8, 6, 0.5);
    let err = |p: SoapParams| Soap::new(p).unwrap_err();
    assert!(matches!(
        err(SoapParams {
            r_cut: 1.0,
            ..p.clone()
        }),
        SoapError::InvalidCutoff { .. }
    ));
    assert!(matches!(
        err(SoapParams {
            r_cut: f64::NAN,
            ..p.clone()
        }),
        SoapError::InvalidCutoff { .. }
    ));
    // The polynomial basis accepts r_cut ≤ 1 (DScribe only restricts gto).
    assert!(
        Soap::new(
            SoapParams {
                r_cut: 0.9,
                ..p.clone()
            }
            .with_rbf(RadialBasisKind::Polynomial)
        )
        .is_ok()
    );
    assert_eq!(
        err(SoapParams {
            n_max: 0,
            ..p.clone()
        }),
        SoapError::InvalidNMax(0)
    );
    assert_eq!(
        err(SoapParams {
            l_max: 21,
            ..p.clone()
        }),
        SoapError::InvalidLMax(21)
    );
    assert!(
        Soap::new(SoapParams {
            l_max: 20,
            ..p.clone()
        })
        .is_ok()
    );
    assert_eq!(
        err(SoapParams {
            sigma: 0.0,
            ..p.clone()
        }),
        SoapError::InvalidSigma(0.0)
    );
    assert!(matches!(
        err(SoapParams {
            species: vec![],
            ..p.clone()
        }),
        SoapError::InvalidSpecies { .. }
    ));
    assert!(matches!(
        err(SoapParams {
            species: vec![1, 1],
            ..p.clone()
        }),
        SoapError::InvalidSpecies { .. }
    ));
    assert!(matches!(
        err(SoapParams {
            species: vec![0, 1],
            ..p
        }),
        SoapError::InvalidSpecies { .. }
    ));
}

#[test]
fn bad_inputs_give_typed_errors() {
    let soap = soap();
    let (z, x) = water();
    let e = soap.compute(array![8, 1, 6].view(), x.view()).unwrap_err();
    assert!(
        matches!(e, SoapError::UnknownSpecies { atom: 2, z: 6, .. }),
        "{e}"
    );
    let empty_z: Array1<u32> = Array1::zeros(0);
    let empty_x: Array2<f64> = Array2::zeros((0, 3));
    assert!(matches!(
        soap.compute(empty_z.view(), empty_x.view()),
        Err(SoapError::EmptyInput(_))
    ));
    assert!(matches!(
        soap.compute(z.view(), x.slice(s![..2, ..])),
        Err(SoapError::ShapeMismatch { .. })
    ));
    let mut bad = x.clone();
    bad[[1, 2]] = f64::NAN;
    assert_eq!(
        soap.compute(z.view(), bad.view()).unwrap_err(),
        SoapError::NonFinite {
            what: "positions",
            index: 5
        }
    );
    assert!(matches!(
        soap.compute_centres(z.view(), x.view(), &[3]),
        Err(SoapError::CentreOutOfRange { index: 3, .. })
    ));
    assert!(matches!(
        soap.compute_centres(z.view(), x.view(), &[]),
        Err(SoapError::EmptyInput(_))
    ));
    let no_frames = Array3::<f64>::zeros((0, 3, 3));
    assert!(matches!(
        soap.compute_batch(z.view(), no_frames.view(), None),
        Err(SoapError::EmptyInput(_))
    ));
    // Error messages say what and where.
    let msg = soap
        .compute(array![8, 1, 6].view(), x.view())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("atom 2") && msg.contains("atomic number 6"),
        "{msg}"
    );
}

#[test]
fn centre_selection_picks_rows_and_averages_over_them() {
    let soap = soap();
    let (z, x) = water();
    let all = soap.compute(z.view(), x.view()).unwrap();
    let picked = soap
        .compute_centres(z.view(), x.view(), &[2, 0, 2])
        .unwrap();
    for (row, &atom) in [2usize, 0, 2].iter().enumerate() {
        assert_eq!(picked.row(row), all.row(atom));
    }
    let outer = soap
        .with_average(Average::Outer)
        .compute_centres(z.view(), x.view(), &[1, 2])
        .unwrap();
    let expected = all.slice(s![1..3, ..]).mean_axis(Axis(0)).unwrap();
    for (a, b) in outer.row(0).iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0));
    }
}

#[test]
fn isolated_atom_has_a_nonzero_vector() {
    // DScribe 2.1.2 includes the centre's own Gaussian.
    let soap = soap();
    let v = soap
        .compute(array![8].view(), array![[0.0, 0.0, 0.0]].view())
        .unwrap();
    assert!(v.iter().any(|&x| x > 0.0));
}

#[test]
fn batch_chunks_and_streams_agree() {
    let soap = soap();
    let (z, _) = water();
    let frames = water_frames(7);
    let batch = soap.compute_batch(z.view(), frames.view(), None).unwrap();
    let mut seen = 0;
    for chunk in soap.chunks(z.view(), frames.view(), None, 3).unwrap() {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.first_frame, seen);
        let n = chunk.descriptors.len_of(Axis(0));
        assert_eq!(chunk.descriptors, batch.slice(s![seen..seen + n, .., ..]));
        seen += n;
    }
    assert_eq!(seen, 7);
    let owned = (0..7).map(|f| OwnedFrame {
        numbers: z.clone(),
        positions: frames.index_axis(Axis(0), f).to_owned(),
    });
    let mut streamed = Vec::new();
    let n = soap
        .for_each_chunk(owned, 2, |first, chunk| {
            assert_eq!(first, streamed.len());
            streamed.extend(chunk);
            Ok::<(), SoapError>(())
        })
        .unwrap();
    assert_eq!(n, 7);
    for (f, d) in streamed.iter().enumerate() {
        assert_eq!(d, &batch.index_axis(Axis(0), f));
    }
    assert!(soap.chunks(z.view(), frames.view(), None, 0).is_err());
}

#[test]
fn rematch_interpolates_between_best_match_and_average() {
    // Local similarity matrix with a clear best match on the diagonal.
    let c = array![[1.0, 0.2, 0.1], [0.2, 1.0, 0.3], [0.1, 0.3, 1.0]];
    let average = AverageKernel {
        normalize_environments: false,
    }
    .global_similarity(c.view())
    .unwrap();
    let wide = RematchKernel {
        alpha: 1e4,
        threshold: 1e-14,
        ..RematchKernel::default()
    };
    assert!((wide.global_similarity(c.view()).unwrap() - average).abs() < 1e-4);
    let sharp = RematchKernel {
        alpha: 0.01,
        threshold: 1e-14,
        ..RematchKernel::default()
    };
    // Best match = the permutation maximising the trace: mean of the diagonal = 1.
    assert!((sharp.global_similarity(c.view()).unwrap() - 1.0).abs() < 1e-6);
    let bad = RematchKernel {
        alpha: 0.0,
        ..RematchKernel::default()
    };
    assert!(matches!(
        bad.global_similarity(c.view()),
        Err(SoapError::InvalidKernelParameter { .. })
    ));
}

#[test]
fn similarity_to_training_and_set_summaries() {
    let soap = soap().with_average(Average::Inner);
    let (z, _) = water();
    let frames = water_frames(6);
    let avg = soap.compute_batch(z.view(), frames.view(), None).unwrap();
    let avg = avg.index_axis(Axis(1), 0);
    let train = avg.slice(s![..4, ..]);
    let test = avg.slice(s![2.., ..]);
    let sims = similarity_to_training(test, train).unwrap();
    // Frames 2 and 3 are in the training set: similarity 1 to themselves.
    assert!((sims[0].max - 1.0).abs() < 1e-12 && sims[0].nearest == 2);
    assert!((sims[1].max - 1.0).abs() < 1e-12 && sims[1].nearest == 3);
    assert!(sims.iter().all(|s| s.mean <= s.max && s.max <= 1.0 + 1e-12));
    let summary = set_similarity(test, train).unwrap();
    assert!(summary.mmd2 >= -1e-12);
    let same = set_similarity(train, train).unwrap();
    assert!(same.mmd2.abs() < 1e-12);
    assert!((same.max_to_other.min - 1.0).abs() < 1e-12);
    let s = SimilaritySummary::from_values(&[0.0, 1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!((s.min, s.median, s.max, s.mean), (0.0, 2.0, 4.0, 2.0));
    assert!((s.p05 - 0.2).abs() < 1e-12 && (s.p95 - 3.8).abs() < 1e-12);
    assert!(SimilaritySummary::from_values(&[]).is_err());
}
