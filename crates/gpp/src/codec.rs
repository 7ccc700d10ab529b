//! [`decode`] and [`encode`]: the GPP string as a whole. The header
//! section is `DB` (type 3, version 1) followed by the section ids as a
//! Fibonacci-coded range list; the sections follow, each after a `~`.
//!
//! As the reference: a string starting with `C` is a bare TC string and
//! decodes to one `tcfeuv2` section; the header must list exactly as many
//! ids as there are sections; a blank section is an error; sections whose
//! id the reference does not know are skipped. Sections are written in id
//! order, whatever the order of [`GppString::sections`].

use crate::bits::{check_base64, write_fibonacci_ranges, BitWriter, FieldReader};
use crate::model::{GppString, Section, HEADER_VERSION};
use crate::tcfcav1::TcfCaV1;
use crate::tcfeuv2::TcfEuV2;
use crate::uspv1::UspV1;
use crate::GppError;

/// The header's section type.
const HEADER_TYPE: u64 = 3;

/// The section ids of a header, as inclusive ranges in ascending order,
/// and their count (checked against overflow).
pub(crate) struct HeaderIds {
    pub(crate) ranges: Vec<(u64, u64)>,
    pub(crate) count: u64,
}

/// Reads the header section's text (up to the first `~`).
pub(crate) fn decode_header(header: &str) -> Result<HeaderIds, GppError> {
    let header = header.split('.').next().unwrap_or("");
    if !header.starts_with("DB") {
        return Err(GppError::NotGpp);
    }
    check_base64(header, "header", 0)?;
    let mut r = FieldReader::new(header, "header", 0);
    let ty = r.int("Id", 6)?;
    let version = r.int("Version", 6)?;
    debug_assert!(ty == HEADER_TYPE && version == u64::from(HEADER_VERSION));
    let mut ids = HeaderIds {
        ranges: Vec::new(),
        count: 0,
    };
    r.fibonacci_ranges("SectionIds", |start, end, bit| {
        ids.count = (end - start)
            .checked_add(1)
            .and_then(|n| ids.count.checked_add(n))
            .ok_or(GppError::InvalidFibonacci {
                section: "header",
                field: "SectionIds",
                segment: 0,
                bit,
                reason: "too many section ids",
            })?;
        ids.ranges.push((start, end));
        Ok(())
    })?;
    Ok(ids)
}

/// Decodes a GPP string.
///
/// ```
/// let gpp = nexaguard_gpp::decode("DBABLA~BVQqAAAAAgA.QA").unwrap();
/// assert_eq!(gpp.section_ids(), vec![7]);
/// ```
pub fn decode(s: &str) -> Result<GppString, GppError> {
    if s.is_empty() {
        return Err(GppError::Empty);
    }
    if !s.starts_with("DB") && s.starts_with('C') {
        return Ok(GppString {
            sections: vec![Section::TcfEuV2(TcfEuV2::decode(s)?)],
        });
    }
    let mut parts = s.split('~');
    let header = decode_header(parts.next().unwrap_or(""))?;
    let found = s.bytes().filter(|&b| b == b'~').count();
    if header.count != found as u64 {
        return Err(GppError::SectionCountMismatch {
            declared: header.count,
            found,
        });
    }
    let mut sections = Vec::with_capacity(found);
    let ids = header.ranges.iter().flat_map(|&(a, b)| a..=b);
    for (index, (id, text)) in ids.zip(parts).enumerate() {
        if text.trim().is_empty() {
            return Err(GppError::EmptySection {
                index: index + 1,
                id,
            });
        }
        let offset = text.as_ptr() as usize - s.as_ptr() as usize;
        if let Some(section) = decode_section(id, text, offset)? {
            sections.push(section);
        }
    }
    Ok(GppString { sections })
}

/// Decodes one section's text; `None` for an id the reference does not know.
pub(crate) fn decode_section(
    id: u64,
    text: &str,
    offset: usize,
) -> Result<Option<Section>, GppError> {
    let Ok(id) = u8::try_from(id) else {
        return Ok(None);
    };
    Ok(Some(match id {
        crate::tcfeuv2::ID => Section::TcfEuV2(TcfEuV2::decode(text)?),
        crate::tcfcav1::ID => Section::TcfCaV1(TcfCaV1::decode(text, offset)?),
        crate::uspv1::ID => Section::UspV1(UspV1::decode(text)?),
        _ => match crate::us::us_def(id) {
            Some(def) => {
                let flat = crate::us::codec::decode(def, text, offset)?;
                match Section::from_us(id, &flat) {
                    Some(section) => section,
                    None => return Ok(None),
                }
            }
            None => return Ok(None),
        },
    }))
}

/// Encodes a model: the header, then each section in id order.
///
/// ```
/// use nexaguard_gpp::{encode, GppString, Section, UsCa};
/// let gpp = GppString { sections: vec![Section::UsCa(UsCa::default())] };
/// assert_eq!(encode(&gpp).unwrap(), "DBABBg~BAAAAABA.QA");
/// ```
pub fn encode(gpp: &GppString) -> Result<String, GppError> {
    let mut order: Vec<&Section> = gpp.sections.iter().collect();
    order.sort_by_key(|s| s.id());
    for pair in order.windows(2) {
        if let [a, b] = pair {
            if a.id() == b.id() {
                return Err(GppError::DuplicateSection {
                    id: a.id(),
                    name: a.name(),
                });
            }
        }
    }
    let ids: Vec<u64> = order.iter().map(|s| u64::from(s.id())).collect();
    let mut out = String::with_capacity(16 + 32 * order.len());
    let mut w = BitWriter::new(&mut out);
    w.int(HEADER_TYPE, 6);
    w.int(u64::from(HEADER_VERSION), 6);
    write_fibonacci_ranges(&mut w, &ids);
    w.finish();
    for section in order {
        out.push('~');
        encode_section(section, &mut out)?;
    }
    Ok(out)
}

/// Appends one section's text.
pub(crate) fn encode_section(section: &Section, out: &mut String) -> Result<(), GppError> {
    match section {
        Section::TcfEuV2(s) => s.encode(out),
        Section::TcfCaV1(s) => s.encode(out),
        Section::UspV1(s) => s.encode(out),
        other => match other.us() {
            Some((def, flat)) => crate::us::codec::encode(def, &flat, out),
            None => Ok(()),
        },
    }
}
