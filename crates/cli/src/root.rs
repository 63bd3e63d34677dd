//! The default data root: `$IMGSVC_ROOT`, `/var/lib/imgsvc` for root, else the user's data
//! directory.

use std::ffi::OsString;
use std::path::PathBuf;

/// The root used when `--root` is not given.
#[derive(Debug, thiserror::Error)]
#[error("no data root: give --root DIR or set IMGSVC_ROOT (HOME is not set)")]
pub(crate) struct NoRoot;

/// The data root for this process's environment and user.
pub(crate) fn default_root() -> Result<PathBuf, NoRoot> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| effective_uid(&status));
    choose(|name| std::env::var_os(name), uid).ok_or(NoRoot)
}

/// The root given an environment lookup and the effective user ID (if known).
fn choose(env: impl Fn(&str) -> Option<OsString>, uid: Option<u32>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(root) = var("IMGSVC_ROOT") {
        return Some(root);
    }
    if uid == Some(0) {
        return Some(PathBuf::from("/var/lib/imgsvc"));
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return Some(data.join("imgsvc"));
    }
    var("HOME").map(|home| home.join(".local/share/imgsvc"))
}

/// The effective user ID from `/proc/self/status` (`Uid:` real, effective, saved, fs).
fn effective_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::{choose, effective_uid};
    use std::ffi::OsString;
    use std::path::PathBuf;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    /// Environment variables, the effective user ID, the root expected.
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<u32>, Option<&'a str>);

    #[test]
    fn roots_follow_dockers_and_xdgs_order() {
        let table: [Case<'_>; 6] = [
            (
                &[("IMGSVC_ROOT", "/r"), ("HOME", "/h")],
                Some(0),
                Some("/r"),
            ),
            (&[("HOME", "/h")], Some(0), Some("/var/lib/imgsvc")),
            (
                &[("XDG_DATA_HOME", "/x"), ("HOME", "/h")],
                Some(1000),
                Some("/x/imgsvc"),
            ),
            (
                &[("XDG_DATA_HOME", ""), ("HOME", "/h")],
                Some(1000),
                Some("/h/.local/share/imgsvc"),
            ),
            (&[("HOME", "/h")], None, Some("/h/.local/share/imgsvc")),
            (&[], Some(1000), None),
        ];
        for (vars, uid, want) in table {
            assert_eq!(
                choose(env(vars), uid),
                want.map(PathBuf::from),
                "{vars:?} {uid:?}"
            );
        }
    }

    #[test]
    fn the_effective_uid_is_the_second_field() {
        let status = "Name:\timgsvc\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Name:\tx\n"), None);
        assert_eq!(effective_uid("Uid:\tx\ty\n"), None);
    }
}
