//! The libraries FUNCTION LOAD created: their code, their functions, and the rules Redis applies when libraries
//! are added, replaced or merged (`functions.c`: `functionsCreateWithLibraryCtx`, `libraryJoin`).
//!
//! Library names are case sensitive; function names are looked up case-insensitively (FCALL TEST finds `test`),
//! as Redis's dictionaries compare them.

use std::collections::{BTreeMap, HashMap};

/// The flags a function (or a `#!lua flags=` script) may declare, in Redis's order (`scripts_flags_def`), which
/// is the order FUNCTION LIST shows them in.
pub const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];
pub const NO_WRITES: u8 = 1;
pub const ALLOW_OOM: u8 = 2;
pub const ALLOW_STALE: u8 = 4;

/// The error for a bad library or function name (Redis uses the library wording for both).
pub const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at \
                            least one character long";

/// One registered function.
#[derive(Clone)]
pub struct FunctionDef {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: u8,
    pub callback: mlua::Function,
}

/// One library: its whole code (shebang included, as FUNCTION LIST WITHCODE, DUMP and the RDB give it back) and
/// its functions in registration order.
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionDef>,
}

/// A set of libraries: the server's current one, or the scratch one FUNCTION RESTORE and an RDB load fill before
/// joining it to the current one.
#[derive(Default)]
pub struct Libraries {
    libs: BTreeMap<String, Library>,
    /// Lower-cased function name -> library name.
    by_fn: HashMap<String, String>,
    /// Bumped on every change, so the published copy (RDB, INFO, STATS) is refreshed only when needed.
    pub generation: u64,
}

/// Redis's `functionsVerifyName`: `[a-zA-Z0-9_]+`.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

impl Libraries {
    pub fn len(&self) -> usize {
        self.libs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    pub fn function_count(&self) -> usize {
        self.by_fn.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Library> {
        self.libs.values()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.libs.contains_key(name)
    }

    /// The function FCALL names, case-insensitively.
    pub fn find(&self, name: &[u8]) -> Option<&FunctionDef> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        let lib = self.libs.get(self.by_fn.get(&key)?)?;
        lib.functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&key))
    }

    /// The first of `lib`'s functions that another library already has.
    pub fn collision<'l>(&self, lib: &'l Library) -> Option<&'l str> {
        lib.functions
            .iter()
            .find(|f| self.by_fn.contains_key(&f.name.to_ascii_lowercase()))
            .map(|f| f.name.as_str())
    }

    pub fn link(&mut self, lib: Library) {
        for f in &lib.functions {
            self.by_fn
                .insert(f.name.to_ascii_lowercase(), lib.name.clone());
        }
        self.libs.insert(lib.name.clone(), lib);
        self.generation += 1;
    }

    pub fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libs.remove(name)?;
        for f in &lib.functions {
            self.by_fn.remove(&f.name.to_ascii_lowercase());
        }
        self.generation += 1;
        Some(lib)
    }

    pub fn clear(&mut self) {
        self.libs.clear();
        self.by_fn.clear();
        self.generation += 1;
    }

    /// Redis's `libraryJoin`: moves every library of `src` here. A library name already here is an error unless
    /// `replace`; a function name already here (in a library not replaced) is always one. On error nothing
    /// changes here.
    pub fn join(&mut self, src: Libraries, replace: bool) -> Result<(), String> {
        let mut old = Vec::new();
        let mut outcome = Ok(());
        for lib in src.libs.values() {
            if self.contains(&lib.name) {
                if !replace {
                    outcome = Err(format!("Library {} already exists", lib.name));
                    break;
                }
                old.extend(self.unlink(&lib.name));
            }
        }
        if outcome.is_ok() {
            if let Some(name) = src.libs.values().find_map(|l| self.collision(l)) {
                outcome = Err(format!("Function {name} already exists"));
            }
        }
        if outcome.is_err() {
            old.into_iter().for_each(|lib| self.link(lib));
            return outcome;
        }
        src.libs.into_values().for_each(|lib| self.link(lib));
        Ok(())
    }

    /// Every library's code, for FUNCTION DUMP and the RDB.
    pub fn codes(&self) -> Vec<Vec<u8>> {
        self.libs.values().map(|l| l.code.clone()).collect()
    }
}

/// What a library's first line says: `#!<engine> name=<name>`, and where its body starts (at the first newline,
/// which stays in the body so that line numbers in errors count from the shebang).
pub struct Metadata {
    pub engine: Vec<u8>,
    pub name: Vec<u8>,
    pub body_start: usize,
}

/// Redis's `functionExtractLibMetaData`, with its errors.
pub fn metadata(code: &[u8]) -> Result<Metadata, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', code) else {
        return Err("Invalid library metadata".into());
    };
    let parts = match crate::protocol::split_args(&code[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(Metadata {
        engine,
        name,
        body_start: end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors_are_redis_texts() {
        let err = |c: &[u8]| metadata(c).err().unwrap_or_default();
        assert_eq!(err(b"lua"), "Missing library metadata");
        assert_eq!(err(b"#!lua name=x"), "Invalid library metadata");
        assert_eq!(err(b"#!lua\n"), "Library name was not given");
        assert_eq!(
            err(b"#!lua name=a name=b\n"),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            err(b"#!lua foo=bar\n"),
            "Invalid metadata value given: foo=bar"
        );
        let md = metadata(b"#!lua name=\"foo\"\nbody").ok();
        assert_eq!(
            md.map(|m| (m.engine, m.name, m.body_start)),
            Some((b"lua".to_vec(), b"foo".to_vec(), 16))
        );
    }

    #[test]
    fn names_are_word_characters() {
        assert!(valid_name(b"lib_1"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"a\0b"));
        assert!(!valid_name(b"a-b"));
    }
}
