//! `imgsvc history`.

use crate::harness::{pulled, short_id};

#[test]
fn history_lists_steps_newest_first() {
    let (env, _, name, image) = pulled();
    let run = env.run(&["history", &name]).ok();
    let lines = run.lines();
    for column in ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"] {
        assert!(lines[0].contains(column), "{run:?}");
    }
    assert!(lines[1].starts_with(&short_id(&image)), "{run:?}");
    assert!(lines[1].contains("testkit layer 0"), "{run:?}");
}

#[test]
fn quiet_and_json_history() {
    let (env, _, name, image) = pulled();
    let run = env.run(&["history", "-q", &name]).ok();
    assert_eq!(
        run.lines().first().copied(),
        Some(short_id(&image).as_str())
    );
    let run = env.run(&["history", "--format", "json", &name]).ok();
    let value: serde_json::Value = serde_json::from_str(run.lines()[0]).expect("JSON");
    assert_eq!(value["ID"], short_id(&image).as_str());
    assert_eq!(value["CreatedBy"], "testkit layer 0");
    assert_eq!(value["CreatedAt"], "2024-01-01T00:00:00Z");
    env.run(&["history", "nope"])
        .fails_with("No such image: nope");
}
