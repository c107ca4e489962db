//! The map between chemical elements and the model's atom types.

use crate::error::{NequipError, Result};

/// Atom types of a model: type index ↔ element, in `type_names` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeMap {
    names: Vec<String>,
    numbers: Vec<u8>,
    index_of_z: [Option<usize>; 256],
}

impl TypeMap {
    /// Types from element symbols (`["H", "C", "O"]`).
    pub fn from_symbols(names: &[String]) -> Result<Self> {
        let mut index_of_z = [None; 256];
        let mut numbers = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let z = mlff_data::elements::atomic_number(name).ok_or_else(|| {
                NequipError::Config(format!("type name {name:?} is not an element symbol"))
            })?;
            if index_of_z[z as usize].replace(i).is_some() {
                return Err(NequipError::Config(format!("type {name} listed twice")));
            }
            numbers.push(z);
        }
        Ok(Self {
            names: names.to_vec(),
            numbers,
            index_of_z,
        })
    }
    /// Number of types.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// Whether there are no types.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    /// Element symbols in type order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Atomic numbers in type order.
    pub fn atomic_numbers(&self) -> &[u8] {
        &self.numbers
    }
    /// The type index of element `z`, if the model has it.
    pub fn type_of(&self, z: u8) -> Option<usize> {
        self.index_of_z[z as usize]
    }
    /// The type names joined for messages.
    pub fn describe(&self) -> String {
        self.names.join(", ")
    }
}
