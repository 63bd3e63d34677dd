//! `imgsvc images`: the stored images as Docker's table, IDs, or JSON lines.

use imgsvc::imagestore::ImageId;
use imgsvc::{Filters, ImageSummary};

use crate::format::{go_time, human_size, now, since};
use crate::table::Table;
use crate::{Global, Result};

/// `images [OPTIONS] [REPOSITORY[:TAG]]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only show image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Show all images (intermediate images are hidden by default).
    #[arg(short, long)]
    all: bool,
    /// Show digests.
    #[arg(long)]
    digests: bool,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Filter output based on conditions provided (dangling=, reference=, label=, before=,
    /// since=).
    #[arg(short, long = "filter", value_name = "FILTER")]
    filter: Vec<String>,
    /// Format output: `table` (default) or `json` (one object per line).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Only images of this repository (and tag).
    repository: Option<String>,
}

/// A filter the user gave that is not one `images` knows.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FilterError {
    /// `key=value` without `=`, or an unknown key.
    #[error("invalid filter '{0}' (dangling, reference, label, before, since)")]
    Invalid(String),
    /// `dangling=` with something else than a boolean.
    #[error("invalid filter 'dangling={0}': expected true or false")]
    Dangling(String),
}

/// Runs `images`.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    let json = crate::format::wants_json(args.format.as_deref())?;
    let mut filters = parse_filters(&args.filter)?;
    filters.all = args.all;
    filters.reference.extend(args.repository.clone());
    let service = global.open()?;
    let summaries = service.images(&filters)?;
    let text = if args.quiet {
        quiet(&summaries, args.no_trunc)
    } else if json {
        json_lines(&summaries, args.no_trunc)
    } else {
        table(&summaries, &args)
    };
    crate::output::print(&text)
}

/// `--filter` values as the facade's [`Filters`].
fn parse_filters(given: &[String]) -> Result<Filters, FilterError> {
    let mut filters = Filters::default();
    for filter in given {
        let Some((key, value)) = filter.split_once('=') else {
            return Err(FilterError::Invalid(filter.clone()));
        };
        match key {
            "dangling" => {
                filters.dangling = Some(match value.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(FilterError::Dangling(value.to_owned())),
                });
            }
            "reference" => filters.reference.push(value.to_owned()),
            "label" => filters.label.push(value.to_owned()),
            "before" => filters.before = Some(value.to_owned()),
            "since" => filters.since = Some(value.to_owned()),
            _ => return Err(FilterError::Invalid(filter.clone())),
        }
    }
    Ok(filters)
}

/// One line of the table: an image under one repository and tag.
struct Row<'a> {
    repository: String,
    tag: String,
    digest: String,
    summary: &'a ImageSummary,
}

/// Docker's rows: one per tag; an untagged image once per digest reference, else once as
/// `<none>`.
fn rows(summary: &ImageSummary) -> Vec<Row<'_>> {
    let none = || "<none>".to_owned();
    let digests: Vec<(&str, &str)> = summary
        .repo_digests
        .iter()
        .filter_map(|r| r.split_once('@'))
        .collect();
    let digest_of = |repository: &str| {
        digests
            .iter()
            .find(|(name, _)| *name == repository)
            .map_or_else(none, |(_, d)| (*d).to_owned())
    };
    let mut rows: Vec<Row<'_>> = summary
        .repo_tags
        .iter()
        .map(|reference| {
            let (repository, tag) = split_tag(reference);
            Row {
                digest: digest_of(repository),
                repository: repository.to_owned(),
                tag: tag.to_owned(),
                summary,
            }
        })
        .collect();
    if rows.is_empty() {
        rows = digests
            .iter()
            .map(|(repository, digest)| Row {
                repository: (*repository).to_owned(),
                tag: none(),
                digest: (*digest).to_owned(),
                summary,
            })
            .collect();
    }
    if rows.is_empty() {
        rows.push(Row {
            repository: none(),
            tag: none(),
            digest: none(),
            summary,
        });
    }
    rows
}

/// `name:tag` split at the tag's colon (not a registry port's).
fn split_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "<none>"),
    }
}

/// An ID as the table shows it: 12 hex digits, or whole with `--no-trunc`.
fn show_id(id: ImageId, no_trunc: bool) -> String {
    if no_trunc {
        id.digest().to_string()
    } else {
        id.digest().short().to_string()
    }
}

fn quiet(summaries: &[ImageSummary], no_trunc: bool) -> String {
    let mut seen = Vec::new();
    let mut out = String::new();
    for summary in summaries {
        if !seen.contains(&summary.id) {
            seen.push(summary.id);
            out.push_str(&show_id(summary.id, no_trunc));
            out.push('\n');
        }
    }
    out
}

fn table(summaries: &[ImageSummary], args: &Args) -> String {
    let mut header = vec!["REPOSITORY", "TAG"];
    if args.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let mut table = Table::new(&header);
    let now = now();
    for summary in summaries {
        for row in rows(summary) {
            let mut cells = vec![row.repository, row.tag];
            if args.digests {
                cells.push(row.digest);
            }
            cells.push(show_id(summary.id, args.no_trunc));
            cells.push(since(summary.created.as_ref(), now));
            cells.push(human_size(summary.size));
            table.push(cells);
        }
    }
    table.render()
}

fn json_lines(summaries: &[ImageSummary], no_trunc: bool) -> String {
    let now = now();
    let mut out = String::new();
    for summary in summaries {
        for row in rows(summary) {
            let size = human_size(row.summary.size);
            let line = serde_json::json!({
                "Containers": "N/A",
                "CreatedAt": go_time(summary.created.as_ref()),
                "CreatedSince": since(summary.created.as_ref(), now),
                "Digest": row.digest,
                "ID": show_id(summary.id, no_trunc),
                "Repository": row.repository,
                "SharedSize": "N/A",
                "Size": size,
                "Tag": row.tag,
                "UniqueSize": "N/A",
                "VirtualSize": size,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{FilterError, parse_filters, split_tag};

    #[test]
    fn filters_map_to_the_facades() -> Result<(), FilterError> {
        let given = [
            "dangling=true",
            "reference=alp*",
            "label=a=b",
            "before=x",
            "since=y",
        ]
        .map(str::to_owned);
        let filters = parse_filters(&given)?;
        assert_eq!(filters.dangling, Some(true));
        assert_eq!(filters.reference, ["alp*"]);
        assert_eq!(filters.label, ["a=b"]);
        assert_eq!(filters.before.as_deref(), Some("x"));
        assert_eq!(filters.since.as_deref(), Some("y"));
        for bad in ["dangling=maybe", "color=red", "dangling"] {
            assert!(parse_filters(&[bad.to_owned()]).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn tags_split_after_a_registry_port() {
        assert_eq!(split_tag("alpine:3.20"), ("alpine", "3.20"));
        assert_eq!(
            split_tag("127.0.0.1:5000/a/b:v1"),
            ("127.0.0.1:5000/a/b", "v1")
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/a/b"),
            ("127.0.0.1:5000/a/b", "<none>")
        );
    }
}
