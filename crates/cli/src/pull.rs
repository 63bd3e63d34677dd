//! `imgsvc pull`: download an image, with credentials from the Docker client config.

use std::io::IsTerminal as _;
use std::sync::Arc;

use imgsvc::ErrorKind;
use imgsvc::distribution::manifest::Platform;
use imgsvc::distribution::progress::Progress;
use imgsvc::registry_transport::credentials::DockerConfigStore;

use crate::progress::{Bars, JsonLines, Plain};
use crate::unauthorized::Unauthorized;
use crate::{Global, Result};

/// `pull [OPTIONS] NAME[:TAG|@DIGEST]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The platform to pull, `os[/arch[/variant]]` (default: this host's).
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
    /// Print nothing but the reference pulled.
    #[arg(short, long)]
    quiet: bool,
    /// Print Docker's JSON progress messages, one per line.
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Download every tag of the repository (NAME must give no tag or digest).
    #[arg(short = 'a', long)]
    all_tags: bool,
    /// The image: `NAME[:TAG|@DIGEST]`.
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    name: String,
}

/// How progress is shown.
enum Display {
    Quiet,
    Json,
    Plain,
    Bars(Arc<Bars>),
}

/// Runs `pull`.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    let platform = args
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()?;
    let reference = imgsvc::pull_reference(&args.name, None)?;
    let service = global.open()?;
    let display = if args.quiet {
        Display::Quiet
    } else if args.json {
        Display::Json
    } else if std::io::stdout().is_terminal() {
        Display::Bars(Arc::new(Bars::new()))
    } else {
        Display::Plain
    };
    let progress: Arc<dyn Progress> = match &display {
        Display::Quiet => Arc::new(()),
        Display::Json => Arc::new(JsonLines),
        Display::Plain => Arc::new(Plain),
        Display::Bars(bars) => Arc::clone(bars) as Arc<dyn Progress>,
    };
    if matches!(display, Display::Plain | Display::Bars(_))
        && is_name_only(&args.name)
        && !args.all_tags
    {
        crate::output::print("Using default tag: latest\n")?;
    }
    let outcome = crate::runtime()?.block_on(async {
        let credentials = DockerConfigStore::from_env()?
            .lookup(reference.domain())
            .await?;
        let credentials = (!credentials.is_anonymous()).then_some(credentials);
        let pulled = if args.all_tags {
            service
                .pull_all_tags(&args.name, platform.as_ref(), credentials, &progress)
                .await
        } else {
            service
                .pull_image(&args.name, None, platform.as_ref(), credentials, &progress)
                .await
                .map(|outcome| vec![outcome])
        };
        pulled.map_err(|err| match err.kind() {
            ErrorKind::Unauthorized => Unauthorized {
                host: reference.domain().to_owned(),
                error: err.into(),
            }
            .into(),
            _ => Box::<dyn std::error::Error + Send + Sync>::from(err),
        })
    });
    if let Display::Bars(bars) = &display {
        bars.finish();
    }
    let outcomes = outcome?;
    if !matches!(display, Display::Json) {
        let text: String = outcomes
            .iter()
            .map(|o| format!("{}\n", o.reference))
            .collect();
        crate::output::print(&text)?;
    }
    Ok(())
}

/// Whether `name` gives neither a tag nor a digest (so `latest` is pulled).
fn is_name_only(name: &str) -> bool {
    imgsvc::reference::parse_normalized_named(name.trim_end_matches(':'))
        .is_ok_and(|r| r.is_name_only())
}
