//! Pulls from the real CNCF registry (Debian's `docker-registry`) in its three auth modes,
//! with images pushed by skopeo (OCI and Docker schema 2, single and multi-platform); each
//! pulled root filesystem is compared file by file with `umoci unpack` of the same image.
//!
//! Needs `docker-registry skopeo umoci apache2-utils openssl`; a local run without them sets
//! `IMGSVC_SKIP_REAL_REGISTRY=1`.

use std::sync::Arc;

use imgsvc_distribution::client::Repository;
use imgsvc_distribution::progress::Progress;
use imgsvc_distribution::pull::{Outcome, PullOptions};
use imgsvc_layerstore::RwLayerOptions;
use imgsvc_registry_transport::Credentials;
use imgsvc_testkit::real::image::{self, OciLayout};
use imgsvc_testkit::real::{self, Mode, RealRegistry};
use imgsvc_testkit::tree::Tree;

use imgsvc_distribution::download::DownloadOptions;

use crate::support::{Events, Root, TestResult, kinds, repository_at};

const USER: &str = "tester";
const PASSWORD: &str = "s3cret pass";

fn repository(registry: &RealRegistry, name: &str) -> TestResult<Repository> {
    let credentials = match registry.credentials() {
        Some((user, password)) => Credentials::basic(user, password),
        None => Credentials::anonymous(),
    };
    repository_at(&registry.url(), name, credentials)
}

async fn pull_from(root: &Root, registry: &RealRegistry, name_tag: &str) -> TestResult<Outcome> {
    let (name, _) = name_tag.split_once(':').unwrap_or((name_tag, ""));
    let repo = repository(registry, name)?;
    let reference =
        imgsvc_reference::parse_normalized_named(&format!("{}/{name_tag}", registry.host()))?;
    let progress: Arc<dyn Progress> = Arc::new(Events::default());
    Ok(root
        .puller
        .pull(&repo, &reference, &PullOptions::default(), &progress)
        .await?)
}

/// The pulled image's root filesystem (through a read-write layer) against umoci's.
fn compare_with_umoci(
    root: &Root,
    registry: &RealRegistry,
    name_tag: &str,
    outcome: &Outcome,
) -> TestResult {
    let chain = imgsvc_layerstore::ChainId::of(&outcome.layers).ok_or("an image with layers")?;
    let name = format!("compare-{}", outcome.image_id.digest().encoded().as_str());
    let container =
        root.stores
            .layers
            .create_rw_layer(&name, Some(chain), RwLayerOptions::default())?;
    let ours = root.stores.layers.mount(&container)?;
    let ours = Tree::snapshot(&ours)?;
    root.stores.layers.unmount(&container)?;
    root.stores.layers.release_rw_layer(container)?;
    let work = tempfile::tempdir()?;
    let theirs = Tree::snapshot(&registry.reference_rootfs(name_tag, work.path())?)?;
    let differences = ours.differences(&theirs);
    assert!(differences.is_empty(), "{name_tag}: {differences:#?}");
    assert!(ours.nodes().len() > 3, "a real tree was compared");
    Ok(())
}

async fn pulls_match_umoci(mode: Mode) -> TestResult {
    let dir = tempfile::tempdir()?;
    let layout = OciLayout::init(dir.path().join("layout"))?;
    image::build_test_images(&layout)?;
    let registry = RealRegistry::start(mode)?;
    registry.push(&layout, image::APP, "test/app:oci")?;
    registry.skopeo()?.docker_schema2().copy(
        &layout.reference(image::APP),
        &registry.docker_ref("test/app:docker"),
    )?;
    registry.push(&layout, image::MULTI, "test/multi:v1")?;

    for kind in kinds() {
        let root = Root::with(kind, DownloadOptions::default())?;
        for name_tag in ["test/app:oci", "test/app:docker", "test/multi:v1"] {
            let outcome = pull_from(&root, &registry, name_tag).await?;
            compare_with_umoci(&root, &registry, name_tag, &outcome)?;
        }
        let again = pull_from(&root, &registry, "test/app:oci").await?;
        assert!(
            !again.updated,
            "{kind:?}: pulled twice, the second is up to date"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_pulls_match_umoci() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    pulls_match_umoci(Mode::NoAuth).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_pulls_match_umoci() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    pulls_match_umoci(Mode::basic(USER, PASSWORD)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_pulls_match_umoci() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    pulls_match_umoci(Mode::token(USER, PASSWORD)).await
}
