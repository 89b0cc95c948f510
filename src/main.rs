use std::process::ExitCode;

fn main() -> ExitCode {
    // A BGSAVE's or BGREWRITEAOF's writer process is this binary too (`persist::child`).
    if let Some(code) = ferredis::persist::child::run_if_child() {
        return code;
    }
    let config = match ferredis::config::parse_command_line(std::env::args_os()) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are answers, not errors: stdout and success, as redis-server.
            if e.0.starts_with("Usage") || e.0.starts_with("Redis server v=") {
                println!("{}", e.0);
                return ExitCode::SUCCESS;
            }
            eprintln!("{}", e.0);
            return ExitCode::FAILURE;
        }
    };
    // A bad `user` line is a config-file error, printed as the others are.
    if let Err(e) = ferredis::acl::check_config_users() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    ferredis::logging::init(&config);
    ferredis::crash::install(&config.get("logfile").unwrap_or_default());
    announce_start(&config);
    if let Err(e) = ferredis::acl::load_at_startup(&config) {
        log::warn!("{e}");
        if !e.starts_with("Aborting") {
            log::warn!("Critical error while loading ACLs. Exiting.");
        }
        return ExitCode::FAILURE;
    }
    let server = ferredis::server::Server::new(config);
    ferredis::crash::attach(&server);
    match ferredis::server::run(server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // An empty error: its lines were logged where it happened (a bad AOF), the last one last.
            if !e.to_string().is_empty() {
                log::warn!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Redis's first log lines, worded as redis-server 7.0 words them (role `C`: the server is not up yet).
fn announce_start(config: &ferredis::config::Config) {
    log::warn!("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    log::warn!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started",
        ferredis::logging::REDIS_VERSION,
        std::process::id()
    );
    if std::env::args_os().len() == 1 {
        let program = std::env::args().next().unwrap_or_default();
        log::warn!("Warning: no config file specified, using the default config. In order to specify a config file use {program} /path/to/redis.conf");
    } else {
        log::warn!("Configuration loaded");
    }
    let replica = !config.get("replicaof").unwrap_or_default().is_empty();
    ferredis::logging::set_role(if replica { b'S' } else { b'M' });
    log::info!("monotonic clock: POSIX clock_gettime");
}
