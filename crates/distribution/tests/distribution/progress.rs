//! The progress stream as a caller sees it: events, Docker's JSON lines, and the reader.

use std::io::{self, Read};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use imgsvc_distribution::digest::Digest;
use imgsvc_distribution::progress::{
    Action, Collect, Event, MIN_INTERVAL, Progress, ProgressReader, layer_id,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_pull_renders_as_dockers_json_stream() {
    let digest = Digest::from_bytes(b"layer");
    let id = layer_id(&digest);
    let events = [
        Event::pulling_from("latest", "library/alpine"),
        Event::action(id.clone(), Action::PullingFsLayer),
        Event::layer(id.clone(), Action::Downloading, 32768, Some(3623807)),
        Event::action(id.clone(), Action::VerifyingChecksum),
        Event::action(id.clone(), Action::DownloadComplete),
        Event::layer(id.clone(), Action::Extracting, 3623807, Some(3623807)),
        Event::action(id.clone(), Action::PullComplete),
        Event::digest(&digest),
        Event::downloaded_newer("alpine:latest"),
    ];
    let lines: Vec<String> = events.iter().map(Event::to_docker_json).collect();
    let want = [
        r#"{"status":"Pulling from library/alpine","id":"latest"}"#.to_owned(),
        format!(r#"{{"status":"Pulling fs layer","progressDetail":{{}},"id":"{id}"}}"#),
        format!(
            r#"{{"status":"Downloading","progressDetail":{{"current":32768,"total":3623807}},"id":"{id}"}}"#
        ),
        format!(r#"{{"status":"Verifying Checksum","progressDetail":{{}},"id":"{id}"}}"#),
        format!(r#"{{"status":"Download complete","progressDetail":{{}},"id":"{id}"}}"#),
        format!(
            r#"{{"status":"Extracting","progressDetail":{{"current":3623807,"total":3623807}},"id":"{id}"}}"#
        ),
        format!(r#"{{"status":"Pull complete","progressDetail":{{}},"id":"{id}"}}"#),
        format!(r#"{{"status":"Digest: {digest}"}}"#),
        r#"{"status":"Status: Downloaded newer image for alpine:latest"}"#.to_owned(),
    ];
    assert_eq!(lines, want);
    assert_eq!(id.len(), 12);
}

#[test]
fn a_retry_countdown_reads_like_dockers() {
    let lines: Vec<String> = (1..=3)
        .rev()
        .map(|seconds| Event::action("0123456789ab", Action::Retrying { seconds }).to_docker_json())
        .collect();
    assert_eq!(
        lines,
        [
            r#"{"status":"Retrying in 3 seconds","progressDetail":{},"id":"0123456789ab"}"#,
            r#"{"status":"Retrying in 2 seconds","progressDetail":{},"id":"0123456789ab"}"#,
            r#"{"status":"Retrying in 1 second","progressDetail":{},"id":"0123456789ab"}"#,
        ]
    );
}

#[test]
fn a_reader_on_another_thread_reports_through_a_channel() -> TestResult {
    let (tx, rx) = mpsc::channel::<Event>();
    let sink: Arc<dyn Progress> = Arc::new(tx);
    let len = 8u64 << 20;
    let worker = std::thread::spawn(move || {
        let mut reader = ProgressReader::new(
            io::repeat(1).take(len),
            sink,
            "0123456789ab",
            Action::Downloading,
            Some(len),
        );
        io::copy(&mut reader, &mut io::sink())
    });
    assert_eq!(
        worker.join().map_err(|_| "the reader thread panicked")??,
        len
    );
    let events: Vec<Event> = rx.iter().collect();
    assert_eq!(
        events.last(),
        Some(&Event::layer(
            "0123456789ab",
            Action::Downloading,
            len,
            Some(len)
        ))
    );
    Ok(())
}

#[test]
fn a_fast_stream_is_reported_a_few_times_not_per_read() -> TestResult {
    let sink = Arc::new(Collect::new());
    let len = 64u64 << 20;
    let start = Instant::now();
    let mut reader = ProgressReader::new(
        io::repeat(0).take(len),
        sink.clone(),
        "0123456789ab",
        Action::Extracting,
        Some(len),
    );
    let mut buf = vec![0u8; 4096];
    while reader.read(&mut buf)? != 0 {}
    reader.finish();
    let elapsed = start.elapsed();
    let events = sink.take();
    // One update per 100 ms at most, plus the first and the final one.
    let bound = 2 + (elapsed.as_millis() / MIN_INTERVAL.as_millis()) as usize;
    assert!(
        events.len() <= bound,
        "{} events in {elapsed:?}",
        events.len()
    );
    assert_eq!(
        events.last(),
        Some(&Event::layer(
            "0123456789ab",
            Action::Extracting,
            len,
            Some(len)
        ))
    );
    Ok(())
}

#[test]
fn closures_and_unit_are_sinks() {
    let seen = Arc::new(Collect::new());
    let forward = {
        let seen = Arc::clone(&seen);
        move |event: Event| seen.event(event)
    };
    let sinks: [Arc<dyn Progress>; 2] = [Arc::new(()), Arc::new(forward)];
    for sink in sinks {
        sink.event(Event::message(None, "Digest: sha256:00"));
    }
    assert_eq!(seen.events(), [Event::message(None, "Digest: sha256:00")]);
}
