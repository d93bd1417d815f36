//! Segment counting. A single SMS carries 140 octets: 160 GSM-7 septets or 70
//! UCS-2 code units. A longer text is split into concatenated parts whose
//! user-data header takes room, leaving 153 septets or 67 code units each. A
//! character of the GSM extension table (escape + char) takes two septets and
//! is never split across parts; a UTF-16 surrogate pair is never split either.
//! One character outside the GSM alphabet turns the whole text into UCS-2.

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

/// How the text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// The name carriers and Twilio use: "GSM-7" or "UCS-2".
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    fn part_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }
}

/// What a text costs to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SegmentCount {
    pub encoding: Encoding,
    /// Parts the text is sent in (an empty text still takes one SMS).
    pub segments: usize,
    /// Characters as the segment budget sees them: septets in GSM-7 (an
    /// extension character such as `€` counts twice), user-perceived
    /// characters (grapheme clusters) in UCS-2.
    pub characters: usize,
    /// Code units on the air: septets in GSM-7, 16-bit units in UCS-2.
    #[serde(skip)]
    pub units: usize,
}

/// Septets the character takes in the GSM 03.38 default alphabet with its
/// extension table, or `None` when the alphabet lacks it.
pub fn gsm_septets(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{c}^{}\\[~]|€";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Count the segments, encoding and characters of an SMS text.
pub fn count_segments(text: &str) -> SegmentCount {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm_septets).collect();
    let (encoding, atoms) = match gsm {
        Some(septets) => (Encoding::Gsm7, septets),
        None => (Encoding::Ucs2, text.chars().map(char::len_utf16).collect()),
    };
    let units: usize = atoms.iter().sum();
    let characters = match encoding {
        Encoding::Gsm7 => units,
        Encoding::Ucs2 => text.graphemes(true).count(),
    };
    let segments = if units <= encoding.single_capacity() { 1 } else { pack(&atoms, encoding.part_capacity()) };
    SegmentCount { encoding, segments, characters, units }
}

/// Parts needed when no atom (an escape sequence, a surrogate pair) may straddle two parts.
fn pack(atoms: &[usize], capacity: usize) -> usize {
    let mut parts = 1;
    let mut used = 0;
    for &atom in atoms {
        if used + atom > capacity {
            parts += 1;
            used = 0;
        }
        used += atom;
    }
    parts
}
