//! Rule outputs: the `%field` tokens of a rule's output resolved into the
//! engine's field table, rendered as Falco renders them (`<NA>` for a field
//! without a value) with the values for JSON's `output_fields`.

use crate::filter::catalog::FieldType;
use crate::filter::compile::{FieldId, FieldTable};
use crate::filter::eval::Fields;
use crate::output::alert::FieldValue;
use crate::rules::output::tokens;

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Field(FieldId),
}

/// A compiled output format.
#[derive(Debug, Clone)]
pub struct OutputFormat {
    pieces: Vec<Piece>,
    fields: Vec<FieldId>,
}

impl OutputFormat {
    /// Compiles `format`; tokens naming no field stay literal text.
    pub fn new(format: &str, table: &mut FieldTable) -> OutputFormat {
        let mut pieces = Vec::new();
        let mut fields = Vec::new();
        let mut at = 0;
        for t in tokens(format) {
            let (name, arg) = match t.field.find('[') {
                Some(p) => (&t.field[..p], Some(t.field[p + 1..].trim_end_matches(']'))),
                None => (t.field.as_str(), None),
            };
            let Ok(id) = table.intern(name, arg) else {
                continue;
            };
            if let Some(lit) = format.get(at..t.offset).filter(|l| !l.is_empty()) {
                pieces.push(Piece::Lit(lit.to_string()));
            }
            pieces.push(Piece::Field(id));
            if !fields.contains(&id) {
                fields.push(id);
            }
            at = t.offset + 1 + t.field.len();
        }
        if let Some(lit) = format.get(at..).filter(|l| !l.is_empty()) {
            pieces.push(Piece::Lit(lit.to_string()));
        }
        OutputFormat { pieces, fields }
    }

    /// The fields the format names, each once, in order.
    pub fn fields(&self) -> &[FieldId] {
        &self.fields
    }

    /// The output text and the value of every field it names.
    pub fn render<F: Fields>(
        &self,
        table: &FieldTable,
        f: &mut F,
        time_ns: u64,
    ) -> (String, Vec<(String, FieldValue)>) {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field(id) => out.push_str(f.text(*id).unwrap_or("<NA>")),
            }
        }
        let values = self
            .fields
            .iter()
            .map(|id| {
                let b = table.get(*id);
                let v = match f.text(*id) {
                    None => FieldValue::Null,
                    Some(_) if b.info.name == "evt.time" => FieldValue::U64(time_ns),
                    Some(t) => typed(b.ty(), t),
                };
                (b.display.clone(), v)
            })
            .collect();
        (out, values)
    }
}

fn typed(ty: FieldType, t: &str) -> FieldValue {
    use FieldType::*;
    match ty {
        Uint32 | Uint64 | Port | RelTime | AbsTime => t
            .parse::<u64>()
            .map_or_else(|_| FieldValue::Str(t.to_string()), FieldValue::U64),
        Int16 | Int32 | Int64 => t
            .parse::<i64>()
            .map_or_else(|_| FieldValue::Str(t.to_string()), FieldValue::I64),
        Bool => match t {
            "true" => FieldValue::Bool(true),
            "false" => FieldValue::Bool(false),
            _ => FieldValue::Str(t.to_string()),
        },
        _ => FieldValue::Str(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(FieldId, &'static str);

    impl Fields for One {
        fn text(&mut self, id: FieldId) -> Option<&str> {
            (id == self.0).then_some(self.1)
        }
    }

    #[test]
    fn renders_values_and_na() {
        let mut table = FieldTable::default();
        let f = OutputFormat::new("open by %proc.name (pid=%proc.pid) 100%", &mut table);
        let name = table.intern("proc.name", None).unwrap();
        let (text, vals) = f.render(&table, &mut One(name, "cat"), 0);
        assert_eq!(text, "open by cat (pid=<NA>) 100%");
        assert_eq!(
            vals,
            vec![
                ("proc.name".to_string(), FieldValue::Str("cat".into())),
                ("proc.pid".to_string(), FieldValue::Null),
            ]
        );
    }
}
