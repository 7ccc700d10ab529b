//! The field tables of the US sections: [`UsSectionDef`], [`FieldDef`],
//! [`Kind`], and [`Flat`], the values of one section in table order.
//!
//! Invariant: a section's slots (its core fields' values, then its
//! sub-segment's) fit in [`FLAT_SLOTS`]; the generator checks it.

/// Slots in a [`Flat`]: enough for the largest section (`usnat`, 35).
pub const FLAT_SLOTS: usize = 40;

/// How a field is coded and which values are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An unsigned integer of `bits` bits; the reference accepts
    /// `min..=max` when a value is set.
    Int {
        /// Width.
        bits: u8,
        /// Smallest valid value.
        min: u8,
        /// Largest valid value.
        max: u8,
        /// The reference's default.
        default: u8,
    },
    /// `len` integers of `bits` bits each, each valid in `min..=max`;
    /// the default is all zeros.
    List {
        /// Width of each value.
        bits: u8,
        /// Number of values.
        len: u8,
        /// Smallest valid value.
        min: u8,
        /// Largest valid value.
        max: u8,
    },
    /// One bit.
    Bool {
        /// The reference's default.
        default: bool,
    },
}

impl Kind {
    /// Values (slots) the field takes.
    pub const fn slots(self) -> usize {
        match self {
            Kind::List { len, .. } => len as usize,
            _ => 1,
        }
    }
}

/// One field: the reference's name and its coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The reference library's field name (also the JSON key).
    pub name: &'static str,
    /// How it is coded.
    pub kind: Kind,
}

/// An integer field.
pub(crate) const fn int(name: &'static str, bits: u8, min: u8, max: u8, default: u8) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::Int {
            bits,
            min,
            max,
            default,
        },
    }
}

/// A list field.
pub(crate) const fn list(name: &'static str, bits: u8, len: u8, min: u8, max: u8) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::List {
            bits,
            len,
            min,
            max,
        },
    }
}

/// A one-bit field.
pub(crate) const fn boolean(name: &'static str, default: bool) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::Bool { default },
    }
}

/// An optional sub-segment after the core, separated by `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubDef {
    /// Name of the flag saying whether it is written (`GpcSegmentIncluded`
    /// or `SensitiveDataConsentSegmentIncluded`); not coded in the bits.
    pub included: &'static str,
    /// The flag's default for a new section.
    pub included_default: bool,
    /// Whether this is the GPC sub-section.
    pub gpc: bool,
    /// Its fields in string order.
    pub fields: &'static [FieldDef],
}

/// One US section: id, API prefix, the version the reference writes, and
/// its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsSectionDef {
    /// Section id.
    pub id: u8,
    /// API prefix, e.g. `usnat`.
    pub name: &'static str,
    /// The section version the reference writes.
    pub version: u8,
    /// The core segment's fields.
    pub core: &'static [FieldDef],
    /// The optional sub-segment.
    pub sub: Option<SubDef>,
}

impl UsSectionDef {
    /// Every field with its first slot, core then sub-segment.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &'static FieldDef)> + '_ {
        let sub: &'static [FieldDef] = match self.sub {
            Some(s) => s.fields,
            None => &[],
        };
        self.core.iter().chain(sub.iter()).scan(0usize, |slot, f| {
            let at = *slot;
            *slot += f.kind.slots();
            Some((at, f))
        })
    }

    /// The field named `name` and its first slot.
    pub fn field(&self, name: &str) -> Option<(usize, &'static FieldDef)> {
        self.fields().find(|(_, f)| f.name == name)
    }

    /// The reference's defaults.
    pub fn defaults(&self) -> Flat {
        let mut flat = Flat::EMPTY;
        for (slot, f) in self.fields() {
            let v = match f.kind {
                Kind::Int { default, .. } => default,
                Kind::Bool { default } => u8::from(default),
                Kind::List { .. } => 0,
            };
            if let Some(s) = flat.v.get_mut(slot) {
                *s = v;
            }
        }
        flat.included = self.sub.is_some_and(|s| s.included_default);
        flat
    }
}

/// The values of one section in table order: each integer or boolean field
/// one slot, each list field one slot per value; `included` is the
/// sub-segment's flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flat {
    /// Values in slot order.
    pub v: [u8; FLAT_SLOTS],
    /// Whether the sub-segment is written.
    pub included: bool,
}

impl Flat {
    /// All zeros, no sub-segment.
    pub const EMPTY: Flat = Flat {
        v: [0; FLAT_SLOTS],
        included: false,
    };

    /// The value in `slot` (0 past the end).
    pub fn get(&self, slot: usize) -> u8 {
        self.v.get(slot).copied().unwrap_or(0)
    }
}
