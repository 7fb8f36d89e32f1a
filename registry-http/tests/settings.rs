//! Settings precedence: a flag beats the environment, which beats the config file, which beats the default.

use clap::Parser;
use registry_http::config::Cli;

#[test]
fn flags_beat_the_file_and_the_file_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from/file\"\nmax_body_bytes = 1234\ncache_mib = 32\n",
    )
    .unwrap();
    let cli = Cli::try_parse_from(["schema-registry", "--config", file.to_str().unwrap(), "--data-dir", "/from/flag"])
        .unwrap();
    let settings = cli.settings().unwrap();
    assert_eq!(settings.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(settings.data_dir.to_str(), Some("/from/flag"));
    assert_eq!(settings.max_body_bytes, 1234);
    assert_eq!(settings.max_schema_bytes, 1 << 20);
    assert!(settings.auth_keys.is_none());
    assert_eq!(settings.cache_bytes, 32 << 20);
    assert_eq!(settings.cache_capacity, 20_000);
}

#[test]
fn defaults_without_flags_or_file() {
    let settings = Cli::try_parse_from(["schema-registry"]).unwrap().settings().unwrap();
    assert_eq!(settings.listen.to_string(), "127.0.0.1:8081");
    assert_eq!(settings.data_dir.to_str(), Some("./registry-data"));
    assert_eq!(settings.max_body_bytes, registry_http::DEFAULT_MAX_BODY_BYTES);
    assert_eq!(settings.cache_bytes, registry_http::config::DEFAULT_CACHE_BYTES);
    assert_eq!(settings.cache_bytes, 80 << 20);
}

#[test]
fn an_unknown_key_in_the_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:9000\"\n").unwrap();
    let err =
        Cli::try_parse_from(["schema-registry", "--config", file.to_str().unwrap()]).unwrap().settings().unwrap_err();
    assert!(err.contains("listn"), "{err}");
}

#[test]
fn invalid_flag_values_are_refused_by_the_parser() {
    assert!(Cli::try_parse_from(["schema-registry", "--listen", "not-an-address"]).is_err());
    assert!(Cli::try_parse_from(["schema-registry", "--max-body-bytes", "-5"]).is_err());
    assert!(Cli::try_parse_from(["schema-registry", "--cache-mib", "0"]).is_err());
    assert!(Cli::try_parse_from(["schema-registry", "--cache-mib", "lots"]).is_err());
}
