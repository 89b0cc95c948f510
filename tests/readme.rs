//! The README's table of supported commands must list exactly the commands in the command table, so it stays true.

use std::collections::BTreeSet;

#[test]
fn readme_lists_exactly_the_commands_in_the_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Supported commands")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a '## Supported commands' section");
    let listed: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| group"))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| cell.split_whitespace().map(str::to_string))
        .collect();
    let table = ferredis::commands::table::get();
    let actual: BTreeSet<String> = table
        .top_level()
        .map(|id| table.get(id).name.to_ascii_uppercase())
        .collect();
    let missing: Vec<_> = actual.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&actual).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README out of date: missing {missing:?}, not existing {extra:?}. The table should read:\n{}",
        expected_table()
    );
}

/// The table as it should be: one row per command group, in table order.
fn expected_table() -> String {
    let table = ferredis::commands::table::get();
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for id in table.top_level() {
        let cmd = table.get(id);
        let name = cmd.name.to_ascii_uppercase();
        match groups.iter_mut().find(|(g, _)| *g == cmd.group) {
            Some((_, names)) => names.push(name),
            None => groups.push((cmd.group, vec![name])),
        }
    }
    let mut out = String::from("| group | commands |\n|---|---|\n");
    for (group, mut names) in groups {
        names.sort();
        out.push_str(&format!("| {group} | {} |\n", names.join(" ")));
    }
    out
}
