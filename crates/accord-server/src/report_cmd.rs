//! `accord report`: a compliance report from the store, written as JSON, CSV, HTML or PDF,
//! optionally signed; `accord report verify` checks a report against its signature, and
//! `accord report keygen` makes a signing key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use jiff::Timestamp;

use crate::cli::{ReportArgs, ReportCommand};
use crate::output;
use crate::report::sign::{self, SigningKey};
use crate::report::{self, Format, Request, Settings};
use crate::revision_cmd::{block_on, open};

/// Runs `accord report ...`.
///
/// # Errors
///
/// A missing or bad flag, an unreadable store or file, a failed verification.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(ReportCommand::Verify { file, signature, key }) => {
            verify(file, signature.as_deref(), key.as_deref())
        }
        Some(ReportCommand::Keygen) => {
            let seed = SigningKey::generate_seed()?;
            let key = SigningKey::from_base64(&seed).map_err(anyhow::Error::msg)?;
            output::text(&format!(
                "report_signing_key = \"{seed}\"\n# public key: {}\n",
                key.public_base64()
            ));
            Ok(ExitCode::SUCCESS)
        }
        None => make(args),
    }
}

/// Reads a signing key file (a base64 seed).
pub(crate) fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    SigningKey::from_base64(&text)
        .map_err(|message| anyhow::anyhow!("{}: {message}", path.display()))
}

fn make(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let Some(period) = args.period.clone() else {
        bail!("--period: required (2026-10, 2026-Q4 or 2026)");
    };
    let from_extension = args
        .output
        .as_ref()
        .and_then(|path| path.extension())
        .and_then(|extension| Format::parse(&extension.to_string_lossy()));
    let format = match &args.format {
        Some(text) => Format::parse(text)
            .with_context(|| format!("--format: {text:?}: expected {}", Format::NAMES))?,
        None => from_extension.unwrap_or(Format::Json),
    };
    if format == Format::Pdf && args.output.is_none() {
        bail!("--output: required for pdf (a PDF is not written to a terminal)");
    }
    if args.sign_key_file.is_some() && args.output.is_none() {
        bail!("--output: required to sign (the signature goes to FILE.sig)");
    }
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>()
                .with_context(|| format!("--as-of: {text:?}: expected an instant with an offset"))
        })
        .transpose()?;
    let signing_key = args.sign_key_file.as_deref().map(read_signing_key).transpose()?;
    let request =
        Request { customer: args.customer.clone(), period, format, position: args.position, as_of };
    let settings = Settings { issuer: args.issuer.clone(), ..Settings::default() };
    let now = Timestamp::now();
    let generated = block_on(async {
        let store = open(&args.store).await?;
        report::generate(&store, &settings, &request, now).await.map_err(|error| match error {
            report::ReportError::Invalid { field, message } => {
                anyhow::anyhow!("--{field}: {message}")
            }
            report::ReportError::UnknownCustomer(customer) => anyhow::anyhow!(
                "--customer: {customer:?} has no agreement in force in {}",
                request.period
            ),
            report::ReportError::Internal(error) => error,
        })
    })??;
    match &args.output {
        Some(path) => {
            write_atomically(path, &generated.bytes)?;
            if let Some(key) = &signing_key {
                let name = path.file_name().map_or_else(
                    || generated.file_name.clone(),
                    |name| name.to_string_lossy().into_owned(),
                );
                let signature = key.sign(
                    &name,
                    &generated.bytes,
                    generated.position,
                    &generated.as_of.to_string(),
                );
                write_atomically(&signature_path(path), signature.as_bytes())?;
            }
            output::note(&format!(
                "wrote {} ({} bytes): sha256 {}, log position {}, as of {}{}",
                path.display(),
                generated.bytes.len(),
                generated.sha256,
                generated.position,
                generated.as_of,
                if signing_key.is_some() { ", signed" } else { "" }
            ));
        }
        None => output::text(&String::from_utf8_lossy(&generated.bytes)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `FILE.sig` beside `FILE`.
fn signature_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// Writes `bytes` to a temporary file beside `path` and renames it over, so a reader never
/// sees half a report.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

fn verify(file: &Path, signature: Option<&Path>, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let signature_file = signature.map_or_else(|| signature_path(file), Path::to_path_buf);
    let text = std::fs::read_to_string(&signature_file)
        .with_context(|| format!("reading the signature {}", signature_file.display()))?;
    match sign::verify(&bytes, &text, key) {
        Ok(verified) => {
            output::text(&format!(
                "verified: {} sha256 {}, log position {}, as of {}, signed by key {}{}",
                file.display(),
                verified.sha256,
                verified.position,
                verified.as_of,
                verified.fingerprint,
                if verified.pinned {
                    ""
                } else {
                    " (the key in the signature file: pass --key to require the provider's)"
                }
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            output::note(&format!("error: {}: {problem}", file.display()));
            Ok(ExitCode::FAILURE)
        }
    }
}
