//! The one codec of every US section: reads and writes a [`Flat`] by the
//! section's [`UsSectionDef`].
//!
//! As the reference: every field is required (a short segment is an error),
//! bits after the last field are ignored, values are kept as read even when
//! outside the valid range, `.`-separated parts after the ones the section
//! defines are ignored, and a missing sub-segment leaves its fields at their
//! defaults with the "included" flag false.

use super::schema::{FieldDef, Flat, Kind, UsSectionDef};
use crate::bits::{check_base64, BitWriter, FieldReader};
use crate::GppError;

/// Section id of `usnat`, the one section with two layouts.
const USNAT_ID: u8 = 7;

/// Values the version 1 layout of `usnat` has for its two shorter lists.
fn v1_len(field: &FieldDef) -> Option<usize> {
    match field.name {
        "SensitiveDataProcessing" => Some(12),
        "KnownChildSensitiveDataConsents" => Some(2),
        _ => None,
    }
}

/// Decodes one section's text (without the `~`); `offset` is its position
/// in the whole string.
pub(crate) fn decode(def: &'static UsSectionDef, s: &str, offset: usize) -> Result<Flat, GppError> {
    let mut parts = s.split('.');
    let core = parts.next().unwrap_or("");
    check_base64(core, def.name, offset)?;
    let mut flat = def.defaults();
    // The reference widens a 60- or 66-bit usnat core (10 or 11 characters)
    // to the version 2 layout, whatever its Version says.
    let v1 = def.id == USNAT_ID && (core.len() == 10 || core.len() == 11);
    let mut r = FieldReader::new(core, def.name, 0);
    let core_slots = read_fields(&mut r, def.core, 0, &mut flat, v1)?;
    if def.id == USNAT_ID && flat.get(0) == 1 {
        // A version 2 layout that says Version 1: the reference shows only
        // the version 1 part of the two longer lists, and writes only that
        // part back, so the model keeps only that part too.
        clear_past_v1_lengths(def.core, &mut flat);
    }
    if let Some(sub) = def.sub {
        match parts.next() {
            Some(text) => {
                check_base64(text, def.name, offset + core.len() + 1)?;
                let mut r = FieldReader::new(text, def.name, 1);
                read_fields(&mut r, sub.fields, core_slots, &mut flat, false)?;
                flat.included = true;
            }
            None => flat.included = false,
        }
    }
    Ok(flat)
}

/// Reads `fields` into `flat` from `slot` on; returns the slot after them.
fn read_fields(
    r: &mut FieldReader<'_>,
    fields: &'static [FieldDef],
    mut slot: usize,
    flat: &mut Flat,
    v1: bool,
) -> Result<usize, GppError> {
    for f in fields {
        match f.kind {
            Kind::Int { bits, .. } => {
                let v = r.int(f.name, u32::from(bits))?;
                set(flat, slot, v);
            }
            Kind::Bool { .. } => {
                let v = r.int(f.name, 1)?;
                set(flat, slot, v);
            }
            Kind::List { bits, len, .. } => {
                let n = if v1 {
                    v1_len(f).unwrap_or(len.into())
                } else {
                    len.into()
                };
                let needed = n * usize::from(bits);
                if r.r.remaining() < needed {
                    return Err(r.truncated(f.name, needed));
                }
                for i in 0..n {
                    let v = r.int(f.name, u32::from(bits))?;
                    set(flat, slot + i, v);
                }
            }
        }
        slot += f.kind.slots();
    }
    Ok(slot)
}

/// Zeroes the entries of `usnat`'s two lists that only the version 2
/// layout has.
fn clear_past_v1_lengths(fields: &'static [FieldDef], flat: &mut Flat) {
    let mut slot = 0;
    for f in fields {
        if let (Kind::List { len, .. }, Some(kept)) = (f.kind, v1_len(f)) {
            for i in kept..usize::from(len) {
                set(flat, slot + i, 0);
            }
        }
        slot += f.kind.slots();
    }
}

fn set(flat: &mut Flat, slot: usize, v: u64) {
    if let Some(s) = flat.v.get_mut(slot) {
        // Every field is at most 6 bits wide.
        *s = v as u8;
    }
}

/// Appends the section's text (without the `~`).
pub(crate) fn encode(
    def: &'static UsSectionDef,
    flat: &Flat,
    out: &mut String,
) -> Result<(), GppError> {
    let v1 = def.id == USNAT_ID && flat.get(0) == 1;
    let mut w = BitWriter::new(out);
    let core_slots = write_fields(def, &mut w, def.core, 0, flat, v1)?;
    w.finish();
    if let Some(sub) = def.sub {
        if flat.included {
            out.push('.');
            let mut w = BitWriter::new(out);
            write_fields(def, &mut w, sub.fields, core_slots, flat, false)?;
            w.finish();
        }
    }
    Ok(())
}

fn write_fields(
    def: &UsSectionDef,
    w: &mut BitWriter<'_>,
    fields: &'static [FieldDef],
    mut slot: usize,
    flat: &Flat,
    v1: bool,
) -> Result<usize, GppError> {
    for f in fields {
        let (bits, n) = match f.kind {
            Kind::Int { bits, .. } => (bits, 1),
            Kind::Bool { .. } => (1, 1),
            Kind::List { bits, len, .. } => {
                let n = if v1 {
                    v1_len(f).unwrap_or(len.into())
                } else {
                    len.into()
                };
                (bits, n)
            }
        };
        for i in 0..n {
            let mut v = u64::from(flat.get(slot + i));
            if matches!(f.kind, Kind::Bool { .. }) {
                v = u64::from(v != 0);
            }
            if v >> bits != 0 {
                return Err(GppError::ValueTooLarge {
                    section: def.name,
                    field: f.name,
                    value: v,
                    bits: u32::from(bits),
                });
            }
            w.int(v, u32::from(bits));
        }
        slot += f.kind.slots();
    }
    Ok(slot)
}
