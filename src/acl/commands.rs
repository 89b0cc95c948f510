//! ACL SETUSER | GETUSER | DELUSER | USERS | LIST | CAT | WHOAMI | DRYRUN | GENPASS | LOG | SAVE | LOAD | HELP.

use super::selector::{has_spaces, Selector};
use super::{acl, categories, describe, file, Denied, User};
use crate::commands::dispatch::{resolve, Resolved};
use crate::commands::flags::*;
use crate::commands::introspection::help_reply;
use crate::commands::{table, Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const SUB: u32 = NOSCRIPT | LOADING | STALE;

const SUBCOMMANDS: &[Command] = &[
    Command::new("cat", -2, SUB, cat)
        .doc(
            "server",
            "6.0.0",
            "List the ACL categories or the commands inside a category",
        )
        .complexity("O(1) since the categories and commands are a fixed set."),
    Command::new("deluser", -3, ADMIN_SUB, deluser)
        .doc(
            "server",
            "6.0.0",
            "Remove the specified ACL users and the associated rules",
        )
        .complexity("O(1) amortized time considering the typical user."),
    Command::new("dryrun", -4, ADMIN_SUB, dryrun)
        .doc(
            "server",
            "7.0.0",
            "Returns whether the user can execute the given command without executing the command.",
        )
        .complexity("O(1)."),
    Command::new("genpass", -2, SUB, genpass)
        .doc(
            "server",
            "6.0.0",
            "Generate a pseudorandom secure password to use for ACL users",
        )
        .complexity("O(1)"),
    Command::new("getuser", 3, ADMIN_SUB, getuser)
        .doc("server", "6.0.0", "Get the rules for a specific ACL user")
        .complexity(
            "O(N). Where N is the number of password, command and pattern rules that the user has.",
        ),
    Command::new("help", 2, LOADING | STALE, help)
        .doc(
            "server",
            "6.0.0",
            "Show helpful text about the different subcommands",
        )
        .complexity("O(1)"),
    Command::new("list", 2, ADMIN_SUB, list)
        .doc(
            "server",
            "6.0.0",
            "List the current ACL rules in ACL config file format",
        )
        .complexity("O(N). Where N is the number of configured users."),
    Command::new("load", 2, ADMIN_SUB, load)
        .doc(
            "server",
            "6.0.0",
            "Reload the ACLs from the configured ACL file",
        )
        .complexity("O(N). Where N is the number of configured users."),
    Command::new("log", -2, ADMIN_SUB, log)
        .doc(
            "server",
            "6.0.0",
            "List latest events denied because of ACLs in place",
        )
        .complexity("O(N) with N being the number of entries shown."),
    Command::new("save", 2, ADMIN_SUB, save)
        .doc(
            "server",
            "6.0.0",
            "Save the current ACL rules in the configured ACL file",
        )
        .complexity("O(N). Where N is the number of configured users."),
    Command::new("setuser", -3, ADMIN_SUB, setuser)
        .doc(
            "server",
            "6.0.0",
            "Modify or create the rules for a specific ACL user",
        )
        .complexity("O(N). Where N is the number of rules provided."),
    Command::new("users", 2, ADMIN_SUB, users)
        .doc(
            "server",
            "6.0.0",
            "List the username of all the configured ACL rules",
        )
        .complexity("O(N). Where N is the number of configured users."),
    Command::new("whoami", 2, SUB, whoami)
        .doc(
            "server",
            "6.0.0",
            "Return the name of the user associated to the current connection",
        )
        .complexity("O(1)"),
];

pub const COMMANDS: &[Command] = &[Command::new("acl", -2, 0, help)
    .doc(
        "server",
        "6.0.0",
        "A container for Access List Control commands ",
    )
    .complexity("Depends on subcommand.")
    .subcommands(SUBCOMMANDS)];

fn setuser(ctx: &mut Ctx, args: Args) -> Reply {
    // MONITOR never sees the rules (they may hold passwords).
    for j in 2..args.len().min(64) {
        ctx.client.redacted |= 1 << j;
    }
    let name = args.get(2);
    if has_spaces(name) {
        return Reply::err("Usernames can't contain spaces or null characters");
    }
    let old = acl().get(name);
    let mut user = old.as_deref().cloned().unwrap_or_else(|| User::new(name));
    let rules: Vec<Vec<u8>> = args.iter().skip(3).map(<[u8]>::to_vec).collect();
    if let Err(e) = user.apply_all(&rules) {
        return Reply::err(&e.replace(['\r', '\n'], " "));
    }
    if let Some(old) = old {
        super::disconnect_pubsub(ctx.server, ctx.client, &old, &user);
    }
    acl().put(user);
    Reply::Ok
}

fn deluser(ctx: &mut Ctx, args: Args) -> Reply {
    if args.iter().skip(2).any(|n| n == b"default") {
        return Reply::err("The 'default' user cannot be removed");
    }
    let mut deleted = 0;
    for name in args.iter().skip(2) {
        if acl().remove(name) {
            super::disconnect_user(ctx.server, ctx.client, name);
            deleted += 1;
        }
    }
    Reply::Int(deleted)
}

fn getuser(_ctx: &mut Ctx, args: Args) -> Reply {
    let Some(u) = acl().get(args.get(2)) else {
        return Reply::Nil;
    };
    let field = |k: &'static str, v: Reply| (Reply::bulk(k), v);
    let mut fields = vec![
        field(
            "flags",
            Reply::Set(describe::flags(&u).into_iter().map(Reply::bulk).collect()),
        ),
        field(
            "passwords",
            Reply::Array(u.passwords.iter().map(Reply::bulk).collect()),
        ),
    ];
    fields.extend(selector_fields(&u.selectors[0]));
    fields.push(field(
        "selectors",
        Reply::Array(
            u.selectors[1..]
                .iter()
                .map(|s| Reply::Map(selector_fields(s)))
                .collect(),
        ),
    ));
    Reply::Map(fields)
}

/// `commands`, `keys` and `channels` of one selector, as ACL GETUSER shows them.
fn selector_fields(s: &Selector) -> Vec<(Reply, Reply)> {
    let keys = if s.allkeys {
        "~*".to_string()
    } else {
        let pats: Vec<String> = s
            .patterns
            .iter()
            .map(|(p, f)| describe::key_pattern(p, *f))
            .collect();
        pats.join(" ")
    };
    let channels = if s.allchannels {
        "&*".to_string()
    } else {
        let pats: Vec<String> = s
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        pats.join(" ")
    };
    vec![
        (
            Reply::bulk("commands"),
            Reply::bulk(describe::command_rules(s)),
        ),
        (Reply::bulk("keys"), Reply::bulk(keys)),
        (Reply::bulk("channels"), Reply::bulk(channels)),
    ]
}

fn list(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Array(
        acl()
            .users()
            .iter()
            .map(|u| Reply::bulk(format!("user {} {}", u.name_lossy(), describe::user(u))))
            .collect(),
    )
}

fn users(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Array(acl().users().iter().map(|u| Reply::bulk(&u.name)).collect())
}

fn whoami(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::bulk(&ctx.client.ext.acl.user.name)
}

fn cat(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() == 2 {
        return Reply::Array(categories::names().map(Reply::bulk).collect());
    }
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let wanted = std::str::from_utf8(args.get(2))
        .ok()
        .and_then(categories::by_name);
    let Some(cat) = wanted else {
        let name = String::from_utf8_lossy(args.get(2));
        let name: String = name.chars().take(128).collect();
        return Reply::err(&format!("Unknown category '{name}'"));
    };
    let t = table::get();
    Reply::Array(
        categories::all_ids()
            .filter(|&id| categories::has(id, cat))
            .map(|id| Reply::bulk(t.full_name(id)))
            .collect(),
    )
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax_error(args: Args) -> Reply {
    Reply::err(&format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

fn genpass(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let bits = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(b) => b,
            None => return Reply::not_integer(),
        }
    } else {
        256
    };
    if !(1..=4096).contains(&bits) {
        return Reply::err(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up \
             to 4096",
        );
    }
    let chars = (bits as usize).div_ceil(4);
    let bytes = random_bytes(chars.div_ceil(2));
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Reply::bulk(&hex[..chars])
}

/// Bytes from the kernel's generator (passwords must not be predictable); fastrand only if it is unreadable.
fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut out = vec![0u8; n];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut out));
    if read.is_err() {
        out.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    out
}

fn log(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let mut count = 10;
    if args.len() == 3 {
        if args.get(2).eq_ignore_ascii_case(b"reset") {
            acl().log.reset();
            return Reply::Ok;
        }
        match parse_i64(args.get(2)) {
            Some(n) => count = n.max(0) as usize,
            None => return Reply::not_integer(),
        }
    }
    acl().log.reply(count)
}

fn dryrun(_ctx: &mut Ctx, args: Args) -> Reply {
    let Some(user) = acl().get(args.get(2)) else {
        return Reply::err(&format!(
            "User '{}' not found",
            String::from_utf8_lossy(args.get(2))
        ));
    };
    let inner = args.skip(3);
    let t = table::get();
    let id = match resolve(t, inner) {
        Resolved::Command(id) => id,
        Resolved::WrongArity(id) => return Reply::wrong_arity(t.full_name(id)),
        Resolved::Rejected(_) => {
            return Reply::err(&format!(
                "Command '{}' not found",
                String::from_utf8_lossy(args.get(3))
            ))
        }
    };
    match user.check(id, inner) {
        Ok(()) => Reply::Ok,
        Err(Denied::Command) => Reply::bulk(format!(
            "This user has no permissions to run the '{}' command",
            t.full_name(id)
        )),
        Err(Denied::Key(i)) => Reply::bulk(format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(inner.get(i))
        )),
        Err(Denied::Channel(i)) => Reply::bulk(format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(inner.get(i))
        )),
    }
}

const NO_FILE: &str = "This Redis instance is not configured to use an ACL file. You may want to specify users \
                       via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis \
                       configuration file set) in order to store users in the Redis configuration.";

fn aclfile(ctx: &Ctx) -> Option<String> {
    ctx.server.config.get("aclfile").filter(|f| !f.is_empty())
}

fn load(ctx: &mut Ctx, _args: Args) -> Reply {
    let Some(path) = aclfile(ctx) else {
        return Reply::err(NO_FILE);
    };
    match file::load_file(&path) {
        Ok(users) => {
            let gone: Vec<Vec<u8>> = acl()
                .users()
                .iter()
                .map(|u| u.name.clone())
                .filter(|n| n != b"default")
                .collect();
            acl().replace_all(users);
            // The clients of every user but `default` are closed, as Redis frees the old users.
            for name in &gone {
                super::disconnect_user(ctx.server, ctx.client, name);
            }
            Reply::Ok
        }
        Err(e) => Reply::err(&e),
    }
}

fn save(ctx: &mut Ctx, _args: Args) -> Reply {
    let Some(path) = aclfile(ctx) else {
        return Reply::err(NO_FILE);
    };
    match file::save_file(&path) {
        Ok(()) => Reply::Ok,
        Err(e) => {
            log::warn!("{e}");
            Reply::err(
                "There was an error trying to save the ACLs. Please check the server logs for more information",
            )
        }
    }
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
}
