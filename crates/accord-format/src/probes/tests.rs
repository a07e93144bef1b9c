use expect_test::{Expect, expect};

use super::{Check, parse_probes};

const TEST_CA: &str = include_str!("../../tests/data/tls/accord-test-ca.pem");
const ISRG_ROOT_X2: &str = include_str!("../../tests/data/tls/isrg-root-x2.pem");

/// Parses `yaml` as `DIR/probes.yaml`, with `files` written beside it, and describes the probes
/// or the errors (with the temporary directory written `DIR`).
#[track_caller]
fn check(yaml: &str, files: &[(&str, &str)], expect: Expect) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dir");
        std::fs::write(path, text).expect("write");
    }
    let actual = match parse_probes(&dir.path().join("probes.yaml"), yaml) {
        Ok(probes) => probes
            .iter()
            .map(|probe| {
                let check = match &probe.check {
                    Check::Http { host, port, path, tls: Some(tls), .. } => format!(
                        "https {host} {port} {path}, {} CA certificates, warn {:#} before expiry",
                        tls.ca.len(),
                        tls.certificate_expiry
                    ),
                    Check::Http { host, port, path, tls: None, .. } => {
                        format!("http {host} {port} {path}")
                    }
                    other => format!("{other:?}"),
                };
                format!("{}: {check}\n", probe.name)
            })
            .collect::<String>(),
        Err(errors) => {
            errors.to_string().replace(&dir.path().display().to_string(), "DIR").replace('\\', "/")
                + "\n"
        }
    };
    expect.assert_eq(&actual);
}

#[test]
fn https_probes_default_to_port_443_and_a_14_day_warning() {
    check(
        "probes:
  - { name: shop, affects: shop, http: 'https://shop.example/health' }
  - { name: admin, affects: shop, http: 'https://admin.example:8443', certificateExpiry: 30d }
  - { name: hourly, affects: shop, http: 'https://admin.example/', certificateExpiry: 36h }
  - { name: plain, affects: shop, http: 'http://shop.example/health' }
",
        &[],
        expect![[r#"
            shop: https shop.example 443 /health, 0 CA certificates, warn 336h before expiry
            admin: https admin.example 8443 /, 0 CA certificates, warn 720h before expiry
            hourly: https admin.example 443 /, 0 CA certificates, warn 36h before expiry
            plain: http shop.example 80 /health
        "#]],
    );
}

#[test]
fn ca_files_are_read_relative_to_the_probe_file() {
    let both = format!("{TEST_CA}{ISRG_ROOT_X2}");
    check(
        "probes:
  - { name: one, affects: shop, http: 'https://shop.internal/', ca: certs/ca.pem }
  - { name: two, affects: shop, http: 'https://shop.internal/', ca: both.pem }
",
        &[("certs/ca.pem", TEST_CA), ("both.pem", &both)],
        expect![[r#"
            one: https shop.internal 443 /, 1 CA certificates, warn 336h before expiry
            two: https shop.internal 443 /, 2 CA certificates, warn 336h before expiry
        "#]],
    );
}

#[test]
fn a_missing_or_broken_ca_file_names_the_line_and_field() {
    let not_a_certificate = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
    check(
        "probes:
  - name: missing
    affects: shop
    http: https://shop.internal/
    ca: nowhere.pem
  - { name: empty, affects: shop, http: 'https://shop.internal/', ca: key.pem }
  - { name: garbled, affects: shop, http: 'https://shop.internal/', ca: garbled.pem }
  - { name: not-a-certificate, affects: shop, http: 'https://shop.internal/', ca: int.pem }
",
        &[
            ("key.pem", "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n"),
            ("garbled.pem", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
            ("int.pem", not_a_certificate),
        ],
        expect![[r#"
            DIR/probes.yaml:5:9: probes[0].ca: cannot read DIR/nowhere.pem: No such file or directory (os error 2)
            DIR/probes.yaml:6:71: probes[1].ca: no certificates in DIR/key.pem: expected PEM blocks starting -----BEGIN CERTIFICATE-----
            DIR/probes.yaml:7:73: probes[2].ca: invalid PEM in DIR/garbled.pem: base64 decode error: InvalidCharacter(33)
            DIR/probes.yaml:8:83: probes[3].ca: certificate 1 in DIR/int.pem is not valid: expected a tbsCertificate SEQUENCE at byte 2, found tag 0x02
        "#]],
    );
}

#[test]
fn tls_fields_apply_only_to_https_probes() {
    check(
        "probes:
  - { name: plain, affects: shop, http: 'http://shop.example/', ca: ca.pem, certificateExpiry: 7d }
  - { name: port, affects: shop, tcp: 'shop.example:443', certificateExpiry: 7d }
",
        &[("ca.pem", TEST_CA)],
        expect![[r#"
            DIR/probes.yaml:2:69: probes[0].ca: ca applies only to https:// probes
            DIR/probes.yaml:2:96: probes[0].certificateExpiry: certificateExpiry applies only to https:// probes
            DIR/probes.yaml:3:78: probes[1].certificateExpiry: certificateExpiry applies only to https:// probes
        "#]],
    );
}

#[test]
fn certificate_expiry_is_a_positive_duration() {
    check(
        "probes:
  - { name: zero, affects: shop, http: 'https://shop.example/', certificateExpiry: 0d }
  - { name: word, affects: shop, http: 'https://shop.example/', certificateExpiry: soon }
  - { name: url, affects: shop, http: 'ftp://shop.example/' }
",
        &[],
        expect![[r#"
            DIR/probes.yaml:2:84: probes[0].certificateExpiry: invalid duration "0d": expected whole days such as 14d, or hours such as 72h
            DIR/probes.yaml:3:84: probes[1].certificateExpiry: invalid duration "soon": expected whole days such as 14d, or hours such as 72h
            DIR/probes.yaml:4:39: probes[2].http: invalid URL "ftp://shop.example/": expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH
        "#]],
    );
}
