//! `imgsvc history`: an image's build steps, newest first.

use imgsvc::HistoryEntry;

use crate::format::{ellipsis, human_size, now, rfc3339, since};
use crate::table::Table;
use crate::{Global, Result};

/// The width Docker cuts `CREATED BY` to.
const CREATED_BY_WIDTH: usize = 45;

/// `history [OPTIONS] IMAGE`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only show image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Format output: `table` (default) or `json` (one object per line).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// The image, by reference, ID or unique ID prefix.
    image: String,
}

/// Runs `history`.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    let json = crate::format::wants_json(args.format.as_deref())?;
    let entries = global.open()?.history(&args.image)?;
    let now = now();
    let id = |entry: &HistoryEntry| match entry.id {
        Some(id) if args.no_trunc => id.to_string(),
        Some(id) => id.digest().short().to_string(),
        None => "<missing>".to_owned(),
    };
    let created_by = |entry: &HistoryEntry| {
        let text = entry.created_by.replace('\t', " ");
        if args.no_trunc {
            text
        } else {
            ellipsis(&text, CREATED_BY_WIDTH)
        }
    };
    let text = if args.quiet {
        entries.iter().map(|e| format!("{}\n", id(e))).collect()
    } else if json {
        entries
            .iter()
            .map(|e| {
                let line = serde_json::json!({
                    "Comment": e.comment,
                    "CreatedAt": rfc3339(e.created.as_ref()),
                    "CreatedBy": created_by(e),
                    "CreatedSince": since(e.created.as_ref(), now),
                    "ID": id(e),
                    "Size": human_size(e.size),
                });
                format!("{line}\n")
            })
            .collect()
    } else {
        let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
        for entry in &entries {
            table.push(vec![
                id(entry),
                since(entry.created.as_ref(), now),
                created_by(entry),
                human_size(entry.size),
                entry.comment.clone(),
            ]);
        }
        table.render()
    };
    crate::output::print(&text)
}
