//! `accord audit verify` and `accord audit log`: the store's hash-chained log of changes
//! (documents, lifecycle states, users, tokens, settings), checked and printed.
//!
//! The commands that make changes (`apply`, `lifecycle`, `user`, `token`, the server's writes)
//! record them through the store; this module only reads. `verify` prints the head (`SEQ:HASH`)
//! so an operator can keep it and pass it back with `--expect-head`, which is what catches the
//! removal of the newest entries.

use std::process::ExitCode;

use accord_store::{AuditEntry, AuditHead, AuditVerification};
use anyhow::Context;

use crate::cli::StoreArg;
use crate::output;
use crate::revision_cmd::{block_on, open};

/// `accord audit verify`: 0 when the log is intact, 1 naming the first broken entry.
pub fn verify(store: &StoreArg, expect_head: Option<&str>) -> anyhow::Result<ExitCode> {
    let expected_head: Option<AuditHead> =
        expect_head.map(|text| text.parse::<AuditHead>().context("--expect-head")).transpose()?;
    let verification = block_on(async {
        let store = open(store).await?;
        store.verify_audit(expected_head.as_ref()).await.context("verifying the audit log")
    })??;
    match &verification.first_problem {
        None => {
            output::text(&format!("audit log intact: {}", summary(&verification)));
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            output::note(&format!(
                "error: audit log broken at entry {}: {}",
                problem.seq, problem.what
            ));
            output::note(&format!("the log holds {}", summary(&verification)));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `42 entries, head 42:3fa...`.
fn summary(verification: &AuditVerification) -> String {
    let n_entries = match verification.n_entries {
        1 => "1 entry".to_owned(),
        n_entries => format!("{n_entries} entries"),
    };
    match &verification.head {
        Some(head) => format!("{n_entries}, head {head}"),
        None => n_entries,
    }
}

/// `accord audit log`: at most `limit` entries after `after`, oldest first, one per line.
pub fn log(store: &StoreArg, after: u64, limit: u32) -> anyhow::Result<ExitCode> {
    let entries: Vec<AuditEntry> = block_on(async {
        let store = open(store).await?;
        store.audit_entries(after, limit).await.context("reading the audit log")
    })??;
    if entries.is_empty() {
        output::note(&format!("no audit log entries after {after}"));
        return Ok(ExitCode::SUCCESS);
    }
    output::lines(entries.iter().map(line));
    if let Some(last) = entries.last()
        && entries.len() == limit as usize
    {
        output::note(&format!("more may follow: accord audit log --after {}", last.seq));
    }
    Ok(ExitCode::SUCCESS)
}

/// `SEQ AT ACTOR ACTION SUBJECT DETAIL`.
fn line(entry: &AuditEntry) -> String {
    format!(
        "{} {} {} {} {} {}",
        entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.detail
    )
}
