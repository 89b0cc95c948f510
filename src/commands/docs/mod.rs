//! What COMMAND DOCS says beyond the table's summary, since, group and complexity: doc flags, deprecation,
//! history and the argument trees redis-cli 7 builds its hints from. The data comes from Redis 7.0's command
//! files through `gen.py` (see there for the format) and is parsed once, on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::protocol::Reply;

const DATA: &str = include_str!("redis-7.0.txt");

/// One command's documentation beyond the table's.
#[derive(Default)]
struct Doc {
    /// Redis's complexity text, which COMMAND DOCS prefers to the row's.
    complexity: &'static str,
    /// COMMAND INFO's tips (`nondeterministic_output`, `request_policy:all_nodes`).
    tips: Vec<&'static str>,
    /// The fields after `complexity`, in Redis's order, ready to be cloned into a reply.
    extras: Vec<(Reply, Reply)>,
}

fn parsed() -> &'static HashMap<&'static str, Doc> {
    static DOCS: OnceLock<HashMap<&'static str, Doc>> = OnceLock::new();
    DOCS.get_or_init(|| parse(DATA))
}

/// The extra fields of command `full_name` (`get`, `client|kill`); none for a command Redis 7.0 lacks.
pub fn extras(full_name: &str) -> Vec<(Reply, Reply)> {
    parsed()
        .get(full_name)
        .map(|d| d.extras.clone())
        .unwrap_or_default()
}

/// COMMAND INFO's tips for `full_name`.
pub fn tips(full_name: &str) -> &'static [&'static str] {
    parsed().get(full_name).map_or(&[], |d| d.tips.as_slice())
}

/// Redis's complexity text for `full_name`, empty if it has none.
pub fn complexity(full_name: &str) -> &'static str {
    parsed().get(full_name).map_or("", |d| d.complexity)
}

/// A text field of the data file: `\n` stands for a newline.
fn text(field: &str) -> Reply {
    Reply::bulk(field.replace("\\n", "\n"))
}

fn pair(k: &str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk(k), v)
}

/// One `arg` line's fields, with its depth.
struct Arg<'a> {
    depth: usize,
    fields: Vec<&'a str>,
}

fn parse(data: &'static str) -> HashMap<&'static str, Doc> {
    // Records start with `=` at the beginning of a line (a field may hold `=` elsewhere).
    data.strip_prefix('=')
        .unwrap_or(data)
        .split("\n=")
        .map(parse_record)
        .collect()
}

/// One command's record: its name line, then its fields (see `gen.py`).
fn parse_record(record: &'static str) -> (&'static str, Doc) {
    let mut lines = record.lines();
    let name = lines.next().unwrap_or_default();
    let mut doc = Doc::default();
    let mut history = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "complexity" if f.len() == 2 => doc.complexity = f[1],
            "tips" => doc.tips = f[1..].to_vec(),
            "doc_flags" => {
                let flags = f[1..].iter().map(|s| Reply::Status(s.to_string().into()));
                doc.extras
                    .push(pair("doc_flags", Reply::Set(flags.collect())));
            }
            "deprecated_since" | "replaced_by" => doc.extras.push(pair(f[0], text(f[1]))),
            "history" if f.len() == 3 => history.push(Reply::Array(vec![text(f[1]), text(f[2])])),
            "arg" if f.len() == 10 => args.push(Arg {
                depth: f[1].parse().unwrap_or(0),
                fields: f[2..].to_vec(),
            }),
            _ => {}
        }
    }
    if !history.is_empty() {
        // A set, as Redis's addReplyCommandHistory sends it.
        doc.extras.push(pair("history", Reply::Set(history)));
    }
    if !args.is_empty() {
        doc.extras
            .push(pair("arguments", arg_list(&args, &mut 0, 0)));
    }
    (name, doc)
}

/// The arguments of one level, from `args[*at]` while they are at `depth` (Redis's `addReplyCommandArgList`).
fn arg_list(args: &[Arg], at: &mut usize, depth: usize) -> Reply {
    let mut out = Vec::new();
    while *at < args.len() && args[*at].depth == depth {
        let f = &args[*at].fields;
        *at += 1;
        // name, type, key_spec_index, token, summary, since, deprecated_since, flags
        let mut map = vec![pair("name", text(f[0])), pair("type", text(f[1]))];
        if let Ok(index) = f[2].parse::<i64>() {
            map.push(pair("key_spec_index", Reply::Int(index)));
        }
        for (i, key) in [
            (3, "token"),
            (4, "summary"),
            (5, "since"),
            (6, "deprecated_since"),
        ] {
            match f[i] {
                "" => {}
                // MIGRATE's `""` token: Redis's generated C source pastes it into `""""`, an empty string.
                "\"\"" => map.push(pair(key, Reply::bulk(""))),
                v => map.push(pair(key, text(v))),
            }
        }
        if !f[7].is_empty() {
            let flags = [
                ('o', "optional"),
                ('m', "multiple"),
                ('t', "multiple_token"),
            ];
            let set = flags
                .iter()
                .filter(|(c, _)| f[7].contains(*c))
                .map(|(_, n)| Reply::Status((*n).into()))
                .collect();
            map.push(pair("flags", Reply::Set(set)));
        }
        if f[1] == "oneof" || f[1] == "block" {
            map.push(pair("arguments", arg_list(args, at, depth + 1)));
        }
        out.push(Reply::Map(map));
    }
    Reply::Array(out)
}
