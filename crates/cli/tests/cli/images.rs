//! `imgsvc images`: the table, IDs, JSON lines and filters.

use crate::harness::{Env, image, pulled, registry, remote, short_id};

#[test]
fn the_table_has_dockers_columns_and_human_values() {
    let (env, registry, _, image) = pulled();
    let run = env.run(&["images"]).ok();
    let lines = run.lines();
    assert!(lines[0].starts_with("REPOSITORY"), "{run:?}");
    for column in ["TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(lines[0].contains(column), "{run:?}");
    }
    let row: Vec<&str> = lines[1]
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(row[0], remote(&registry, "demo/app"));
    assert_eq!(row[1], "v1");
    assert_eq!(row[2], short_id(&image));
    assert!(row[3].ends_with(" ago"), "{row:?}");
    assert!(row[4].ends_with('B'), "{row:?}");
}

#[test]
fn quiet_prints_each_id_once() {
    let (env, _, name, image) = pulled();
    env.run(&["tag", &name, "other:v2"]).ok();
    assert_eq!(env.run(&["images"]).ok().lines().len(), 3);
    let run = env.run(&["images", "-q"]).ok();
    assert_eq!(run.stdout, format!("{}\n", short_id(&image)));
    let run = env.run(&["images", "-q", "--no-trunc"]).ok();
    assert_eq!(run.stdout, format!("{}\n", image.config_digest()));
}

#[test]
fn json_lines_have_dockers_keys() {
    let (env, _, _, image) = pulled();
    let run = env.run(&["images", "--format", "json", "--digests"]).ok();
    let value: serde_json::Value = serde_json::from_str(run.lines()[0]).expect("JSON");
    assert_eq!(value["ID"], short_id(&image).as_str());
    assert_eq!(value["Tag"], "v1");
    for key in ["Repository", "Digest", "CreatedAt", "CreatedSince", "Size"] {
        assert!(value[key].is_string(), "{key}: {value}");
    }
    assert!(
        value["CreatedAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("2024-01-01 00:00:00"))
    );
    env.run(&["images", "--format", "{{.ID}}"])
        .fails_with("unsupported format");
}

#[test]
fn digests_show_with_the_flag() {
    let (env, _, _, image) = pulled();
    let run = env.run(&["images", "--digests"]).ok();
    assert!(run.lines()[0].contains("DIGEST"), "{run:?}");
    assert!(
        run.stdout.contains(&image.manifest_digest().to_string()),
        "{run:?}"
    );
}

#[test]
fn a_moved_tag_leaves_a_dangling_image_that_filters_find() {
    let old = image("old");
    let new = image("new");
    let registry = registry(&[("demo/moving", "v1", &old)]);
    let env = Env::new();
    let name = format!("{}:v1", remote(&registry, "demo/moving"));
    env.run(&["pull", "-q", &name]).ok();
    registry
        .push_image("demo/moving", "v1", &new)
        .expect("the tag moves");
    env.run(&["pull", "-q", &name]).ok();

    let dangling = env.run(&["images", "--filter", "dangling=true", "-q"]).ok();
    assert_eq!(dangling.stdout, format!("{}\n", short_id(&old)));
    let tagged = env.run(&["images", "-f", "dangling=false", "-q"]).ok();
    assert_eq!(tagged.stdout, format!("{}\n", short_id(&new)));
    let table = env.run(&["images", "--filter", "dangling=true"]).ok();
    assert!(table.lines()[1].contains("<none>"), "{table:?}");
    let labelled = env
        .run(&["images", "-q", "--filter", "label=test=new"])
        .ok();
    assert_eq!(labelled.stdout, format!("{}\n", short_id(&new)));
    let by_reference = env
        .run(&["images", "-q", "--filter", "reference=other"])
        .ok();
    assert_eq!(by_reference.stdout, "");
}

#[test]
fn bad_filters_are_errors() {
    let env = Env::new();
    env.run(&["images", "--filter", "color=red"])
        .fails_with("invalid filter");
    env.run(&["images", "--filter", "dangling=maybe"])
        .fails_with("dangling=maybe");
}
