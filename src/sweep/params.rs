//! Parameter paths: `behaviour.exporter_absorption`, `rules[0].cap`,
//! `events["Geneva truce"].effective`, `regions[USA].exporter_absorption`.
//!
//! A path is written as the validator writes field paths in its errors, and an element of
//! an array of tables that has names (regions, sectors, events, rules) may be addressed by
//! its name as well as by its index. A path is checked against the scenario schema
//! ([`crate::scenario::schema`]) and the base file before anything runs, and a value is
//! set in the base file's own text (`toml_edit`), so the scenario a run used is the base
//! file with only its swept values changed.

use super::spec::{nearest, unknown_in};
use crate::scenario::schema::{self, Node};
use toml_edit::{ArrayOfTables, DocumentMut, Item, TableLike, Value};

/// One step of a path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    Name(String),
}

/// A parsed parameter path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamPath {
    segments: Vec<Segment>,
}

/// A path checked against the base file: keys and indices only (names resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    steps: Vec<Step>,
    /// The path as the validator writes it (`events[3].effective`).
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl ParamPath {
    /// Parses `a.b[0].c`, `a[NAME].b`, `a["a name"].b`; an error says what is wrong where.
    pub fn parse(text: &str) -> Result<ParamPath, String> {
        let mut segments = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let expected =
            "a path such as behaviour.exporter_absorption, rules[0].cap or events[\"Geneva truce\"].effective";
        if chars.is_empty() {
            return Err(format!("empty path; expected {expected}"));
        }
        loop {
            let start = i;
            while i < chars.len() && is_key_char(chars[i]) {
                i += 1;
            }
            if i == start {
                let at = chars.get(i).map_or("the end".to_string(), |c| format!("'{c}'"));
                return Err(format!("expected a key at {at} (character {}); expected {expected}", i + 1));
            }
            segments.push(Segment::Key(chars[start..i].iter().collect()));
            while i < chars.len() && chars[i] == '[' {
                i += 1;
                let quote = chars.get(i).copied().filter(|&c| c == '"' || c == '\'');
                let inner_start = if quote.is_some() { i + 1 } else { i };
                let close = match quote {
                    Some(q) => (inner_start..chars.len()).find(|&j| chars[j] == q && chars.get(j + 1) == Some(&']')),
                    None => (inner_start..chars.len()).find(|&j| chars[j] == ']'),
                };
                let Some(end) = close else {
                    return Err(format!("'[' at character {} is never closed; expected {expected}", inner_start));
                };
                let inner: String = chars[inner_start..end].iter().collect();
                i = if quote.is_some() { end + 2 } else { end + 1 };
                if inner.is_empty() {
                    return Err("empty brackets []; give an index (0, 1, …) or a name".into());
                }
                match (quote, inner.trim().parse::<usize>()) {
                    (None, Ok(index)) => segments.push(Segment::Index(index)),
                    _ => segments.push(Segment::Name(inner)),
                }
            }
            match chars.get(i) {
                None => break,
                Some('.') => i += 1,
                Some(c) => return Err(format!("unexpected '{c}' at character {}; expected {expected}", i + 1)),
            }
        }
        Ok(ParamPath { segments })
    }

    /// Checks the path against the schema and `base`; the error names the part that does
    /// not exist and what is accepted there.
    pub fn resolve(&self, base: &DocumentMut) -> Result<Resolved, String> {
        let mut steps = Vec::new();
        let mut field = String::new();
        let mut shape = String::new();
        let mut node = schema::node("");
        // What the base file has at this point of the path (absent: a default).
        let mut here: Option<Here> = Some(Here::Table(base.as_table()));
        for segment in &self.segments {
            match (node, segment) {
                (Node::Table(keys), Segment::Key(k)) => {
                    if !keys.contains(&k.as_str()) {
                        let place = if field.is_empty() { "the top level".to_string() } else { format!("`{field}`") };
                        return Err(unknown_in("key", k, &place, keys));
                    }
                    shape = if shape.is_empty() { k.clone() } else { format!("{shape}.{k}") };
                    here = here.and_then(|h| h.child(k));
                    node = schema::node(&shape);
                }
                (Node::Names, Segment::Key(k)) => {
                    here = here.and_then(|h| h.child(k));
                    node = Node::Value;
                }
                (Node::Tables(keys), Segment::Index(_) | Segment::Name(_)) => {
                    let Some(Here::Tables(items)) = &here else {
                        return Err(format!("the base scenario has no {field}; only elements it has can be swept"));
                    };
                    let n = items.len();
                    let index = match segment {
                        Segment::Index(i) if *i < n => *i,
                        Segment::Index(i) => {
                            let has = if n == 0 {
                                "none".to_string()
                            } else {
                                format!("{n}: {field}[0] to {field}[{}]", n - 1)
                            };
                            return Err(format!("{field}[{i}] does not exist; the base scenario has {has}"));
                        }
                        Segment::Name(name) => {
                            if !keys.contains(&"name") {
                                return Err(format!(
                                    "{field} have no names; address one by its index, {field}[0] to {field}[{}]",
                                    n.saturating_sub(1)
                                ));
                            }
                            let names: Vec<&str> =
                                items.iter().map(|t| t.get("name").and_then(|v| v.as_str()).unwrap_or("")).collect();
                            match names.iter().position(|x| x == name) {
                                Some(i) => i,
                                None => {
                                    let hint = nearest(name, names.iter().copied())
                                        .map(|x| format!("did you mean '{x}'? "))
                                        .unwrap_or_default();
                                    let quoted: Vec<String> = names.iter().map(|x| format!("'{x}'")).collect();
                                    return Err(format!(
                                        "no {field} is named '{name}'; {hint}the base scenario's are: {}",
                                        quoted.join(", ")
                                    ));
                                }
                            }
                        }
                        Segment::Key(_) => unreachable!("matched above"),
                    };
                    let element = items[index];
                    steps.push(Step::Index(index));
                    field = format!("{field}[{index}]");
                    here = Some(Here::Table(element));
                    node = Node::Table(keys);
                    continue;
                }
                (Node::Tables(_), Segment::Key(k)) => {
                    return Err(format!(
                        "`{field}` is an array of tables; name one element before `.{k}`: {field}[0], or {field}[NAME] where they have names"
                    ));
                }
                (Node::Table(_) | Node::Names, Segment::Index(_) | Segment::Name(_)) => {
                    return Err(format!("`{field}` is a table, not an array; no [ ] after it"));
                }
                (Node::Value, _) => {
                    return Err(format!("`{field}` is a value; there is nothing inside it to address"));
                }
            }
            let Segment::Key(k) = segment else { unreachable!("indices continue above") };
            steps.push(Step::Key(k.clone()));
            field = if field.is_empty() { k.clone() } else { format!("{field}.{k}") };
        }
        match node {
            Node::Value => {}
            Node::Table(keys) | Node::Tables(keys) => {
                return Err(format!("`{field}` is a table; name one of its keys: {}", keys.join(", ")));
            }
            Node::Names => return Err(format!("`{field}` is a table of names; name one of its keys")),
        }
        let last = shape.rsplit('.').next().unwrap_or("");
        if shape == "seed" {
            return Err(
                "the seed is set by the sweep: use `seed`, `replicates` and `seeds` at the top of the sweep file"
                    .into(),
            );
        }
        if last == "name" {
            return Err(format!("`{field}` is a name, which the rest of the scenario refers to; it cannot be swept"));
        }
        Ok(Resolved { steps, field })
    }
}

/// Where a path stands in the base file.
enum Here<'a> {
    Table(&'a dyn TableLike),
    Tables(Vec<&'a dyn TableLike>),
    Other,
}

impl<'a> Here<'a> {
    fn child(self, key: &str) -> Option<Here<'a>> {
        let Here::Table(t) = self else { return None };
        Some(match t.get(key)? {
            Item::ArrayOfTables(a) => Here::Tables(a.iter().map(|t| t as &dyn TableLike).collect()),
            Item::Table(t) => Here::Table(t),
            Item::Value(Value::InlineTable(t)) => Here::Table(t),
            Item::Value(Value::Array(a)) if a.iter().all(|v| v.is_inline_table()) && !a.is_empty() => {
                Here::Tables(a.iter().filter_map(|v| v.as_inline_table()).map(|t| t as &dyn TableLike).collect())
            }
            _ => Here::Other,
        })
    }
}

impl Resolved {
    /// Whether this path and `other` set the same field, or one sets a part of the other.
    pub fn overlaps(&self, other: &Resolved) -> bool {
        let inside =
            |a: &str, b: &str| a.strip_prefix(b).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']));
        inside(&self.field, &other.field) || inside(&other.field, &self.field)
    }

    /// Sets `value` at this path in `doc`, keeping the comment of the value it replaces.
    pub fn set(&self, doc: &mut DocumentMut, value: Value) {
        set_in(doc.as_table_mut(), &self.steps, value);
    }
}

fn set_in(table: &mut dyn TableLike, steps: &[Step], mut value: Value) {
    let Some((Step::Key(key), rest)) = steps.split_first() else { unreachable!("paths start with a key") };
    match rest {
        [] => {
            if let Some(old) = table.get(key).and_then(Item::as_value) {
                *value.decor_mut() = old.decor().clone();
            }
            table.insert(key, Item::Value(value));
        }
        [Step::Index(i), rest @ ..] => {
            let element: &mut dyn TableLike = match table.get_mut(key).expect("resolved against this file") {
                Item::ArrayOfTables(a) => element_of(a, *i),
                Item::Value(Value::Array(a)) => {
                    a.get_mut(*i).and_then(Value::as_inline_table_mut).expect("resolved against this file")
                }
                _ => unreachable!("resolved as an array of tables"),
            };
            set_in(element, rest, value);
        }
        _ => {
            if table.get(key).is_none() {
                table.insert(key, Item::Table(toml_edit::Table::new()));
            }
            let child = table.get_mut(key).and_then(Item::as_table_like_mut).expect("resolved as a table");
            set_in(child, rest, value);
        }
    }
}

fn element_of(a: &mut ArrayOfTables, i: usize) -> &mut dyn TableLike {
    a.get_mut(i).expect("resolved against this file")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"name = "x"
seed = 3
[behaviour]
hiring_rate = 0.2 # weekly

[[events]]
name = "Geneva truce"
effective = 2025-05-14

[[events]]
name = "Busan"
effective = 2025-10-30

[[tariffs]]
importer = "A"
rate = 0.1

[[sectors]]
name = "GOODS"
inputs = { SERV = 0.1 }
"#;

    fn resolve(path: &str) -> Result<String, String> {
        let doc: DocumentMut = BASE.parse().unwrap();
        ParamPath::parse(path)?.resolve(&doc).map(|r| r.field)
    }

    #[test]
    fn paths_resolve_by_index_and_by_name() {
        assert_eq!(resolve("behaviour.hiring_rate").unwrap(), "behaviour.hiring_rate");
        assert_eq!(resolve("behaviour.firing_rate").unwrap(), "behaviour.firing_rate", "a default the base omits");
        assert_eq!(resolve("events[1].effective").unwrap(), "events[1].effective");
        assert_eq!(resolve("events[\"Geneva truce\"].effective").unwrap(), "events[0].effective");
        assert_eq!(resolve("events['Busan'].announce").unwrap(), "events[1].announce");
        assert_eq!(resolve("events[Busan].effective").unwrap(), "events[1].effective");
        assert_eq!(resolve("sectors[GOODS].inputs.SERV").unwrap(), "sectors[0].inputs.SERV");
        assert_eq!(resolve("shipping.default_lead_weeks").unwrap(), "shipping.default_lead_weeks");
    }

    #[test]
    fn unknown_parts_are_named_with_what_is_accepted() {
        let e = resolve("behaviour.hirring_rate").unwrap_err();
        assert!(
            e.starts_with("unknown key 'hirring_rate' in `behaviour`; did you mean 'hiring_rate'? accepted there:"),
            "{e}"
        );
        let e = resolve("behavior.hiring_rate").unwrap_err();
        assert!(e.contains("did you mean 'behaviour'?") && e.contains("the top level"), "{e}");
        let e = resolve("events[2].effective").unwrap_err();
        assert_eq!(e, "events[2] does not exist; the base scenario has 2: events[0] to events[1]");
        let e = resolve("events[Genva truce].effective").unwrap_err();
        assert!(e.contains("did you mean 'Geneva truce'?"), "{e}");
        let e = resolve("tariffs[A].rate").unwrap_err();
        assert!(e.contains("tariffs have no names"), "{e}");
        assert!(resolve("rules[0].cap").unwrap_err().contains("the base scenario has no rules"));
        assert!(resolve("events.effective").unwrap_err().contains("is an array of tables"));
        assert!(resolve("behaviour").unwrap_err().contains("is a table; name one of its keys"));
        assert!(resolve("behaviour.hiring_rate.x").unwrap_err().contains("is a value"));
        assert!(resolve("seed").unwrap_err().contains("set by the sweep"));
        assert!(resolve("events[0].name").unwrap_err().contains("cannot be swept"));
        assert!(ParamPath::parse("events[0.effective").unwrap_err().contains("never closed"));
        assert!(ParamPath::parse("a..b").unwrap_err().contains("expected a key"));
    }

    #[test]
    fn values_are_set_in_the_base_text() {
        let mut doc: DocumentMut = BASE.parse().unwrap();
        for (path, value) in [
            ("behaviour.hiring_rate", Value::from(0.3)),
            ("behaviour.firing_rate", Value::from(0.1)),
            ("events[Busan].effective", "2025-11-10".parse().unwrap()),
            ("sectors[0].inputs.SERV", Value::from(0.2)),
            ("shipping.default_lead_weeks", Value::from(4)),
        ] {
            ParamPath::parse(path).unwrap().resolve(&doc).unwrap().set(&mut doc, value);
        }
        let text = doc.to_string();
        assert!(text.contains("hiring_rate = 0.3 # weekly"), "{text}");
        assert!(text.contains("firing_rate = 0.1"), "{text}");
        assert!(text.contains("effective = 2025-11-10"), "{text}");
        assert!(text.contains("effective = 2025-05-14"), "{text}");
        assert!(text.contains("inputs = { SERV = 0.2 }"), "{text}");
        assert!(text.contains("[shipping]\ndefault_lead_weeks = 4"), "{text}");
    }
}
