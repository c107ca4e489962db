//! SOAP hyper-parameters with DScribe's names and validation rules.

use crate::error::SoapError;

/// Largest supported angular degree (DScribe's limit).
pub const MAX_L_MAX: usize = 20;
/// Largest supported `n_max`: a bound on the radial basis (and on the memory of its
/// orthonormalisation and of the features) so that a typo cannot ask for gigabytes.
pub const MAX_N_MAX: usize = 32;

/// Radial basis functions, as DScribe's `rbf` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RadialBasisKind {
    /// Gaussian-type orbitals `r^l exp(-α_{nl} r²)`, Löwdin-orthonormalised (`rbf="gto"`).
    #[default]
    Gto,
    /// Polynomials `(r_cut - r)^{n+2}`, Löwdin-orthonormalised (`rbf="polynomial"`).
    Polynomial,
}

/// How per-centre information is averaged, as DScribe's `average` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Average {
    /// One power spectrum per centre (`average="off"`).
    #[default]
    Off,
    /// Average the expansion coefficients over centres, then take one power spectrum
    /// (`average="inner"`).
    Inner,
    /// Average the per-centre power spectra (`average="outer"`).
    Outer,
}

/// SOAP hyper-parameters (DScribe's `SOAP(species, r_cut, n_max, l_max, sigma, rbf, average)`,
/// non-periodic, no weighting function, no compression).
#[derive(Debug, Clone, PartialEq)]
pub struct SoapParams {
    /// Atomic numbers that may occur; order is irrelevant (they are sorted, as in DScribe).
    pub species: Vec<u32>,
    /// Radial cutoff in Å.
    pub r_cut: f64,
    /// Number of radial basis functions.
    pub n_max: usize,
    /// Maximum angular degree (≤ 20).
    pub l_max: usize,
    /// Standard deviation of the atomic Gaussians in Å.
    pub sigma: f64,
    /// Radial basis.
    pub rbf: RadialBasisKind,
    /// Averaging mode.
    pub average: Average,
}

impl SoapParams {
    /// Parameters with the GTO basis and no averaging.
    pub fn new(species: &[u32], r_cut: f64, n_max: usize, l_max: usize, sigma: f64) -> Self {
        Self {
            species: species.to_vec(),
            r_cut,
            n_max,
            l_max,
            sigma,
            rbf: RadialBasisKind::Gto,
            average: Average::Off,
        }
    }

    /// The same parameters with another radial basis.
    pub fn with_rbf(mut self, rbf: RadialBasisKind) -> Self {
        self.rbf = rbf;
        self
    }

    /// The same parameters with another averaging mode.
    pub fn with_average(mut self, average: Average) -> Self {
        self.average = average;
        self
    }

    /// Checks every parameter against DScribe's rules; returns the sorted species list.
    pub fn validate(&self) -> Result<Vec<u32>, SoapError> {
        if !self.r_cut.is_finite() || self.r_cut <= 0.0 {
            return Err(SoapError::InvalidCutoff {
                r_cut: self.r_cut,
                reason: "the cutoff must be finite and positive",
            });
        }
        if self.rbf == RadialBasisKind::Gto && self.r_cut <= 1.0 {
            return Err(SoapError::InvalidCutoff {
                r_cut: self.r_cut,
                reason: "the GTO radial basis needs r_cut > 1 Å",
            });
        }
        if self.n_max == 0 || self.n_max > MAX_N_MAX {
            return Err(SoapError::InvalidNMax(self.n_max));
        }
        if self.l_max > MAX_L_MAX {
            return Err(SoapError::InvalidLMax(self.l_max));
        }
        if !self.sigma.is_finite() || self.sigma <= 0.0 {
            return Err(SoapError::InvalidSigma(self.sigma));
        }
        let mut sorted = self.species.clone();
        sorted.sort_unstable();
        let invalid = |reason| SoapError::InvalidSpecies {
            species: self.species.clone(),
            reason,
        };
        if sorted.is_empty() {
            return Err(invalid("at least one species is needed"));
        }
        if sorted[0] == 0 {
            return Err(invalid("atomic numbers start at 1"));
        }
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid("species must be unique"));
        }
        Ok(sorted)
    }

    /// Gaussian exponent η = 1 / (2σ²) of the atomic densities `exp(-η |r - r_i|²)`.
    pub fn eta(&self) -> f64 {
        1.0 / (2.0 * self.sigma * self.sigma)
    }

    /// DScribe's neighbour-search padding σ·sqrt(-2 ln 10⁻³): atoms up to `r_cut + padding`
    /// contribute, so a Gaussian straddling the cutoff is not cut off abruptly.
    pub fn cutoff_padding(&self) -> f64 {
        self.sigma * (-2.0 * 1e-3f64.ln()).sqrt()
    }
}
