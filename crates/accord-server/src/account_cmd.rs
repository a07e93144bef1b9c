//! `accord user ...` and `accord token ...`: the accounts that sign in to the server and call
//! its API, and the hashing of their secrets, which the server shares.
//!
//! Passwords are hashed with Argon2id (default parameters, a random 16-byte salt) into PHC
//! strings. API tokens are `acc_` and 32 random bytes in unpadded base64url; the store keeps
//! only their SHA-256, so a token is shown once, when it is made. No password or token is ever
//! part of an error or a log line.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use accord_core::access::{Role, Scope, Scopes};
use accord_store::{NewToken, NewUser, TokenRecord, UserRecord};
use anyhow::{Context, bail};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::cli::StoreArg;
use crate::output;
use crate::revision_cmd::{block_on, open};

/// The shortest password `accord user` accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Hashes a password with Argon2id (default parameters) and a random salt, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`).
///
/// # Errors
///
/// When the operating system gives no random bytes, or Argon2 refuses the input (a password
/// longer than 4 GiB).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; argon2::RECOMMENDED_SALT_LEN];
    getrandom::fill(&mut salt).context("reading random bytes for a salt")?;
    let hash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .context("hashing the password")?;
    Ok(hash.to_string())
}

/// Whether `password` is the one hashed in the PHC string `phc`, with the parameters the
/// string names; false for a string that is not an Argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// A new random secret: `prefix` and 32 random bytes in unpadded base64url (43 characters),
/// such as `acc_3q2-7w...`.
///
/// # Errors
///
/// When the operating system gives no random bytes.
pub fn new_secret(prefix: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).context("reading random bytes for a secret")?;
    Ok(format!("{prefix}{}", base64url(&bytes)))
}

/// The lowercase hex SHA-256 of a secret, as the store keeps tokens, session ids and CSRF
/// tokens.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// RFC 4648 §5 base64url, without padding.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |group, (byte_idx, byte)| group | u32::from(*byte) << (16 - 8 * byte_idx));
        // Three bytes make four characters; a final one or two make two or three.
        for char_idx in 0..=chunk.len() {
            let sextet = (group >> (18 - 6 * char_idx)) & 0x3f;
            text.push(char::from(ALPHABET[sextet as usize]));
        }
    }
    text
}

/// Checks a new password: not empty, at least [`MIN_PASSWORD_CHARS`] characters. The
/// message never contains the password.
fn check_password(password: &str) -> anyhow::Result<()> {
    if password.is_empty() {
        bail!("the password is empty");
    }
    let n_chars = password.chars().count();
    if n_chars < MIN_PASSWORD_CHARS {
        bail!(
            "the password is too short: {n_chars} characters, at least {MIN_PASSWORD_CHARS} needed"
        );
    }
    Ok(())
}

/// Removes one final line ending.
fn without_line_ending(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

/// The new password of `user`: the single line of `file`, or else one line of stdin.
fn read_password(file: Option<&Path>, user: &str) -> anyhow::Result<String> {
    let password = match file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the password file {}", file.display()))?;
            let password = without_line_ending(&text);
            if password.contains(['\n', '\r']) {
                bail!("the password file {} has more than one line", file.display());
            }
            password.to_owned()
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                output::note(&format!(
                    "password for {user} (one line; it is shown as typed: --password-file avoids that):"
                ));
            }
            let mut line = String::new();
            stdin.lock().read_line(&mut line).context("reading the password from stdin")?;
            without_line_ending(&line).to_owned()
        }
    };
    check_password(&password)?;
    Ok(password)
}

/// The customer rule, in the command line's words.
fn check_customer(role: Role, customer: Option<&str>) -> anyhow::Result<()> {
    match (role, customer) {
        (Role::Customer, None) => bail!("role customer needs --customer NAME"),
        (_, Some(customer)) if customer.trim().is_empty() => bail!("--customer is empty"),
        (Role::Customer, Some(_)) | (_, None) => Ok(()),
        (role, Some(_)) => bail!("--customer is only for role customer, not {role}"),
    }
}

/// Who runs the command: `given`, else `$USER`, else `unknown`.
fn who(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .filter(|who| !who.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `2026-11-25 09:00 UTC`, or `-`.
fn show(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
}

/// Rows padded into columns two spaces apart; the last column is not padded.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let n_columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n_columns)
        .map(|column_idx| {
            rows.iter()
                .filter_map(|row| row.get(column_idx))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (column_idx, cell) in row.iter().enumerate() {
                if column_idx + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  ", width = widths[column_idx]));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// `accord user add NAME`.
pub fn user_add(
    store: &StoreArg,
    name: &str,
    role: Role,
    customer: Option<String>,
    password_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    check_customer(role, customer.as_deref())?;
    let password = read_password(password_file, name)?;
    let user =
        NewUser { name: name.to_owned(), password_hash: hash_password(&password)?, role, customer };
    let now = Timestamp::now();
    block_on(async {
        let store = open(store).await?;
        store.add_user(&user, &who(None), now).await.with_context(|| format!("adding user {name}"))
    })??;
    output::text(&format!("user {name} added (role {role})"));
    Ok(ExitCode::SUCCESS)
}

/// `accord user list`.
pub fn user_list(store: &StoreArg) -> anyhow::Result<ExitCode> {
    let users: Vec<UserRecord> = block_on(async {
        let store = open(store).await?;
        store.users().await.context("reading users")
    })??;
    if users.is_empty() {
        output::note("no users: add one with accord user add NAME --role admin");
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        ["NAME", "ROLE", "CUSTOMER", "CREATED", "PASSWORD SET", "DISABLED"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for user in &users {
        rows.push(vec![
            user.name.clone(),
            user.role.to_string(),
            user.customer.clone().unwrap_or_else(|| "-".to_owned()),
            show(Some(user.created_at)),
            show(Some(user.password_changed_at)),
            show(user.disabled_at),
        ]);
    }
    output::lines(table(&rows));
    Ok(ExitCode::SUCCESS)
}

/// `accord user passwd NAME`.
pub fn user_passwd(
    store: &StoreArg,
    name: &str,
    password_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let password = read_password(password_file, name)?;
    let password_hash = hash_password(&password)?;
    let now = Timestamp::now();
    block_on(async {
        let store = open(store).await?;
        store
            .set_password(name, &password_hash, &who(None), now)
            .await
            .with_context(|| format!("setting the password of user {name}"))
    })??;
    output::text(&format!("password of user {name} changed"));
    Ok(ExitCode::SUCCESS)
}

/// `accord user disable NAME`.
pub fn user_disable(store: &StoreArg, name: &str) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    block_on(async {
        let store = open(store).await?;
        store
            .disable_user(name, &who(None), now)
            .await
            .with_context(|| format!("disabling user {name}"))
    })??;
    output::text(&format!("user {name} disabled; their sessions have ended"));
    Ok(ExitCode::SUCCESS)
}

/// What `accord token add` is given.
#[derive(Debug)]
pub struct TokenAddArgs<'a> {
    /// The token's label.
    pub name: &'a str,
    /// The role it acts as.
    pub role: Role,
    /// Its scopes; empty for every scope of the role.
    pub scopes: &'a [Scope],
    /// The customer a customer token is bound to.
    pub customer: Option<String>,
    /// Who creates it (default: `$USER`).
    pub by: Option<String>,
}

/// `accord token add NAME`: prints the token on stdout, once, and what it is on stderr.
pub fn token_add(store: &StoreArg, args: TokenAddArgs<'_>) -> anyhow::Result<ExitCode> {
    let allowed = args.role.scopes();
    if let Some(scope) = args.scopes.iter().find(|scope| !allowed.contains(**scope)) {
        bail!(
            "role {} cannot hold scope {scope}: it may hold {}",
            args.role,
            allowed.to_list().replace(',', ", ")
        );
    }
    check_customer(args.role, args.customer.as_deref())?;
    let scopes = if args.scopes.is_empty() { allowed } else { Scopes::of(args.scopes) };
    let secret = new_secret("acc_")?;
    let token = NewToken {
        name: args.name.to_owned(),
        secret_hash: secret_hash(&secret),
        scopes,
        role: args.role,
        customer: args.customer,
        created_by: who(args.by),
    };
    let now = Timestamp::now();
    let record: TokenRecord = block_on(async {
        let store = open(store).await?;
        store.add_token(&token, now).await.with_context(|| format!("adding token {}", args.name))
    })??;
    output::note(&format!(
        "token {} added: {} (role {}, scopes {}{})",
        record.id,
        record.name,
        record.role,
        record.scopes.to_list(),
        record
            .customer
            .as_ref()
            .map(|customer| format!(", customer {customer}"))
            .unwrap_or_default(),
    ));
    output::text(&secret);
    output::note("this token will not be shown again: store it now");
    Ok(ExitCode::SUCCESS)
}

/// `accord token list`: every token, never its secret.
pub fn token_list(store: &StoreArg) -> anyhow::Result<ExitCode> {
    let tokens: Vec<TokenRecord> = block_on(async {
        let store = open(store).await?;
        store.tokens().await.context("reading tokens")
    })??;
    if tokens.is_empty() {
        output::note("no tokens: add one with accord token add NAME --role ROLE");
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        ["ID", "NAME", "ROLE", "SCOPES", "CUSTOMER", "CREATED", "BY", "LAST USED", "REVOKED"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for token in &tokens {
        rows.push(vec![
            token.id.to_string(),
            token.name.clone(),
            token.role.to_string(),
            token.scopes.to_list(),
            token.customer.clone().unwrap_or_else(|| "-".to_owned()),
            show(Some(token.created_at)),
            token.created_by.clone(),
            token.last_used_at.map_or_else(|| "never".to_owned(), |at| show(Some(at))),
            show(token.revoked_at),
        ]);
    }
    output::lines(table(&rows));
    Ok(ExitCode::SUCCESS)
}

/// `accord token revoke ID`: 1 when there is no such token or it was revoked already.
pub fn token_revoke(store: &StoreArg, id: u64) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    let revoked = block_on(async {
        let store = open(store).await?;
        store
            .revoke_token(id, &who(None), now)
            .await
            .with_context(|| format!("revoking token {id}"))
    })??;
    if !revoked {
        bail!("no token {id} to revoke: it does not exist or was revoked already");
    }
    output::text(&format!("token {id} revoked"));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_without_padding() {
        let check = |input: &str, expected: &str| assert_eq!(base64url(input.as_bytes()), expected);
        check("", "");
        check("f", "Zg");
        check("fo", "Zm8");
        check("foo", "Zm9v");
        check("foob", "Zm9vYg");
        check("fooba", "Zm9vYmE");
        check("foobar", "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff, 0xfe]), "-__-");
    }

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        let first = new_secret("acc_").unwrap();
        let second = new_secret("acc_").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 4 + 43);
        assert!(first[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn secret_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("correct horse battery", "not a phc string"));
        // A fresh salt each time.
        assert_ne!(hash_password("correct horse battery").unwrap(), phc);
    }

    #[test]
    fn short_passwords_are_refused_without_showing_them() {
        assert_eq!(check_password("").unwrap_err().to_string(), "the password is empty");
        let error = check_password("hunter2").unwrap_err().to_string();
        assert_eq!(error, "the password is too short: 7 characters, at least 12 needed");
        assert!(check_password("twelve chars").is_ok());
        assert_eq!(without_line_ending("pass\r\n"), "pass");
    }

    #[test]
    fn table_pads_every_column_but_the_last() {
        let rows = [vec!["ID".into(), "NAME".into()], vec!["10".into(), "ci".into()]];
        assert_eq!(table(&rows), ["ID  NAME", "10  ci"]);
    }
}
