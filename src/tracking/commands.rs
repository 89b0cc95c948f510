//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, with Redis 7.0's checks and error texts
//! (`networking.c`, `clientCommand`).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use super::table::Tables;
use super::Member;
use crate::commands::{flags, Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

const SUB_FLAGS: u32 = flags::NOSCRIPT | flags::LOADING | flags::STALE;

pub const CLIENT_TRACKING: Command = Command::new("tracking", -3, SUB_FLAGS, tracking)
    .doc(
        "connection",
        "6.0.0",
        "Enable or disable server assisted client side caching support",
    )
    .complexity("O(1). Some options may introduce additional complexity.");
pub const CLIENT_CACHING: Command = Command::new("caching", 3, SUB_FLAGS, caching)
    .doc(
        "connection",
        "6.0.0",
        "Instruct the server about tracking or not keys in the next request",
    )
    .complexity("O(1)");
pub const CLIENT_GETREDIR: Command = Command::new("getredir", 2, SUB_FLAGS, getredir)
    .doc(
        "connection",
        "6.0.0",
        "Get tracking notifications redirection client ID if any",
    )
    .complexity("O(1)");
pub const CLIENT_TRACKINGINFO: Command = Command::new("trackinginfo", 2, SUB_FLAGS, trackinginfo)
    .doc(
        "connection",
        "6.2.0",
        "Return information about server assisted client side caching for the current connection",
    )
    .complexity("O(1)");

/// The options of one CLIENT TRACKING call.
#[derive(Default)]
struct Options {
    redirect: i64,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
    prefixes: Vec<Vec<u8>>,
}

fn parse(ctx: &Ctx, args: Args) -> Result<Options, Reply> {
    let mut o = Options::default();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = args.get(j).to_ascii_lowercase();
        match a.as_slice() {
            b"redirect" if more => {
                j += 1;
                if o.redirect != 0 {
                    return Err(Reply::err(
                        "A client can only redirect to a single other client",
                    ));
                }
                o.redirect = parse_i64(args.get(j)).ok_or_else(Reply::not_integer)?;
                let exists = u64::try_from(o.redirect)
                    .ok()
                    .and_then(|id| ctx.server.clients.get(id))
                    .is_some();
                if !exists {
                    return Err(Reply::err(
                        "The client ID you want redirect to does not exist",
                    ));
                }
            }
            b"bcast" => o.bcast = true,
            b"optin" => o.optin = true,
            b"optout" => o.optout = true,
            b"noloop" => o.noloop = true,
            b"prefix" if more => {
                j += 1;
                o.prefixes.push(args.get(j).to_vec());
            }
            _ => return Err(Reply::syntax_error()),
        }
        j += 1;
    }
    Ok(o)
}

fn tracking(ctx: &mut Ctx, args: Args) -> Reply {
    let o = match parse(ctx, args) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match args.get(2).to_ascii_lowercase().as_slice() {
        b"on" => match check(ctx, &o) {
            Ok(()) => enable(ctx, o),
            Err(e) => return e,
        },
        b"off" => super::disable(ctx.server, ctx.client),
        _ => return Reply::syntax_error(),
    }
    Reply::Ok
}

/// The option checks of `clientCommand`, in Redis's order.
fn check(ctx: &Ctx, o: &Options) -> Result<(), Reply> {
    let t = &ctx.client.ext.tracking;
    if !o.bcast && !o.prefixes.is_empty() {
        return Err(Reply::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if let Some(member) = &t.member {
        if member.bcast != o.bcast {
            return Err(Reply::err("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
    }
    if o.bcast && (o.optin || o.optout) {
        return Err(Reply::err("OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if o.optin && o.optout {
        return Err(Reply::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (o.optin && t.optout) || (o.optout && t.optin) {
        return Err(Reply::err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if o.bcast {
        check_prefixes(&t.prefixes, &o.prefixes)?;
    }
    Ok(())
}

/// Redis's `checkPrefixCollisionsOrReply`: no new prefix may overlap one the client has, nor a later new one.
fn check_prefixes(existing: &[Vec<u8>], new: &[Vec<u8>]) -> Result<(), Reply> {
    for (i, p) in new.iter().enumerate() {
        let clash = Tables::overlap(p, existing.iter())
            .map(|e| ("an existing", e))
            .or_else(|| Tables::overlap(p, new[i + 1..].iter()).map(|e| ("another provided", e)));
        if let Some((which, other)) = clash {
            return Err(Reply::error(format!(
                "ERR Prefix '{}' overlaps with {which} prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(other)
            )));
        }
    }
    Ok(())
}

/// Redis's `enableTracking`: flags replaced by the new options, BCAST prefixes added to those the client had.
fn enable(ctx: &mut Ctx, o: Options) {
    let server = ctx.server;
    let t = &mut ctx.client.ext.tracking;
    if t.member.is_none() {
        server.tracking.clients.fetch_add(1, Relaxed);
    }
    let mut added = Vec::new();
    if o.bcast {
        let wanted = if o.prefixes.is_empty() {
            vec![Vec::new()]
        } else {
            o.prefixes
        };
        for p in wanted {
            if !t.prefixes.contains(&p) {
                t.prefixes.push(p.clone());
            }
            added.push(p);
        }
        ctx.client
            .info
            .tracking_prefixes
            .store(t.prefixes.len(), Relaxed);
    }
    t.optin = o.optin;
    t.optout = o.optout;
    let member = Arc::new(Member {
        info: ctx.client.info.clone(),
        redirect: o.redirect as u64,
        bcast: o.bcast,
        noloop: o.noloop,
        broken: AtomicBool::new(false),
    });
    server.tracking.tables.lock().enable(member.clone(), &added);
    ctx.client.ext.tracking.member = Some(member);
}

fn caching(ctx: &mut Ctx, args: Args) -> Reply {
    let t = &mut ctx.client.ext.tracking;
    if t.member.is_none() {
        return Reply::err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    }
    match args.get(2).to_ascii_lowercase().as_slice() {
        b"yes" if t.optin => t.caching = true,
        b"yes" => {
            return Reply::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            )
        }
        b"no" if t.optout => t.caching = true,
        b"no" => {
            return Reply::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            )
        }
        _ => return Reply::syntax_error(),
    }
    Reply::Ok
}

fn redirect_of(ctx: &Ctx) -> i64 {
    match &ctx.client.ext.tracking.member {
        Some(m) => m.redirect as i64,
        None => -1,
    }
}

fn getredir(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(redirect_of(ctx))
}

fn trackinginfo(ctx: &mut Ctx, _args: Args) -> Reply {
    let t = &ctx.client.ext.tracking;
    let mut flags = vec![if t.on() { "on" } else { "off" }];
    if let Some(m) = &t.member {
        if m.bcast {
            flags.push("bcast");
        }
    }
    if t.optin {
        flags.push("optin");
        if t.caching {
            flags.push("caching-yes");
        }
    }
    if t.optout {
        flags.push("optout");
        if t.caching {
            flags.push("caching-no");
        }
    }
    if let Some(m) = &t.member {
        if m.noloop {
            flags.push("noloop");
        }
        if m.broken.load(Relaxed) {
            flags.push("broken_redirect");
        }
    }
    let mut prefixes = t.prefixes.clone();
    prefixes.sort();
    Reply::Map(vec![
        (
            Reply::bulk("flags"),
            Reply::Set(flags.into_iter().map(Reply::bulk).collect()),
        ),
        (Reply::bulk("redirect"), Reply::Int(redirect_of(ctx))),
        (
            Reply::bulk("prefixes"),
            Reply::Array(prefixes.iter().map(Reply::bulk).collect()),
        ),
    ])
}
