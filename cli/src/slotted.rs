//! Acquire, renew, release and run for the kinds with slots (semaphores, leases), written once.

use std::ffi::OsString;
use std::time::Duration;

use clap::Args;
use konductor::protocol::Slotted;
use konductor::resource::LockMode;
use konductor::{
    default_holder, format_duration, format_rfc3339, Api, Client, Error, Held, Options,
};
use serde::Serialize;

use crate::child::{self, OnLost};
use crate::connect::Global;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{print_value, table, Format, Shown};
use crate::progress::Progress;
use crate::signals::Signals;

/// Parses a duration flag (`30s`, `5m`, `1h30m`), naming the bad value.
pub fn duration(text: &str) -> Result<Duration, String> {
    konductor::parse_duration(text).map_err(|e| e.to_string())
}

/// How to acquire: who, for how long, how long to wait, in which order.
#[derive(Debug, Args)]
pub struct Hold {
    /// Name of the object.
    pub name: String,
    /// Holder identity (default: $POD_NAME or the host name, plus a unique suffix).
    #[arg(long, value_name = "ID")]
    pub holder: Option<String>,
    /// Time-to-live of the grant (default: the object's spec.ttl, else 5m).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub ttl: Option<Duration>,
    /// Longest time to wait (default: no limit; 0 tries once).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Queue priority: higher is granted first.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub priority: Option<i32>,
}

impl Hold {
    /// The options of this acquisition under `holder`, cancelled by a signal.
    pub(crate) fn options(&self, holder: &str, signals: &Signals) -> Options {
        let mut options = Options::new()
            .holder(holder)
            .timeout_opt(self.timeout)
            .cancel(signals.cancel());
        if let Some(ttl) = self.ttl {
            options = options.ttl(ttl);
        }
        if let Some(priority) = self.priority {
            options = options.priority(priority);
        }
        options
    }

    /// The holder identity: the one given, else a fresh default.
    pub(crate) fn holder(&self) -> String {
        self.holder.clone().unwrap_or_else(default_holder)
    }
}

/// `hold` for a try-once command (`lease try`, `mutex try-lock`): a
/// `--timeout` contradicts it and is refused rather than ignored.
pub fn once(mut hold: Hold, command: &str) -> Result<Hold, Failure> {
    if let Some(timeout) = hold.timeout {
        return Err(Failure::usage(format!(
            "{command} tries once and takes no --timeout (got {timeout:?}); \
             use the waiting command with --timeout instead"
        )));
    }
    hold.timeout = Some(Duration::ZERO);
    Ok(hold)
}

/// A grant named by its holder, for the steps after `acquire`.
#[derive(Debug, Args)]
pub struct ByHolder {
    /// Name of the object.
    pub name: String,
    /// The holder identity the grant was acquired under.
    #[arg(long, value_name = "ID")]
    pub holder: String,
    /// The grant's fencing token (default: whatever the holder holds).
    #[arg(long, value_name = "N")]
    pub token: Option<u64>,
}

/// `renew`: a grant and, optionally, a new TTL.
#[derive(Debug, Args)]
pub struct Renew {
    #[command(flatten)]
    pub grant: ByHolder,
    /// New time-to-live from now (default: the grant's own).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub ttl: Option<Duration>,
}

/// `run`: how to hold, what to do on loss, and the command.
#[derive(Debug, Args)]
pub struct Run {
    #[command(flatten)]
    pub hold: Hold,
    /// What to do if the grant is lost while the command runs (both exit 70).
    #[arg(long, value_enum, default_value_t = OnLost::Terminate)]
    pub on_lost: OnLost,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// A grant as printed by `acquire` and `renew`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantView<'a> {
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    holder: &'a str,
    token: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
}

fn print_grant<K: Shown>(view: &GrantView, format: Format) -> Result<(), Failure> {
    match format {
        Format::Json | Format::Yaml => print_value(view, format),
        Format::Name => {
            println!("{}", view.holder);
            Ok(())
        }
        Format::Table => {
            let rows = vec![
                vec!["NAME".into(), "HOLDER".into(), "TOKEN".into(), "TTL".into()],
                vec![
                    view.name.to_owned(),
                    view.holder.to_owned(),
                    view.token.to_string(),
                    view.ttl.clone().unwrap_or_default(),
                ],
            ];
            print!("{}", table(&rows));
            Ok(())
        }
    }
}

/// Waits for a slot of `hold.name` with a progress line; a signal ends
/// the wait with 128 + its number, leaving nothing held or queued.
fn wait_for<K: Shown + Slotted>(
    api: &Api<K>,
    hold: &Hold,
    mode: Option<LockMode>,
    holder: &str,
    options: &Options,
    signals: &Signals,
) -> Result<Held<K>, Failure> {
    let what = format!("{} {}/{}", K::NOUN, api.namespace(), hold.name);
    let progress = Progress::start(what.clone(), {
        let (api, name, holder) = (api.clone(), hold.name.clone(), holder.to_owned());
        move || queue_position(&api, &name, &holder)
    });
    let result = api.acquire_in(&hold.name, options, mode);
    drop(progress);
    result.map_err(|error| match (&error, signals.received()) {
        (Error::Cancelled { .. }, Some(signal)) => {
            Failure::interrupted(signal, &format!("waiting for {what}"))
        }
        _ => error.into(),
    })
}

/// "position P of N in the queue", when `holder` waits there.
fn queue_position<K: Slotted>(api: &Api<K>, name: &str, holder: &str) -> Option<String> {
    let waiters = api.waiters(name).ok()?;
    let position = waiters.iter().position(|w| w.spec.holder == holder)?;
    Some(format!(
        "position {} of {} in the queue",
        position + 1,
        waiters.len()
    ))
}

/// `acquire`: takes a slot and keeps it after this process exits, for
/// `renew` and `release` by holder name in later steps.
pub fn acquire<K: Shown + Slotted>(
    client: &Client,
    global: &Global,
    hold: &Hold,
    mode: Option<LockMode>,
    signals: &Signals,
) -> Outcome {
    let api = client.api::<K>();
    let holder = hold.holder();
    let held = wait_for(
        &api,
        hold,
        mode,
        &holder,
        &hold.options(&holder, signals),
        signals,
    )?;
    let view = GrantView {
        kind: K::KIND,
        namespace: api.namespace(),
        name: &hold.name,
        holder: held.holder(),
        token: held.token(),
        ttl: Some(format_duration(held.ttl())),
        expires_at: Some(format_rfc3339(held.expires_at())),
    };
    let printed = print_grant::<K>(&view, global.output);
    held.keep();
    printed?;
    Ok(Exit::Ok.code())
}

/// `renew`: extends a grant kept by an earlier `acquire`.
pub fn renew<K: Shown + Slotted>(client: &Client, global: &Global, renew: &Renew) -> Outcome {
    let api = client.api::<K>();
    let grant = &renew.grant;
    let token = api.renew_holder(&grant.name, &grant.holder, grant.token, renew.ttl)?;
    let view = GrantView {
        kind: K::KIND,
        namespace: api.namespace(),
        name: &grant.name,
        holder: &grant.holder,
        token,
        ttl: renew.ttl.map(format_duration),
        expires_at: None,
    };
    print_grant::<K>(&view, global.output)?;
    Ok(Exit::Ok.code())
}

/// `release`: gives back a grant kept by an earlier `acquire`.
pub fn release<K: Shown + Slotted>(client: &Client, grant: &ByHolder) -> Outcome {
    let api = client.api::<K>();
    api.release_holder(&grant.name, &grant.holder, grant.token)?;
    eprintln!(
        "released {} {}/{} held by {}",
        K::NOUN,
        api.namespace(),
        grant.name,
        grant.holder
    );
    Ok(Exit::Ok.code())
}

/// What `run` does when no slot is free within the timeout.
pub enum Busy {
    /// Fail with the error's own exit code.
    Fail,
    /// Say so on stderr and exit with this status (a singleton that
    /// another holder runs has nothing to do).
    Skip(u8),
}

/// `run`: acquires, runs the command while renewing, releases on every
/// exit path, and passes the command's exit status through (70 when the
/// grant was lost meanwhile).
pub fn run<K: Shown + Slotted>(
    client: &Client,
    run: &Run,
    mode: Option<LockMode>,
    busy: Busy,
    signals: &Signals,
) -> Outcome {
    let api = client.api::<K>();
    let hold = &run.hold;
    let holder = hold.holder();
    let options = hold.options(&holder, signals).auto_renew(true);
    let held = match (wait_for(&api, hold, mode, &holder, &options, signals), busy) {
        (Ok(held), _) => held,
        (Err(failure), Busy::Skip(status))
            if failure.code == Exit::Busy.code() || failure.code == Exit::Timeout.code() =>
        {
            eprintln!("konductor: not running the command: {failure}");
            return Ok(status);
        }
        (Err(failure), _) => return Err(failure),
    };
    let env = [
        ("KONDUCTOR_HOLDER", held.holder().to_owned()),
        ("KONDUCTOR_TOKEN", held.token().to_string()),
    ];
    let lost = held.lost_token();
    let loss = || match held.still_held() {
        Err(error) => error.chain(),
        Ok(()) => format!("{} {} was lost", K::NOUN, hold.name),
    };
    let ended = child::run(
        &run.command,
        &env,
        signals,
        Some((&lost, run.on_lost, &loss)),
    );
    let kept = held.still_held();
    if let Err(error) = held.release() {
        eprintln!("konductor: {} (it expires at its TTL)", error.chain());
    }
    let ended = ended?;
    if ended.lost {
        return Err(Failure::new(
            Exit::Lost,
            format!(
                "the command ran without its {} for part of the time",
                K::NOUN
            ),
        ));
    }
    if let Err(error) = kept {
        return Err(error.into());
    }
    Ok(ended.status)
}
