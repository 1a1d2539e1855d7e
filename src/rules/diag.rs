//! Load diagnostics: errors and warnings naming file, line, column and the item
//! they concern, and their rendering with the source line and a caret.

use std::fmt;

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// Reported; loading goes on.
    Warning,
}

/// What a diagnostic is about, with Falco's load-result codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// The file could not be read.
    FileRead,
    /// The file is not valid YAML.
    YamlParse,
    /// The YAML does not have the shape of a rules file.
    YamlValidate,
    /// A condition does not parse or does not resolve.
    CompileCondition,
    /// An output format names an unknown field.
    CompileOutput,
    /// A semantic check failed (versions, appends to missing items...).
    Validate,
    /// A rule's source is not known; the rule is skipped.
    UnknownSource,
    /// A rule does not restrict event types.
    NoEvttype,
    /// A rule with `skip-if-unknown-filter` names an unknown field; skipped.
    UnknownFilter,
    /// A macro no rule or macro refers to.
    UnusedMacro,
    /// A list no rule, macro or list refers to.
    UnusedList,
    /// A top-level item or key that is not part of the format.
    UnknownItem,
    /// A macro name that is not an identifier.
    InvalidMacroName,
    /// A list name that is not an identifier.
    InvalidListName,
    /// An exception with nothing to except.
    AppendNoValues,
}

impl Code {
    /// Falco's name for the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::FileRead => "LOAD_ERR_FILE_READ",
            Code::YamlParse => "LOAD_ERR_YAML_PARSE",
            Code::YamlValidate => "LOAD_ERR_YAML_VALIDATE",
            Code::CompileCondition => "LOAD_ERR_COMPILE_CONDITION",
            Code::CompileOutput => "LOAD_ERR_COMPILE_OUTPUT",
            Code::Validate => "LOAD_ERR_VALIDATE",
            Code::UnknownSource => "LOAD_UNKNOWN_SOURCE",
            Code::NoEvttype => "LOAD_NO_EVTTYPE",
            Code::UnknownFilter => "LOAD_UNKNOWN_FILTER",
            Code::UnusedMacro => "LOAD_UNUSED_MACRO",
            Code::UnusedList => "LOAD_UNUSED_LIST",
            Code::UnknownItem => "LOAD_UNKNOWN_ITEM",
            Code::InvalidMacroName => "LOAD_INVALID_MACRO_NAME",
            Code::InvalidListName => "LOAD_INVALID_LIST_NAME",
            Code::AppendNoValues => "LOAD_APPEND_NO_VALUES",
        }
    }
}

/// A place in a rules file, with the text of its line for the caret display.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// File name as given.
    pub file: String,
    /// Line, 1-based.
    pub line: u32,
    /// Column in characters, 1-based.
    pub col: u32,
    /// The whole source line.
    pub line_text: String,
}

/// The item a diagnostic concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// `rule`, `macro`, `list`, `required_engine_version`...
    pub kind: &'static str,
    /// Its name (empty when it has none).
    pub name: String,
}

/// One error or warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What kind.
    pub code: Code,
    /// The message, worded as Falco words it where Falco has one.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
    /// Which item.
    pub item: Option<ItemRef>,
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders `FILE:LINE:COL: error: MESSAGE (rule 'NAME')`, then the source
    /// line and a caret under the column.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if let Some(loc) = &self.location {
            write!(f, "{}:{}:{}: ", loc.file, loc.line, loc.col)?;
        }
        write!(f, "{sev}: {}", self.message)?;
        if let Some(item) = &self.item {
            if item.name.is_empty() {
                write!(f, " ({})", item.kind)?;
            } else {
                write!(f, " ({} '{}')", item.kind, item.name)?;
            }
        }
        write!(f, " [{}]", self.code.as_str())?;
        if let Some(loc) = &self.location {
            let text = loc.line_text.trim_end();
            if !text.is_empty() {
                let pad: String = text
                    .chars()
                    .take(loc.col.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n  {text}\n  {pad}^")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_with_caret() {
        let d = Diagnostic {
            severity: Severity::Error,
            code: Code::CompileCondition,
            message: "Undefined macro 'foo' used in filter.".into(),
            location: Some(Location {
                file: "r.yaml".into(),
                line: 3,
                col: 14,
                line_text: "  condition: foo".into(),
            }),
            item: Some(ItemRef {
                kind: "macro",
                name: "m".into(),
            }),
        };
        assert_eq!(
            d.render(),
            "r.yaml:3:14: error: Undefined macro 'foo' used in filter. (macro 'm') [LOAD_ERR_COMPILE_CONDITION]\n    \
             condition: foo\n               ^"
        );
    }
}
