//! Output: one record per object, printed either iproute2 style (one line of
//! `key value` pairs) or as JSON objects with the same keys.

use serde_json::{Map, Value as Json};

/// A value of a record field.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Num(u64),
    /// Human form: `key v1 key v2 ...`; JSON: an array.  A list of records
    /// prints its records' fields inline, without the key.
    List(Vec<Val>),
    /// Human form: the fields inline, without the key; JSON: an object.
    Rec(Record),
}

/// How a field appears in the human form (JSON always has every field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// `key value`
    Pair,
    /// `value` alone (e.g. the scope or event word that starts a line).
    ValueOnly,
    /// Not shown (it is implied by another field).
    JsonOnly,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub val: Val,
    pub show: Show,
}

/// An object to print, as ordered fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record(pub Vec<Field>);

impl Record {
    pub fn new() -> Record {
        Record(Vec::new())
    }
    pub fn push(&mut self, key: &'static str, val: Val) -> &mut Record {
        self.0.push(Field {
            key,
            val,
            show: Show::Pair,
        });
        self
    }
    pub fn push_show(&mut self, key: &'static str, val: Val, show: Show) -> &mut Record {
        self.0.push(Field { key, val, show });
        self
    }
    pub fn str(&mut self, key: &'static str, s: impl Into<String>) -> &mut Record {
        self.push(key, Val::Str(s.into()))
    }
    pub fn num(&mut self, key: &'static str, n: impl Into<u64>) -> &mut Record {
        self.push(key, Val::Num(n.into()))
    }
    pub fn opt_num(&mut self, key: &'static str, n: Option<impl Into<u64>>) -> &mut Record {
        if let Some(n) = n {
            self.num(key, n);
        }
        self
    }
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.0.iter().find(|f| f.key == key).map(|f| &f.val)
    }

    /// The human form: one line, no trailing newline.
    pub fn human(&self) -> String {
        let mut words = Vec::new();
        self.human_words(&mut words);
        words.join(" ")
    }

    fn human_words(&self, words: &mut Vec<String>) {
        for f in &self.0 {
            match (&f.val, f.show) {
                (_, Show::JsonOnly) => {}
                (Val::Rec(r), _) => r.human_words(words),
                (Val::List(items), show) => {
                    for item in items {
                        match item {
                            Val::Rec(r) => r.human_words(words),
                            v => {
                                if show == Show::Pair {
                                    words.push(f.key.to_string());
                                }
                                words.push(scalar(v));
                            }
                        }
                    }
                }
                (v, Show::Pair) => {
                    words.push(f.key.to_string());
                    words.push(scalar(v));
                }
                (v, Show::ValueOnly) => words.push(scalar(v)),
            }
        }
    }

    pub fn json(&self) -> Json {
        let mut map = Map::new();
        for f in &self.0 {
            map.insert(f.key.to_string(), val_json(&f.val));
        }
        Json::Object(map)
    }
}

fn scalar(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::Num(n) => n.to_string(),
        Val::List(_) | Val::Rec(_) => String::new(),
    }
}

fn val_json(v: &Val) -> Json {
    match v {
        Val::Str(s) => Json::String(s.clone()),
        Val::Num(n) => Json::from(*n),
        Val::List(items) => Json::Array(items.iter().map(val_json).collect()),
        Val::Rec(r) => r.json(),
    }
}

/// Output format chosen by `-j` / `-p`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
    Pretty,
}

/// Render a list of records: one line per record, or a JSON array.
pub fn render(records: &[Record], format: Format) -> String {
    match format {
        Format::Human => {
            let mut s = String::new();
            for r in records {
                s.push_str(&r.human());
                s.push('\n');
            }
            s
        }
        Format::Json | Format::Pretty => {
            let arr = Json::Array(records.iter().map(Record::json).collect());
            let mut s = if format == Format::Pretty {
                serde_json::to_string_pretty(&arr)
            } else {
                serde_json::to_string(&arr)
            }
            .expect("JSON values always serialize");
            s.push('\n');
            s
        }
    }
}

/// Render one record as a line of its own (for `monitor`): the human line,
/// or one JSON object.
pub fn render_one(record: &Record, format: Format) -> String {
    let mut s = match format {
        Format::Human => record.human(),
        Format::Json => serde_json::to_string(&record.json()).expect("JSON"),
        Format::Pretty => serde_json::to_string_pretty(&record.json()).expect("JSON"),
    };
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut rule = Record::new();
        rule.str("match", "example.com/api").num("node", 2u32);
        let mut r = Record::new();
        r.push_show("scope", Val::Str("service".into()), Show::JsonOnly);
        r.str("service", "10.0.0.1:80");
        r.push(
            "dev",
            Val::List(vec![Val::Str("eth0".into()), Val::Str("eth1".into())]),
        );
        r.push("rules", Val::List(vec![Val::Rec(rule)]));
        r.num("max-temporary", 10u32);
        r
    }

    #[test]
    fn human_line() {
        assert_eq!(
            sample().human(),
            "service 10.0.0.1:80 dev eth0 dev eth1 match example.com/api node 2 max-temporary 10"
        );
        let mut r = Record::new();
        r.push_show("scope", Val::Str("global".into()), Show::ValueOnly)
            .num("x", 1u32);
        assert_eq!(r.human(), "global x 1");
    }

    #[test]
    fn json_shape() {
        let s = render(&[sample(), Record::new()], Format::Json);
        assert!(s.ends_with('\n') && !s.trim_end().contains('\n'));
        let v: Json = serde_json::from_str(&s).unwrap();
        let arr = v.as_array().unwrap();
        assert_eq!(arr.len(), 2);
        let o = arr[0].as_object().unwrap();
        assert_eq!(o["scope"], "service");
        assert_eq!(o["service"], "10.0.0.1:80");
        assert_eq!(o["dev"], serde_json::json!(["eth0", "eth1"]));
        assert_eq!(o["rules"][0]["node"], 2);
        assert_eq!(o["max-temporary"], 10);
        // Field order is kept.
        let keys: Vec<_> = o.keys().cloned().collect();
        assert_eq!(keys, ["scope", "service", "dev", "rules", "max-temporary"]);
        assert!(arr[1].as_object().unwrap().is_empty());
    }

    #[test]
    fn pretty_json_parses_back() {
        let s = render(&[sample()], Format::Pretty);
        assert!(s.lines().count() > 3);
        let v: Json = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["service"], "10.0.0.1:80");
        assert_eq!(render(&[], Format::Json), "[]\n");
        assert_eq!(render(&[], Format::Human), "");
    }

    #[test]
    fn one_object_per_line() {
        let s = render_one(&sample(), Format::Json);
        assert_eq!(s.lines().count(), 1);
        let v: Json = serde_json::from_str(&s).unwrap();
        assert!(v.is_object());
    }
}
