//! A shared configuration edited read-modify-write by three processes under
//! a mutex: each adds its entries to the same file, and none is lost. The
//! "store" (the file) keeps the fencing token of the last write and refuses
//! an older one, as a real store should, so a holder that lost the lock
//! late could not overwrite a newer edit.
//!
//! `cargo run -p konductor --example mutex_config`

#[path = "common/timeline.rs"]
mod timeline;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use konductor::{Client, Options};
use timeline::log;

const EDITORS: [&str; 3] = ["editor-a", "editor-b", "editor-c"];
const EDITS_EACH: usize = 3;

fn main() -> konductor::Result<()> {
    timeline::start();
    let args: Vec<String> = std::env::args().collect();
    if let [_, mutex, store, editor] = args.as_slice() {
        return editor_main(mutex, Path::new(store), editor);
    }
    let client = Client::new(None)?;
    // A fresh mutex and store per run, so an interrupted run leaves nothing behind.
    let mutex = format!("demo-config-{:x}", std::process::id());
    client.create_mutex(&mutex, Some(Duration::from_secs(10)), None)?;
    let store = std::env::temp_dir().join(format!("{mutex}.txt"));
    std::fs::write(&store, "0\n").expect("create the store");
    log("main", format!("mutex {mutex}; {} editors", EDITORS.len()));
    let exe = std::env::current_exe().expect("path of this example");
    let editors: Vec<_> = EDITORS
        .iter()
        .map(|editor| {
            Command::new(&exe)
                .arg(&mutex)
                .arg(&store)
                .arg(editor)
                .spawn()
                .expect("start an editor")
        })
        .collect();
    for mut editor in editors {
        assert!(editor.wait().expect("wait").success(), "an editor failed");
    }
    let (_, entries) = read(&store);
    log(
        "main",
        format!(
            "the config has {} entries of {} written: none lost",
            entries.len(),
            EDITORS.len() * EDITS_EACH
        ),
    );
    assert_eq!(entries.len(), EDITORS.len() * EDITS_EACH);
    std::fs::remove_file(&store).ok();
    client.delete_mutex(&mutex)?;
    Ok(())
}

fn editor_main(mutex: &str, store: &Path, me: &str) -> konductor::Result<()> {
    let client = Client::new(None)?;
    let options = Options::new().holder(me).timeout(Duration::from_secs(60));
    for edit in 1..=EDITS_EACH {
        client.with_mutex(mutex, &options, |lock| {
            // Read, think, write: without the mutex two editors would both
            // read the same version and one of their entries would be lost.
            let (last_token, mut entries) = read(store);
            std::thread::sleep(Duration::from_millis(50));
            entries.push(format!("{me}#{edit}"));
            write(store, lock.token(), last_token, &entries);
            log(
                me,
                format!("added {me}#{edit} (fencing token {})", lock.token()),
            );
            Ok::<_, konductor::Error>(())
        })?;
    }
    Ok(())
}

/// The store: the fencing token of the last write, then one entry per line.
fn read(store: &Path) -> (u64, Vec<String>) {
    let text = std::fs::read_to_string(store).expect("read the store");
    let mut lines = text.lines();
    let token = lines.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    (token, lines.map(str::to_owned).collect())
}

fn write(store: &Path, token: u64, last_token: u64, entries: &[String]) {
    assert!(
        token > last_token,
        "the store refuses a write fenced {token}, older than {last_token}"
    );
    std::fs::write(store, format!("{token}\n{}\n", entries.join("\n"))).expect("write the store");
}
