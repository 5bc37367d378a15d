//! Finds the line and column of a field path (`events[2].partner`) in a scenario's text,
//! so that checks made after deserialisation can still point at the file.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// 1-based (line, column) of a byte offset.
pub fn position_of_offset(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|i| offset - i).unwrap_or(offset + 1);
    (line, col)
}

/// A parsed copy of the file with spans.
pub struct Locator<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Locator<'a> {
        Locator { text, root: DeTable::parse(text).ok() }
    }

    /// The position of the deepest part of `path` found in the file (a key, or an array item).
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        self.find(path, false)
    }

    /// Like [`Locator::locate`], but at the value when the whole path is found.
    pub fn locate_value(&self, path: &str) -> Option<(usize, usize)> {
        self.find(path, true)
    }

    fn find(&self, path: &str, at_value: bool) -> Option<(usize, usize)> {
        let root = self.root.as_ref()?;
        let mut best: Option<usize> = None;
        let mut table: Option<&DeTable> = Some(root.get_ref());
        let mut value: Option<&Spanned<DeValue>> = None;
        let segments = segments(path);
        let mut found_all = true;
        for seg in segments {
            match seg {
                Segment::Key(k) => {
                    let t = match (table, value.map(|v| v.get_ref())) {
                        (Some(t), _) => t,
                        (None, Some(DeValue::Table(t))) => t,
                        _ => break,
                    };
                    let Some((key, v)) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k) else {
                        found_all = false;
                        break;
                    };
                    best = Some(key.span().start);
                    value = Some(v);
                    table = None;
                }
                Segment::Index(i) => {
                    let Some(DeValue::Array(a)) = value.map(|v| v.get_ref()) else {
                        found_all = false;
                        break;
                    };
                    let Some(v) = a.get(i) else {
                        found_all = false;
                        break;
                    };
                    best = Some(v.span().start);
                    value = Some(v);
                    table = None;
                }
            }
        }
        if at_value
            && found_all
            && let Some(v) = value
        {
            best = Some(v.span().start);
        }
        best.map(|o| position_of_offset(self.text, o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let text = "name = \"x\"\n\n[[events]]\npartner = \"A\"\n\n[[events]]\nname = \"b\"\npartner = \"CHA\"\n";
        let loc = Locator::new(text);
        assert_eq!(loc.locate("name"), Some((1, 1)));
        assert_eq!(loc.locate("events[1].partner"), Some((8, 1)));
        assert_eq!(loc.locate("events[0].partner"), Some((4, 1)));
        // A missing field points at its table.
        assert_eq!(loc.locate("events[1].effective").map(|p| p.0), Some(6));
        assert_eq!(loc.locate("nothing.here"), None);
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        assert_eq!(position_of_offset("ab\ncd", 0), (1, 1));
        assert_eq!(position_of_offset("ab\ncd", 4), (2, 2));
    }
}
