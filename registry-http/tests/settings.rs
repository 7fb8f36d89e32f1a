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

#[test]
fn the_store_comes_from_a_flag_or_the_file_and_defaults_to_the_data_directory() {
    use registry_store::StoreAddress;
    let settings = Cli::try_parse_from(["schema-registry", "--data-dir", "/data"]).unwrap().settings().unwrap();
    assert_eq!(settings.store, StoreAddress::Embedded("/data/registry.redb".into()));
    assert_eq!(settings.store_options.pool_size, 16);
    assert_eq!(settings.store_options.connect_wait.as_secs(), 60);

    let dir = tempfile::tempdir().unwrap();
    let (file, password) = (dir.path().join("registry.toml"), dir.path().join("password"));
    std::fs::write(&password, "s3cret\n").unwrap();
    let toml = format!(
        "store = \"postgres://registry@db:5432/registry\"\nstore_pool_size = 4\nstore_wait_secs = 5\n\
         store_password_file = \"{}\"\n",
        password.display()
    );
    std::fs::write(&file, toml).unwrap();
    let settings =
        Cli::try_parse_from(["schema-registry", "--config", file.to_str().unwrap()]).unwrap().settings().unwrap();
    assert_eq!(settings.store, StoreAddress::Postgres("postgres://registry@db:5432/registry".into()));
    assert_eq!(settings.store_options.pool_size, 4);
    assert_eq!(settings.store_options.connect_wait.as_secs(), 5);
    assert_eq!(
        settings.store_options.password.as_deref(),
        Some("s3cret"),
        "the file's last newline is not the password's"
    );
    assert!(!format!("{:?}", settings.store_options).contains("s3cret"), "never in a debug print");

    let flag = ["schema-registry", "--config", file.to_str().unwrap(), "--store", "/elsewhere/registry.redb"];
    let settings = Cli::try_parse_from(flag).unwrap().settings().unwrap();
    assert_eq!(settings.store, StoreAddress::Embedded("/elsewhere/registry.redb".into()), "the flag wins");

    let missing = ["schema-registry", "--store-password-file", "/no/such/file"];
    let err = Cli::try_parse_from(missing).unwrap().settings().unwrap_err();
    assert!(err.contains("/no/such/file"), "{err}");
    assert!(Cli::try_parse_from(["schema-registry", "--store-pool-size", "0"]).is_err());
}

#[test]
fn a_store_url_is_shown_without_its_password() {
    use registry_store::StoreAddress;
    for (url, shown) in [
        ("postgres://registry:s3cret@db:5432/registry", "postgres://registry:***@db:5432/registry"),
        ("postgresql://registry@db/registry", "postgresql://registry@db/registry"),
        ("postgres://db/registry?sslmode=disable", "postgres://db/registry?sslmode=disable"),
        ("postgres://u:p@ss@db/registry", "postgres://u:***@db/registry"),
        ("postgres://u:p/ss@db/registry", "postgres://u:***@db/registry"),
        ("postgres://u:pw@db/registry?application_name=a@b", "postgres://u:***@db/registry?application_name=a@b"),
    ] {
        assert_eq!(StoreAddress::parse(url).to_string(), shown);
    }
    assert_eq!(StoreAddress::parse("./data/registry.redb").to_string(), "./data/registry.redb");
}
