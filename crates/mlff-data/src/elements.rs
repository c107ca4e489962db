//! Element symbols and atomic numbers (the whole periodic table, Z = 1..=118).

/// Symbols indexed by atomic number minus one.
const SYMBOLS: [&str; 118] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh",
    "Fl", "Mc", "Lv", "Ts", "Og",
];

/// The symbol of atomic number `z`, or `None` outside 1..=118.
pub fn symbol(z: u8) -> Option<&'static str> {
    SYMBOLS.get(usize::from(z).checked_sub(1)?).copied()
}

/// The atomic number of a symbol (case-insensitive, as ASE accepts `c` for `C`), or `None`.
pub fn atomic_number(symbol: &str) -> Option<u8> {
    let symbol = symbol.trim();
    SYMBOLS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(symbol))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Whether `z` is a valid atomic number.
pub fn is_valid(z: u8) -> bool {
    symbol(z).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_numbers_are_inverse() {
        for z in 1..=118u8 {
            assert_eq!(atomic_number(symbol(z).unwrap()), Some(z));
        }
        assert_eq!(atomic_number("C"), Some(6));
        assert_eq!(atomic_number("o"), Some(8));
        assert_eq!(symbol(0), None);
        assert_eq!(symbol(119), None);
        assert_eq!(atomic_number("Xx"), None);
    }
}
