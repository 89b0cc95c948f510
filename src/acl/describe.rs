//! Users and selectors written back as rules (ACL LIST, ACL GETUSER, the ACL file), as Redis's
//! `ACLDescribeUser`: a command bitmap becomes `+@all`/`-@all`, the categories that fit it best, then the single
//! commands that still differ. Single commands come in table order (Redis's follow its command dict, whose order
//! is random per process).

use super::categories::{self, all_ids};
use super::selector::{Selector, READ, WRITE};
use super::User;
use crate::commands::table;

/// The command rules that rebuild `sel`'s bitmap.
pub fn command_rules(sel: &Selector) -> String {
    let additive = !sel.bits.future_commands();
    let mut rules = String::from(if additive { "-@all " } else { "+@all " });
    let mut fake = Selector::new(false);
    let _ = fake.apply(if additive { b"-@all" } else { b"+@all" });
    let mut temp = Selector::new(false);
    temp.bits = sel.bits.clone();
    let mut applied = vec![false; categories::count()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0);
        for cat in (0..categories::count()).filter(|&c| !applied[c]) {
            let (mut on, mut off) = (0, 0);
            for &id in categories::members(cat) {
                if temp.bits.get(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(cat);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(cat) = best else { break };
        fake.change_category(cat, additive);
        temp.change_category(cat, !additive);
        rules.push(if additive { '+' } else { '-' });
        rules.push('@');
        rules.push_str(categories::name(cat));
        rules.push(' ');
        applied[cat] = true;
    }
    let t = table::get();
    for id in all_ids() {
        let user_bit = sel.bits.get(id);
        if user_bit != fake.bits.get(id) {
            rules.push(if user_bit { '+' } else { '-' });
            rules.push_str(t.full_name(id));
            rules.push(' ');
            fake.change(id, user_bit);
        }
        if !user_bit {
            for arg in sel.firstargs.get(&id).into_iter().flatten() {
                rules.push('+');
                rules.push_str(t.full_name(id));
                rules.push('|');
                rules.push_str(&String::from_utf8_lossy(arg));
                rules.push(' ');
            }
        }
    }
    rules.pop();
    rules
}

/// One key pattern as a rule: `~p`, `%R~p` or `%W~p`.
pub fn key_pattern(pattern: &[u8], flags: u8) -> String {
    let prefix = match flags {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(pattern))
}

/// Keys, channels and commands of one selector, as ACL LIST shows them.
pub fn selector(sel: &Selector) -> String {
    let mut out = String::new();
    if sel.allkeys {
        out.push_str("~* ");
    } else {
        for (p, f) in &sel.patterns {
            out.push_str(&key_pattern(p, *f));
            out.push(' ');
        }
    }
    if sel.allchannels {
        out.push_str("&* ");
    } else {
        out.push_str("resetchannels ");
        for c in &sel.channels {
            out.push('&');
            out.push_str(&String::from_utf8_lossy(c));
            out.push(' ');
        }
    }
    out.push_str(&command_rules(sel));
    out
}

/// The user's flags as Redis names them, in its order.
pub fn flags(u: &User) -> Vec<&'static str> {
    let mut out = vec![if u.enabled { "on" } else { "off" }];
    if u.nopass {
        out.push("nopass");
    }
    match u.sanitize {
        Some(false) => out.push("skip-sanitize-payload"),
        Some(true) => out.push("sanitize-payload"),
        None => {}
    }
    out
}

/// Everything after `user <name> ` in ACL LIST and the ACL file.
pub fn user(u: &User) -> String {
    let mut out = String::new();
    for f in flags(u) {
        out.push_str(f);
        out.push(' ');
    }
    for p in &u.passwords {
        out.push('#');
        out.push_str(p);
        out.push(' ');
    }
    for sel in &u.selectors {
        if sel.root {
            out.push_str(&selector(sel));
        } else {
            out.push_str(&format!(" ({})", selector(sel)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::categories;
    use super::super::selector::Selector;
    use super::command_rules;
    use crate::commands::table;

    /// Redis panics if its description does not rebuild the bitmap; here random rule sets must round-trip.
    #[test]
    fn command_rules_rebuild_the_bitmap() {
        let t = table::get();
        let ids: Vec<usize> = categories::all_ids().collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..50 {
            let mut sel = Selector::new(false);
            let _ = sel.apply(if rng.bool() { b"+@all" } else { b"-@all" });
            for _ in 0..rng.usize(0..8) {
                let sign = if rng.bool() { "+" } else { "-" };
                let rule = if rng.bool() {
                    format!(
                        "{sign}@{}",
                        categories::name(rng.usize(..categories::count()))
                    )
                } else {
                    format!("{sign}{}", t.full_name(ids[rng.usize(..ids.len())]))
                };
                sel.apply(rule.as_bytes()).expect("a valid rule");
            }
            let rules = command_rules(&sel);
            let mut rebuilt = Selector::new(false);
            for rule in rules.split(' ') {
                rebuilt.apply(rule.as_bytes()).expect("a valid rule");
            }
            assert_eq!(rebuilt.bits, sel.bits, "{rules}");
        }
    }

    #[test]
    fn a_full_category_is_described_by_its_name() {
        let mut sel = Selector::new(false);
        let _ = sel.apply(b"-@all");
        let _ = sel.apply(b"+@hash");
        assert_eq!(command_rules(&sel), "-@all +@hash");
        let _ = sel.apply(b"+@all");
        let _ = sel.apply(b"-@dangerous");
        assert_eq!(command_rules(&sel), "+@all -@dangerous");
    }
}
