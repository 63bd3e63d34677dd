//! `imgsvc info`.

use crate::harness::{Env, pulled};

#[test]
fn info_names_the_driver_the_count_and_the_root() {
    let (env, _, _, _) = pulled();
    let run = env.run(&["info"]).ok();
    let lines = run.lines();
    assert_eq!(lines.first(), Some(&"Storage Driver: vfs"), "{run:?}");
    assert!(lines.contains(&"Images: 1"), "{run:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("Root Dir: /")),
        "{run:?}"
    );
    let empty = Env::new().run(&["info"]).ok();
    assert!(empty.lines().contains(&"Images: 0"), "{empty:?}");
}
