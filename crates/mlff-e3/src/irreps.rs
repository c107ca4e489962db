//! Irreducible representations of O(3) and multiplicity lists, in e3nn's notation.
//!
//! A feature vector with irreps `8x0e+8x1o` stores, e3nn-style, the 8 scalars first and then
//! the 8 vectors, each vector's 3 components contiguous (`[mul][2l+1]` per block).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::error::{E3Error, Result};

/// Parity of an irrep under inversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Parity {
    /// Changes sign under inversion (`o`); sorts before even, as in e3nn.
    Odd,
    /// Unchanged under inversion (`e`).
    Even,
}

impl Parity {
    /// `+1` or `-1`.
    pub fn sign(self) -> i32 {
        match self {
            Parity::Even => 1,
            Parity::Odd => -1,
        }
    }
    /// Parity of a product of two irreps.
    pub fn product(self, other: Parity) -> Parity {
        if self == other {
            Parity::Even
        } else {
            Parity::Odd
        }
    }
    /// The parity `(-1)^l` of the spherical harmonic of degree `l`.
    pub fn of_spherical_harmonic(l: u32) -> Parity {
        if l.is_multiple_of(2) {
            Parity::Even
        } else {
            Parity::Odd
        }
    }
}

/// One irreducible representation of O(3): degree `l` and parity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Irrep {
    /// Degree (rotation order); dimension is `2l+1`.
    pub l: u32,
    /// Parity under inversion.
    pub p: Parity,
}

impl Irrep {
    /// Creates an irrep.
    pub fn new(l: u32, p: Parity) -> Self {
        Self { l, p }
    }
    /// Dimension `2l+1`.
    pub fn dim(self) -> usize {
        2 * self.l as usize + 1
    }
    /// Whether this is the trivial (`0e`) representation.
    pub fn is_scalar(self) -> bool {
        self.l == 0 && self.p == Parity::Even
    }
    /// The irreps appearing in the product `self ⊗ other` (l from |l1-l2| to l1+l2).
    pub fn product(self, other: Irrep) -> impl Iterator<Item = Irrep> {
        let p = self.p.product(other.p);
        (self.l.abs_diff(other.l)..=self.l + other.l).map(move |l| Irrep::new(l, p))
    }
    /// Sign of the representation of the inversion: `p`.
    pub fn inversion_sign(self) -> f64 {
        f64::from(self.p.sign())
    }
}

impl fmt::Display for Irrep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.p {
            Parity::Even => 'e',
            Parity::Odd => 'o',
        };
        write!(f, "{}{}", self.l, p)
    }
}

impl FromStr for Irrep {
    type Err = E3Error;
    fn from_str(s: &str) -> Result<Self> {
        parse_irrep(s.trim()).map_err(|reason| E3Error::IrrepsParse {
            input: s.to_string(),
            term: 0,
            reason,
        })
    }
}

/// Parses `1o`, `2e` or `3y` (`y`: parity of the spherical harmonic, `(-1)^l`).
fn parse_irrep(s: &str) -> std::result::Result<Irrep, String> {
    let Some(last) = s.chars().last() else {
        return Err("empty irrep".into());
    };
    let digits = &s[..s.len() - last.len_utf8()];
    let l: u32 = digits
        .parse()
        .map_err(|_| format!("degree {digits:?} is not a non-negative integer"))?;
    let p = match last {
        'e' => Parity::Even,
        'o' => Parity::Odd,
        'y' => Parity::of_spherical_harmonic(l),
        c => return Err(format!("parity {c:?} is not one of e, o, y")),
    };
    Ok(Irrep::new(l, p))
}

/// An irrep with a multiplicity (`8x1o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MulIrrep {
    /// Number of copies (channels).
    pub mul: usize,
    /// The irrep.
    pub ir: Irrep,
}

impl MulIrrep {
    /// Creates a multiplicity-irrep pair.
    pub fn new(mul: usize, ir: Irrep) -> Self {
        Self { mul, ir }
    }
    /// Total dimension `mul·(2l+1)`.
    pub fn dim(self) -> usize {
        self.mul * self.ir.dim()
    }
}

impl fmt::Display for MulIrrep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.mul, self.ir)
    }
}

/// A direct sum of irreps with multiplicities, e.g. `8x0e+8x1o+8x2e`; the order is significant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Irreps(Vec<MulIrrep>);

/// Result of [`Irreps::sort`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedIrreps {
    /// The sorted irreps.
    pub irreps: Irreps,
    /// `p[old] = new`: where each original block went.
    pub p: Vec<usize>,
    /// `inv[new] = old`: where each sorted block came from.
    pub inv: Vec<usize>,
}

impl Irreps {
    /// Builds irreps from a list of blocks.
    pub fn new(blocks: Vec<MulIrrep>) -> Self {
        Self(blocks)
    }
    /// `1x0e+1x1o+1x2e+…` up to `lmax`, parities `(-1)^l`: the spherical-harmonic irreps.
    pub fn spherical_harmonics(lmax: u32) -> Self {
        Self(
            (0..=lmax)
                .map(|l| MulIrrep::new(1, Irrep::new(l, Parity::of_spherical_harmonic(l))))
                .collect(),
        )
    }
    /// The blocks.
    pub fn blocks(&self) -> &[MulIrrep] {
        &self.0
    }
    /// Iterates over the blocks.
    pub fn iter(&self) -> std::slice::Iter<'_, MulIrrep> {
        self.0.iter()
    }
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Total dimension Σ mul·(2l+1).
    pub fn dim(&self) -> usize {
        self.0.iter().map(|b| b.dim()).sum()
    }
    /// Total number of irreps Σ mul.
    pub fn num_irreps(&self) -> usize {
        self.0.iter().map(|b| b.mul).sum()
    }
    /// Largest degree (0 when empty).
    pub fn lmax(&self) -> u32 {
        self.0.iter().map(|b| b.ir.l).max().unwrap_or(0)
    }
    /// Start offset of every block in a feature vector.
    pub fn offsets(&self) -> Vec<usize> {
        self.0
            .iter()
            .scan(0, |acc, b| {
                let start = *acc;
                *acc += b.dim();
                Some(start)
            })
            .collect()
    }
    /// Index range of every block in a feature vector.
    pub fn slices(&self) -> Vec<Range<usize>> {
        self.offsets()
            .into_iter()
            .zip(&self.0)
            .map(|(o, b)| o..o + b.dim())
            .collect()
    }
    /// Merges consecutive blocks of the same irrep and drops empty ones (e3nn `simplify`).
    pub fn simplify(&self) -> Irreps {
        let mut out: Vec<MulIrrep> = Vec::new();
        for b in self.0.iter().filter(|b| b.mul > 0) {
            match out.last_mut() {
                Some(last) if last.ir == b.ir => last.mul += b.mul,
                _ => out.push(*b),
            }
        }
        Irreps(out)
    }
    /// Stable sort by (l, parity odd-first), with the permutation (e3nn `sort`).
    pub fn sort(&self) -> SortedIrreps {
        let mut inv: Vec<usize> = (0..self.len()).collect();
        inv.sort_by_key(|&i| (self.0[i].ir, i));
        let mut p = vec![0; self.len()];
        for (new, &old) in inv.iter().enumerate() {
            p[old] = new;
        }
        SortedIrreps {
            irreps: Irreps(inv.iter().map(|&i| self.0[i]).collect()),
            p,
            inv,
        }
    }
    /// Concatenation `self + other`.
    pub fn concat(&self, other: &Irreps) -> Irreps {
        Irreps(self.0.iter().chain(&other.0).copied().collect())
    }
    /// Whether any block holds `ir` with non-zero multiplicity.
    pub fn contains(&self, ir: Irrep) -> bool {
        self.0.iter().any(|b| b.ir == ir && b.mul > 0)
    }
}

impl std::ops::Index<usize> for Irreps {
    type Output = MulIrrep;
    fn index(&self, i: usize) -> &MulIrrep {
        &self.0[i]
    }
}

impl<'a> IntoIterator for &'a Irreps {
    type Item = &'a MulIrrep;
    type IntoIter = std::slice::Iter<'a, MulIrrep>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Irreps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

impl FromStr for Irreps {
    type Err = E3Error;
    /// Parses e3nn notation: `8x0e+8x1o`, `0e + 2x1o`, `3y`; the empty string is empty irreps.
    fn from_str(s: &str) -> Result<Self> {
        if s.trim().is_empty() {
            return Ok(Irreps::default());
        }
        let blocks = s
            .split('+')
            .enumerate()
            .map(|(term, t)| {
                parse_mul_irrep(t.trim()).map_err(|reason| E3Error::IrrepsParse {
                    input: s.to_string(),
                    term,
                    reason,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Irreps(blocks))
    }
}

fn parse_mul_irrep(t: &str) -> std::result::Result<MulIrrep, String> {
    match t.split_once('x') {
        Some((m, ir)) => {
            let mul = m
                .trim()
                .parse()
                .map_err(|_| format!("multiplicity {m:?} is not a non-negative integer"))?;
            Ok(MulIrrep::new(mul, parse_irrep(ir.trim())?))
        }
        None => Ok(MulIrrep::new(1, parse_irrep(t)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_print_roundtrip_and_dims() {
        let irreps: Irreps = "8x0e + 8x1o+8x2e".parse().unwrap();
        assert_eq!(irreps.to_string(), "8x0e+8x1o+8x2e");
        assert_eq!(irreps.dim(), 8 + 24 + 40);
        assert_eq!(irreps.num_irreps(), 24);
        assert_eq!(irreps.offsets(), vec![0, 8, 32]);
        assert_eq!(irreps.slices()[2], 32..72);
        let single: Irreps = "1o".parse().unwrap();
        assert_eq!(single.to_string(), "1x1o");
        let y: Irreps = "2x2y+3y".parse().unwrap();
        assert_eq!(y.to_string(), "2x2e+1x3o");
        assert!("".parse::<Irreps>().unwrap().is_empty());
    }

    #[test]
    fn parse_errors_name_the_term() {
        for bad in ["8x0q", "ax1o", "8x", "1o+-2e", "x1e"] {
            let err = bad.parse::<Irreps>().unwrap_err();
            assert!(matches!(err, E3Error::IrrepsParse { .. }), "{bad}: {err}");
        }
        let err = "1o+2z".parse::<Irreps>().unwrap_err();
        assert!(matches!(err, E3Error::IrrepsParse { term: 1, .. }));
    }

    #[test]
    fn simplify_and_sort_follow_e3nn() {
        let irreps: Irreps = "8x0e+8x0e+0x1o+8x1o+8x0e".parse().unwrap();
        assert_eq!(irreps.simplify().to_string(), "16x0e+8x1o+8x0e");
        // nequip's irreps_mid for layer 1 of the fixture, sorted as e3nn does (odd before even).
        let mid: Irreps = "8x0e+8x1o+8x2e+8x1o+8x0e+8x1e+8x2o+8x2e+8x2e+8x1o+8x2o+8x1e+8x0e"
            .parse()
            .unwrap();
        let sorted = mid.sort();
        assert_eq!(
            sorted.irreps.simplify().to_string(),
            "24x0e+24x1o+16x1e+16x2o+24x2e"
        );
        for (old, &new) in sorted.p.iter().enumerate() {
            assert_eq!(sorted.inv[new], old);
            assert_eq!(sorted.irreps[new], mid[old]);
        }
    }

    #[test]
    fn products_follow_selection_rules() {
        let a = Irrep::new(1, Parity::Odd);
        let b = Irrep::new(2, Parity::Even);
        let out: Vec<String> = a.product(b).map(|i| i.to_string()).collect();
        assert_eq!(out, ["1o", "2o", "3o"]);
    }
}
