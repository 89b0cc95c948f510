use std::process::ExitCode;

use simplelog::{ColorChoice, ConfigBuilder, LevelFilter, TermLogger, TerminalMode, WriteLogger};

fn main() -> ExitCode {
    let config = match ferredis::config::parse_command_line(std::env::args_os()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.0);
            // --help and --version are not errors.
            let informational = e.0.starts_with("Usage")
                || e.0.starts_with("A Redis")
                || e.0.starts_with("ferredis ");
            return if informational {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    };
    init_logging(&config);
    let server = ferredis::server::Server::new(config);
    match ferredis::server::run(server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &ferredis::config::Config) {
    // The logger passes everything; `log::set_max_level` filters, so CONFIG SET loglevel works at runtime.
    let level = LevelFilter::Trace;
    let log_config = ConfigBuilder::new().set_time_format_rfc3339().build();
    let logfile = config.get("logfile").unwrap_or_default();
    let result = if logfile.is_empty() {
        TermLogger::init(level, log_config, TerminalMode::Stdout, ColorChoice::Never)
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&logfile)
        {
            Ok(file) => WriteLogger::init(level, log_config, file),
            Err(e) => {
                eprintln!("Can't open the log file: {e}");
                std::process::exit(1);
            }
        }
    };
    if let Err(e) = result {
        eprintln!("logging disabled: {e}");
    }
    log::set_max_level(ferredis::config::log_level(
        &config.get("loglevel").unwrap_or_default(),
    ));
}
