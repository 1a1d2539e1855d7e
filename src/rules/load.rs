//! Loading rule files in order: each file is decoded, merged into a copy of
//! what was loaded before and compiled; any error rejects the whole file (a
//! bad file never half-loads) and loading goes on with the next one. Later
//! files override earlier ones as Falco's do.

use std::fs;
use std::path::{Path, PathBuf};

use super::compile::{compile, CompiledRule};
use super::diag::{Code, Diagnostic, Location, Severity};
use super::item::Decoder;
use super::ruleset::RuleSet;
use super::source::Files;
use super::yaml::parse_documents;

/// How one file fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file name as given.
    pub name: String,
    /// Whether it was loaded (no errors).
    pub loaded: bool,
}

/// The outcome of loading: compiled rules and every diagnostic.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Rules that compiled, in definition order (disabled ones included).
    pub rules: Vec<CompiledRule>,
    /// Errors and warnings of every file, in load order.
    pub diagnostics: Vec<Diagnostic>,
    /// One report per file, in load order.
    pub files: Vec<FileReport>,
    /// The merged definitions.
    pub set: RuleSet,
}

impl Loaded {
    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics located in file `name`.
    pub fn diagnostics_of<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.diagnostics
            .iter()
            .filter(move |d| d.location.as_ref().is_some_and(|l| l.file == name))
    }
}

/// Loads rule files one after the other.
#[derive(Debug, Default)]
pub struct Loader {
    files: Files,
    set: RuleSet,
    diags: Vec<Diagnostic>,
    reports: Vec<FileReport>,
}

impl Loader {
    /// An empty loader.
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Loads a file, or every regular file of a directory in name order.
    pub fn load_path(&mut self, path: &Path) {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect(),
                Err(e) => {
                    self.read_error(path, &e);
                    return;
                }
            };
            entries.sort();
            for p in entries {
                self.load_path(&p);
            }
            return;
        }
        match fs::read_to_string(path) {
            Ok(text) => self.load_str(&path.display().to_string(), &text),
            Err(e) => self.read_error(path, &e),
        }
    }

    fn read_error(&mut self, path: &Path, e: &std::io::Error) {
        let name = path.display().to_string();
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            code: Code::FileRead,
            message: format!("Could not read rules file {name}: {e}"),
            location: Some(Location {
                file: name.clone(),
                line: 1,
                col: 1,
                line_text: String::new(),
            }),
            item: None,
        });
        self.reports.push(FileReport {
            name,
            loaded: false,
        });
    }

    /// Loads the rules in `text`, reported under `name`.
    pub fn load_str(&mut self, name: &str, text: &str) {
        let id = self.files.add(name, text.to_string());
        let mut diags = Vec::new();
        let accepted = self.try_load(id, &mut diags);
        self.diags.extend(diags);
        self.reports.push(FileReport {
            name: name.to_string(),
            loaded: accepted,
        });
    }

    fn try_load(&mut self, id: usize, diags: &mut Vec<Diagnostic>) -> bool {
        let docs = match parse_documents(self.files.text(id)) {
            Ok(d) => d,
            Err(e) => {
                diags.push(Diagnostic {
                    severity: Severity::Error,
                    code: Code::YamlParse,
                    message: e.message,
                    location: Some(self.files.location(id, e.pos)),
                    item: None,
                });
                return false;
            }
        };
        let mut dec = Decoder::new(&self.files, id);
        let items = dec.documents(&docs);
        diags.append(&mut dec.diags);
        if diags.iter().any(Diagnostic::is_error) {
            return false;
        }
        let mut next = self.set.clone();
        for item in items {
            next.apply(item, &self.files, diags);
        }
        if diags.iter().any(Diagnostic::is_error) {
            return false;
        }
        let (_, compiled) = compile(&next, &self.files);
        let errors: Vec<Diagnostic> = compiled.into_iter().filter(Diagnostic::is_error).collect();
        if !errors.is_empty() {
            diags.extend(errors);
            return false;
        }
        self.set = next;
        true
    }

    /// Compiles what was loaded; warnings of the final set join the
    /// diagnostics.
    pub fn finish(mut self) -> Loaded {
        let (rules, compiled) = compile(&self.set, &self.files);
        self.diags.extend(compiled);
        Loaded {
            rules,
            diagnostics: self.diags,
            files: self.reports,
            set: self.set,
        }
    }
}

/// Loads `paths` in order.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Loaded {
    let mut l = Loader::new();
    for p in paths {
        l.load_path(p.as_ref());
    }
    l.finish()
}
