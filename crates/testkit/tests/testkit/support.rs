//! Shared helpers: a sample image and requests with headers.

use imgsvc_testkit::fixture::{
    BuiltImage, Compression, ImageBuilder, LayerBuilder, ManifestFormat,
};
use imgsvc_testkit::rawhttp::{self, Response};
use imgsvc_testkit::{RegistryConfig, TestRegistry};

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A two-layer image (gzip then zstd) with some bulk so that bodies have several pieces.
pub(crate) fn sample_image(format: ManifestFormat) -> BuiltImage {
    // Incompressible, so the gzip blob stays about 200 KB.
    let bulk = imgsvc_testkit::fixture::noise(200_000, 0x2545_f491_4f6c_dd1d);
    let bottom = LayerBuilder::new()
        .dir("etc")
        .file("etc/hostname", b"sample\n")
        .file("bulk.bin", &bulk)
        .build()
        .expect("the bottom layer builds from valid entries");
    let top = LayerBuilder::new()
        .file("etc/motd", b"hello\n")
        .compression(Compression::Zstd)
        .build()
        .expect("the top layer builds from valid entries");
    ImageBuilder::new()
        .format(format)
        .layer(bottom)
        .layer(top)
        .build()
        .expect("the image builds")
}

/// A registry without auth serving `sample_image` as `library/sample:latest`.
pub(crate) fn serving_sample() -> (TestRegistry, BuiltImage) {
    let registry =
        TestRegistry::start_blocking(RegistryConfig::new()).expect("loopback is available");
    let image = sample_image(ManifestFormat::Oci);
    registry
        .push_image("library/sample", "latest", &image)
        .expect("a valid name and tag");
    (registry, image)
}

/// `method url` with headers.
pub(crate) fn send(method: &str, url: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = rawhttp::Request::new(method, url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().expect("the registry answers on loopback")
}

/// `GET url`.
pub(crate) fn get(url: &str) -> Response {
    send("GET", url, &[])
}

/// The `errors[0].code` of an error envelope.
pub(crate) fn error_code(response: &Response) -> String {
    let doc: serde_json::Value =
        serde_json::from_slice(&response.body).expect("error bodies are JSON envelopes");
    doc["errors"][0]["code"]
        .as_str()
        .expect("an envelope has a code")
        .to_owned()
}
