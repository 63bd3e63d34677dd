//! `imgsvc inspect`: images as `docker image inspect`'s JSON array, keys in Docker's order.

use serde_json::{Value, json};

use crate::{Global, Reported, Result};

/// `inspect NAME|ID...`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Images, by reference, ID or unique ID prefix.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

/// Runs `inspect`: the images found are printed, each one not found is an error line.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    let service = global.open()?;
    let mut objects = Vec::new();
    let mut failed = false;
    for name in &args.images {
        match service
            .inspect(name)
            .map_err(Box::from)
            .and_then(|i| object(&i))
        {
            Ok(fields) => objects.push(fields),
            Err(err) => {
                crate::output::print_error(err.as_ref(), global.debug);
                failed = true;
            }
        }
    }
    crate::output::print(&array(&objects))?;
    if failed { Err(Reported.into()) } else { Ok(()) }
}

/// One image's fields, in Docker's order.
fn object(inspect: &imgsvc::Inspect) -> Result<Vec<(&'static str, Value)>> {
    let raw: Value = serde_json::from_slice(inspect.image.raw_json())?;
    let text = |key: &str| {
        raw.get(key)
            .cloned()
            .filter(|v| !v.is_null())
            .unwrap_or(json!(""))
    };
    let (driver, data) = &inspect.graph_driver;
    let data: serde_json::Map<String, Value> =
        data.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut fields = vec![
        ("Id", json!(inspect.id.to_string())),
        ("RepoTags", json!(inspect.repo_tags)),
        ("RepoDigests", json!(inspect.repo_digests)),
        (
            "Parent",
            json!(inspect.parent.map(|p| p.to_string()).unwrap_or_default()),
        ),
        ("Comment", text("comment")),
        ("Created", text("created")),
        ("DockerVersion", text("docker_version")),
        ("Author", text("author")),
        ("Config", raw.get("config").cloned().unwrap_or(Value::Null)),
        ("Architecture", text("architecture")),
    ];
    if raw
        .get("variant")
        .and_then(Value::as_str)
        .is_some_and(|v| !v.is_empty())
    {
        fields.push(("Variant", text("variant")));
    }
    fields.extend([
        ("Os", text("os")),
        ("Size", json!(inspect.size)),
        (
            "GraphDriver",
            json!({
                "Data": if data.is_empty() { Value::Null } else { Value::Object(data) },
                "Name": driver,
            }),
        ),
        (
            "RootFS",
            json!({
                "Type": raw.pointer("/rootfs/type").cloned().unwrap_or(json!("layers")),
                "Layers": raw.pointer("/rootfs/diff_ids").cloned().unwrap_or(json!([])),
            }),
        ),
    ]);
    Ok(fields)
}

/// The objects as a JSON array indented with four spaces, as Docker prints it.
fn array(objects: &[Vec<(&'static str, Value)>]) -> String {
    if objects.is_empty() {
        return "[]\n".to_owned();
    }
    let items: Vec<String> = objects
        .iter()
        .map(|fields| {
            let members: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("        {}: {}", json!(key), pretty(value, 2)))
                .collect();
            format!("    {{\n{}\n    }}", members.join(",\n"))
        })
        .collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

/// `value` pretty-printed with four-space indents, nested `depth` levels deep.
fn pretty(value: &Value, depth: usize) -> String {
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    if serde::Serialize::serialize(value, &mut serializer).is_err() {
        // A `Value` always serializes; fall back to the compact form regardless.
        return value.to_string();
    }
    let text = String::from_utf8_lossy(&bytes);
    // Strings in JSON hold no raw newlines, so every newline is the formatter's.
    text.replace('\n', &format!("\n{}", "    ".repeat(depth)))
}

#[cfg(test)]
mod tests {
    use super::array;
    use serde_json::json;

    #[test]
    fn arrays_are_indented_like_dockers() -> Result<(), serde_json::Error> {
        let text = array(&[vec![
            ("Id", json!("sha256:x")),
            ("RootFS", json!({"Type": "layers"})),
        ]]);
        assert_eq!(
            text,
            "[\n    {\n        \"Id\": \"sha256:x\",\n        \"RootFS\": {\n            \"Type\": \"layers\"\n        }\n    }\n]\n"
        );
        let _: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(array(&[]), "[]\n");
        Ok(())
    }
}
