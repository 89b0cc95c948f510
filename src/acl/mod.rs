//! ACL users and permission checks, as Redis 7.0's `acl.c`.
//!
//! The users live in one process-wide registry (Redis keeps them in globals too; `requirepass` and the config's
//! `user` lines reach them before the server exists). A user is an immutable snapshot (`Arc<User>`): ACL SETUSER
//! builds a new one and bumps a generation counter; each client keeps its user's snapshot and the generation it
//! saw, and picks the new snapshot up by name before its next command. So the hot path for a client whose user may
//! run anything is one comparison of a cached flag and the generation, and no lock.

mod categories;
pub mod commands;
mod describe;
mod file;
mod log;
mod selector;
mod user;

use std::collections::BTreeMap;
use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

pub use self::log::{Context, Reason};
pub use file::{add_config_user, check_config_users, load_at_startup};
pub use selector::Denied;
pub use user::{hash_password, User};

use crate::commands::{table, Args};
use crate::protocol::Reply;
use crate::server::clients::ClientState;
use crate::server::Server;

/// Why a rule was refused; `message` is Redis's `ACLSetUserStringError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    Syntax,
    UnknownName,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSub,
}

impl OpError {
    pub fn message(self) -> &'static str {
        match self {
            OpError::UnknownName => "Unknown command or category name in ACL",
            OpError::Syntax => "Syntax error",
            OpError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have \
                 any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            OpError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not \
                 have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            OpError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            OpError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal \
                 characters"
            }
            OpError::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// The users, the log, and what start-up left to load.
pub struct Acl {
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    pub log: log::Log,
}

/// Bumped on every change of any user: clients re-read their user when it moved. Release/acquire, so a client
/// that sees the new number sees the new users (free on x86, where every load acquires).
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// `acl-pubsub-default allchannels`.
static PUBSUB_DEFAULT_ALL: AtomicBool = AtomicBool::new(false);
/// `requirepass` set before the registry exists (the config is read before the command table is built).
static PENDING_PASS: Mutex<Option<String>> = Mutex::new(None);
static ACL: OnceLock<Acl> = OnceLock::new();

/// The registry, created on first use with the `default` user.
pub fn acl() -> &'static Acl {
    ACL.get_or_init(|| {
        let mut default = User::default_user();
        if let Some(pass) = PENDING_PASS.lock().take() {
            set_password(&mut default, &pass);
        }
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), Arc::new(default));
        Acl {
            users: RwLock::new(users),
            log: log::Log::default(),
        }
    })
}

pub fn pubsub_default_all() -> bool {
    PUBSUB_DEFAULT_ALL.load(Relaxed)
}

/// Config hook for `acl-pubsub-default`.
pub fn set_pubsub_default(v: &str) {
    PUBSUB_DEFAULT_ALL.store(v == "allchannels", Relaxed);
}

/// Config hook for `requirepass`: the default user's only password, or `nopass` when empty (Redis's
/// `ACLUpdateDefaultUserPassword`).
pub fn set_requirepass(pass: &str) {
    match ACL.get() {
        Some(acl) => acl.update(b"default", |u| set_password(u, pass)),
        None => *PENDING_PASS.lock() = Some(pass.to_string()),
    }
}

fn set_password(u: &mut User, pass: &str) {
    let _ = u.apply(b"resetpass");
    if pass.is_empty() {
        let _ = u.apply(b"nopass");
    } else {
        let mut op = b">".to_vec();
        op.extend_from_slice(pass.as_bytes());
        let _ = u.apply(&op);
    }
}

impl Acl {
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    pub fn default_user(&self) -> Arc<User> {
        self.get(b"default")
            .unwrap_or_else(|| Arc::new(User::default_user()))
    }

    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// Stores `user` (new or changed) and tells the clients.
    pub fn put(&self, user: User) {
        self.users.write().insert(user.name.clone(), Arc::new(user));
        GENERATION.fetch_add(1, AcqRel);
    }

    /// Changes an existing user in place.
    fn update(&self, name: &[u8], f: impl FnOnce(&mut User)) {
        let mut users = self.users.write();
        if let Some(u) = users.get_mut(name) {
            f(Arc::make_mut(u));
        }
        GENERATION.fetch_add(1, AcqRel);
    }

    pub fn remove(&self, name: &[u8]) -> bool {
        let removed = self.users.write().remove(name).is_some();
        GENERATION.fetch_add(1, AcqRel);
        removed
    }

    /// Replaces every user at once (ACL LOAD, start-up).
    pub fn replace_all(&self, users: BTreeMap<Vec<u8>, Arc<User>>) {
        *self.users.write() = users;
        GENERATION.fetch_add(1, AcqRel);
    }

    /// Whether a client that has not authenticated must (Redis's `authRequired`): the default user has a
    /// password, or is off.
    pub fn auth_required(&self) -> bool {
        let d = self.default_user();
        !d.nopass || !d.enabled
    }
}

/// Every user as a config `user` line (CONFIG REWRITE).
pub fn config_lines() -> Vec<String> {
    acl()
        .users()
        .iter()
        .map(|u| format!("user {} {}", u.name_lossy(), describe::user(u)))
        .collect()
}

/// A client's user, as of the generation it last looked.
pub struct ClientAcl {
    pub user: Arc<User>,
    generation: u64,
    unrestricted: bool,
}

impl Default for ClientAcl {
    fn default() -> Self {
        Self::new(acl().default_user())
    }
}

impl ClientAcl {
    pub fn new(user: Arc<User>) -> Self {
        ClientAcl {
            unrestricted: user.unrestricted(),
            user,
            generation: GENERATION.load(Acquire),
        }
    }

    /// The hot path: true when the user may run anything and nothing changed since the client last looked.
    #[inline]
    pub fn allows_all(&self) -> bool {
        self.unrestricted && self.generation == GENERATION.load(Acquire)
    }

    /// Picks up a changed user; a deleted one allows nothing any more (its clients are being closed).
    fn refresh(&mut self) {
        let now = GENERATION.load(Acquire);
        if now != self.generation {
            let user = acl()
                .get(&self.user.name)
                .unwrap_or_else(|| Arc::new(User::new(&self.user.name)));
            *self = ClientAcl::new(user);
            self.generation = now;
        }
    }
}

/// Makes `user` the client's user (AUTH, HELLO AUTH, RESET).
pub fn set_client_user(client: &mut ClientState, user: Arc<User>) {
    *client.info.user.lock() = user.name.clone();
    client.ext.acl = ClientAcl::new(user);
}

/// The check before a command runs: `None` if the client's user may run it, else the `-NOPERM` reply (logged).
pub fn check_command(client: &mut ClientState, id: usize, args: Args) -> Option<Reply> {
    let denied = denied(client, id, args)?;
    let context = multi_context(client);
    log_denied(
        client,
        denied,
        (context, table::get().full_name(id)),
        id,
        args,
    );
    let text = match denied {
        Denied::Command => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            table::get().full_name(id)
        ),
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    };
    Some(Reply::Error(text.into()))
}

/// EXEC's second look at each queued command (the rules may have changed since it was queued).
pub fn check_queued(client: &mut ClientState, id: usize, args: Args) -> Option<Reply> {
    let denied = denied(client, id, args)?;
    log_denied(
        client,
        denied,
        (Context::Multi, table::get().full_name(id)),
        id,
        args,
    );
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    let reply = Reply::Error(
        format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC \
             call. This command is no longer allowed for the following reason: {reason}"
        )
        .into(),
    );
    // An error reply like any other in INFO errorstats, though the command never ran.
    crate::server::stats::with_local(|s| s.count_error(&reply));
    Some(reply)
}

/// A command called by a script: the error text `redis.call` raises, if the caller's user may not run it.
/// `script` names the script's own command (EVAL, EVALSHA): ACL LOG shows the client running it.
pub fn check_script(
    client: &mut ClientState,
    id: usize,
    args: Args,
    script: &str,
) -> Option<String> {
    let denied = denied(client, id, args)?;
    log_denied(client, denied, (Context::Lua, script), id, args);
    Some(format!(
        "The user executing the script {}",
        denied_message(denied)
    ))
}

/// Redis's `getAclErrorMessage`.
pub fn denied_message(d: Denied) -> &'static str {
    match d {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        Denied::Channel(_) => "can't publish to the channel mentioned in the command",
    }
}

/// The command (or subcommand) a request names, arity unchecked (Redis's `lookupCommand`): a container named
/// alone is itself.
pub fn lookup_command(args: Args) -> Option<usize> {
    let t = table::get();
    let id = t.lookup(args.get(0))?;
    if args.len() < 2 || t.get(id).subcommands.is_empty() {
        return Some(id);
    }
    t.lookup_sub(id, args.get(1))
}

/// Whether the client's user may run `id` with `args` (redis.acl_check_cmd).
pub fn allowed(client: &mut ClientState, id: usize, args: Args) -> bool {
    denied(client, id, args).is_none()
}

/// Why the client's user (as it is now) may not run `id` with `args`, if it may not.
fn denied(client: &mut ClientState, id: usize, args: Args) -> Option<Denied> {
    client.ext.acl.refresh();
    if client.ext.acl.unrestricted {
        return None;
    }
    client.ext.acl.user.check(id, args).err()
}

/// Whether the client's user may run this command and read any key at all (SORT's BY and GET patterns: Redis's
/// `ACLUserCheckCmdWithUnrestrictedKeyAccess` with `CMD_KEY_ACCESS`).
pub fn may_read_all_keys(client: &mut ClientState, args: Args) -> bool {
    client.ext.acl.refresh();
    if client.ext.acl.unrestricted {
        return true;
    }
    let Some(id) = table::get().lookup(args.get(0)) else {
        return false;
    };
    client.ext.acl.user.may_read_all_keys(id, args)
}

/// Logs a refusal; `running` is the context and the command the client runs (the script's, in a script).
fn log_denied(
    client: &ClientState,
    denied: Denied,
    (context, running): (Context, &str),
    id: usize,
    args: Args,
) {
    let (reason, object) = match denied {
        Denied::Command => (Reason::Command, table::get().full_name(id).as_bytes()),
        Denied::Key(i) => (Reason::Key, args.get(i)),
        Denied::Channel(i) => (Reason::Channel, args.get(i)),
    };
    let user = client.ext.acl.user.name.clone();
    let argv_mem = args.iter().map(<[u8]>::len).sum();
    add_log(client, reason, context, object, &user, (running, argv_mem));
}

fn multi_context(client: &ClientState) -> Context {
    if crate::commands::transaction::in_multi(client) {
        Context::Multi
    } else {
        Context::Toplevel
    }
}

/// Adds an ACL LOG entry for `client`, running `cmd` (its name and the bytes of its arguments).
fn add_log(
    client: &ClientState,
    reason: Reason,
    context: Context,
    object: &[u8],
    user: &[u8],
    (cmd, argv_mem): (&str, usize),
) {
    let cinfo = crate::commands::client::describe_current(client, cmd, argv_mem);
    let max = acllog_max_len();
    acl().log.add(reason, context, object, user, cinfo, max);
}

static ACLLOG_MAX_LEN: AtomicU64 = AtomicU64::new(128);

fn acllog_max_len() -> usize {
    ACLLOG_MAX_LEN.load(Relaxed) as usize
}

/// Config hook for `acllog-max-len`.
pub fn set_acllog_max_len(v: &str) {
    ACLLOG_MAX_LEN.store(v.parse().unwrap_or(128), Relaxed);
}

/// AUTH / HELLO AUTH: on success the client runs as `user` from now on; a failure is logged.
pub fn authenticate(client: &mut ClientState, name: &[u8], pass: &[u8], command: &[u8]) -> bool {
    match acl().get(name).filter(|u| u.password_ok(pass)) {
        Some(user) => {
            client.authenticated = true;
            set_client_user(client, user);
            true
        }
        None => {
            let cmd = String::from_utf8_lossy(command).to_ascii_lowercase();
            add_log(
                client,
                Reason::Auth,
                multi_context(client),
                command,
                name,
                (&cmd, 0),
            );
            false
        }
    }
}

/// Closes the clients authenticated as `name` (ACL DELUSER); the calling client after its reply.
pub fn disconnect_user(server: &Server, caller: &mut ClientState, name: &[u8]) {
    for info in server.clients.all() {
        if info.user.lock().as_slice() != name {
            continue;
        }
        if info.id == caller.info.id {
            caller.close_after_reply = true;
        } else {
            info.kill();
        }
    }
}

/// After ACL SETUSER took channels away from `old`: its pub/sub clients subscribed to something no longer
/// allowed are closed (Redis's `ACLKillPubsubClientsIfNeeded`).
pub fn disconnect_pubsub(server: &Server, caller: &mut ClientState, old: &User, new: &User) {
    if old.channels_kept_by(new) {
        return;
    }
    for info in server.clients.all() {
        if info.user.lock().as_slice() != old.name.as_slice() || !info.subscribed() {
            continue;
        }
        let lost = server
            .pubsub
            .subscriptions_of(info.id)
            .into_iter()
            .any(|(pattern, name)| {
                !new.selectors
                    .iter()
                    .any(|s| s.channels.iter().any(|p| channel_match(p, &name, pattern)))
            });
        if lost {
            if info.id == caller.info.id {
                caller.close_after_reply = true;
            } else {
                info.kill();
            }
        }
    }
}

fn channel_match(pattern: &[u8], name: &[u8], is_pattern: bool) -> bool {
    if is_pattern {
        pattern == name
    } else {
        crate::util::glob::glob_match(pattern, name, false)
    }
}
