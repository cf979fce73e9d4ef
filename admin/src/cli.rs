//! The command line: arguments (clap), finding the table, printing results
//! for people or (`--json`) for scripts, exit statuses 0 / 1 / 2.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::import::{self, Format};
use super::ops;
use super::records::{CommentJson, ContactJson, line};
use rust_aws::domain::ids;
use rust_aws::domain::{CommentRecord, Decision};
use rust_aws::store::dynamodb::DynamoStore;
use rust_aws::store::{AdminStore, Expired};

/// The site owner's command for a rust-aws deployment: moderation queue,
/// export, import from Disqus / WordPress / Isso / Cusdis / Remark42 /
/// Commento / Artalk, erasure by address.
///
/// It works on the DynamoDB table with your own AWS credentials (the usual
/// AWS environment variables, profiles or SSO). Name the table with --table,
/// TABLE_NAME, or --stack (the CloudFormation stack's TableName output).
#[derive(Debug, Parser)]
#[command(name = "rust-aws", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The DynamoDB table [env: TABLE_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    table: Option<String>,
    /// Read the table's name from this CloudFormation stack's outputs
    #[arg(long, global = true, value_name = "NAME")]
    stack: Option<String>,
    /// AWS region (default: the AWS configuration's)
    #[arg(long, global = true)]
    region: Option<String>,
    /// AWS profile (default: the AWS configuration's)
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Machine-readable output: one JSON document on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The moderation queue, oldest first: id, post, author, age, first line
    Pending,
    /// One comment, every field but the IP hash
    Show {
        /// The comment's id
        id: String,
    },
    /// Publish comments (as the mailed approve link does)
    Approve {
        /// Comment ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Refuse (or unpublish) comments; removed after 7 days
    Reject {
        /// Comment ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Remove comments at once
    Delete {
        /// Comment ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// JSON Lines on stdout: every comment (all statuses), or contact messages
    Export {
        /// Only the comments of this post
        #[arg(long, conflicts_with_all = ["contacts", "email"])]
        post: Option<String>,
        /// Contact messages instead of comments
        #[arg(long, conflicts_with = "email")]
        contacts: bool,
        /// Everything stored about this address (an access request)
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
    },
    /// Import approved comments; a second run adds nothing
    Import {
        /// The file's format
        #[arg(long = "from", value_enum)]
        from: Format,
        /// The export file (Isso: its comments.db; Cusdis: its SQLite
        /// database, a directory of pages.csv and comments.csv, or a JSON file)
        file: PathBuf,
        /// Report what would be imported, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete every comment and contact message of an address; prints what it removed
    Erase {
        /// The address (trimmed, case-insensitive)
        #[arg(long, value_name = "ADDRESS")]
        email: String,
    },
    /// Undelivered mail: kind, record, age, attempts, next attempt, last error
    Outbox {
        /// Show at most this many waiting and this many parked mails
        #[arg(long, value_name = "N", default_value_t = OUTBOX_LIMIT,
              value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// Put comments stored before the web console and the site-wide feed into
    /// their index (once, after upgrading a stack; safe to repeat)
    Reindex,
    /// The spam folder, newest first; with ids, mark those comments as spam
    /// (taken down, kept 30 days in the folder, reported to Akismet)
    Spam {
        /// Comment ids to condemn (none: list the folder)
        ids: Vec<String>,
        /// List at most this many items
        #[arg(long, value_name = "N", default_value_t = 100,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// List the items after this one (the cursor a cut listing prints)
        #[arg(long, value_name = "CURSOR")]
        after: Option<String>,
    },
    /// Not spam: back into the normal flow (a comment pending with its
    /// moderation mail, a contact message mailed), reported to Akismet
    Ham {
        /// Spam folder ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Put parked mail back in line and run the function's redelivery now
    Redeliver {
        /// The function to run it (default: the --stack's FunctionName output);
        /// without one, the next scheduled run (every 5 minutes) delivers
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
    },
}

/// A failure that ends the command with status 1: what the command was doing,
/// and every cause under it, printed as one line (`{:#}`).
pub(crate) type Failure = anyhow::Error;

/// Runs the command line: parses arguments (usage errors exit 2), runs the
/// command, reports a failure on stderr with status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rust-aws: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("rust-aws: {failure:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

async fn sdk_config(cli: &Cli) -> aws_config::SdkConfig {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    // An owner's link can be slow, a Scan page large: longer than the
    // function's budget, still bounded. AWS_ENDPOINT_URL is read by the loader.
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(profile) = &cli.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &cli.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    loader.load().await
}

/// The table: `--table`, else `--stack`'s `TableName` output, else `TABLE_NAME`.
async fn table_name(cli: &Cli, config: &aws_config::SdkConfig) -> Result<String, Failure> {
    match (&cli.table, &cli.stack) {
        (Some(_), Some(_)) => usage_error("--table and --stack name the table twice: give one"),
        (Some(table), None) => Ok(table.clone()),
        (None, Some(stack)) => stack_output(config, stack, "TableName").await,
        (None, None) => match std::env::var("TABLE_NAME") {
            Ok(table) if !table.trim().is_empty() => Ok(table),
            _ => usage_error("no table: give --table NAME, --stack NAME, or set TABLE_NAME"),
        },
    }
}

async fn stack_output(
    config: &aws_config::SdkConfig,
    stack: &str,
    key: &str,
) -> Result<String, Failure> {
    let client = aws_sdk_cloudformation::Client::new(config);
    let out = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .with_context(|| format!("cannot read stack {stack}"))?;
    out.stacks()
        .first()
        .and_then(|s| {
            s.outputs()
                .iter()
                .find(|o| o.output_key() == Some(key))
                .and_then(|o| o.output_value())
        })
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("stack {stack} has no {key} output"))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress(len: Option<usize>, message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n as u64).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    };
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar of the file's bytes on stderr when it is a terminal, shown from
/// the first byte read (a large export takes a while before any comment).
fn bytes_progress(file: &std::path::Path) -> std::io::Result<ProgressBar> {
    let len = std::fs::metadata(file)?.len();
    if !std::io::stderr().is_terminal() {
        return Ok(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("reading");
    bar.enable_steady_tick(Duration::from_millis(120));
    Ok(bar)
}

/// The whole file, telling `read` the bytes read so far.
fn read_all(file: &std::path::Path, read: &dyn Fn(u64)) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut source = std::fs::File::open(file)?;
    let mut bytes = Vec::with_capacity(
        source
            .metadata()
            .map_or(0, |m| usize::try_from(m.len()).unwrap_or(0)),
    );
    let mut chunk = vec![0; 1 << 20];
    loop {
        match source.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                read(bytes.len() as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends quietly.
pub(crate) fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => other.map_err(Failure::from),
    }
}

pub(crate) fn age(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

pub(crate) fn first_line(body: &str, max: usize) -> String {
    let line = body.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let config = sdk_config(&cli).await;
    let table = table_name(&cli, &config).await?;
    let store = DynamoStore::new(
        &rust_aws::config::aws::Sdk::with_config(config.clone()),
        table,
    );
    if let Command::Redeliver { function } = &cli.command {
        let function = match (function, &cli.stack) {
            (Some(name), _) => Some(name.clone()),
            (None, Some(stack)) => Some(stack_output(&config, stack, "FunctionName").await?),
            (None, None) => None,
        };
        return redeliver(&cli, &store, &config, function.as_deref()).await;
    }
    execute(&cli, &store).await
}

/// Requeues parked mail, then invokes the function with the schedule's event
/// so the redelivery runs with the function's own configuration and secrets
/// (moderation links are signed with its key, which the owner's machine lacks).
async fn redeliver(
    cli: &Cli,
    store: &dyn AdminStore,
    config: &aws_config::SdkConfig,
    function: Option<&str>,
) -> Result<ExitCode, Failure> {
    let now = ids::now_ms();
    let requeued = ops::requeue_parked(store, now).await?;
    let run = match function {
        Some(name) => Some(invoke_redelivery(config, name).await?),
        None => None,
    };
    if cli.json {
        return print_json(&serde_json::json!({"requeued": requeued, "redelivery": run}));
    }
    out(&format!("Requeued {} parked mail(s).", requeued.len()))?;
    match run {
        Some(run) => out(&format!("Redelivery run: {run}"))?,
        None => out(
            "No function named (--function, or --stack): the next scheduled run, within 5 minutes, delivers them.",
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The EventBridge event the template's schedule sends: the only event the
/// function answers with a redelivery run.
fn schedule_event() -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": ids::new_id(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": ids::rfc3339(ids::now_ms()),
        "region": "",
        "resources": [],
        "detail": {},
    })
}

async fn invoke_redelivery(
    config: &aws_config::SdkConfig,
    function: &str,
) -> Result<serde_json::Value, Failure> {
    use aws_sdk_lambda::primitives::Blob;
    let client = aws_sdk_lambda::Client::new(config);
    let out = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(schedule_event().to_string()))
        .send()
        .await
        .with_context(|| format!("cannot invoke {function}"))?;
    let payload = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    if let Some(error) = out.function_error() {
        bail!(
            "{function} failed ({error}): {}",
            String::from_utf8_lossy(&payload)
        );
    }
    Ok(redelivery_counts(&payload))
}

/// The run's counts from the function's answer: an HTTP-shaped response whose
/// body is `{"redelivery": {...}}`; anything else is shown as it came.
fn redelivery_counts(payload: &[u8]) -> serde_json::Value {
    let value: serde_json::Value =
        serde_json::from_slice(payload).unwrap_or_else(|_| String::from_utf8_lossy(payload).into());
    let body = match value.get("body").and_then(|b| b.as_str()) {
        Some(body) => serde_json::from_str(body).unwrap_or_else(|_| body.into()),
        None => value,
    };
    match body.get("redelivery") {
        Some(run) => run.clone(),
        None => body,
    }
}

async fn execute(cli: &Cli, store: &dyn AdminStore) -> Result<ExitCode, Failure> {
    let now = ids::now_ms();
    match &cli.command {
        Command::Pending => {
            let spinner = progress(None, "reading the table");
            let queue = ops::pending(store, now).await?;
            spinner.finish_and_clear();
            if cli.json {
                let list: Vec<CommentJson> = queue.iter().map(CommentJson::from).collect();
                return print_json(&list);
            }
            if queue.is_empty() {
                out("No comment is waiting for moderation.")?;
            }
            for c in &queue {
                out(&format!(
                    "{}  {}  {}  {}  {}",
                    c.id,
                    c.post,
                    c.name,
                    age(now.saturating_sub(c.created_ms)),
                    first_line(&c.body, 60)
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id } => match store.get_comment(id, now).await? {
            Some(c) if cli.json => print_json(&CommentJson::from(&c)),
            Some(c) => {
                show(&c)?;
                Ok(ExitCode::SUCCESS)
            }
            None => Err(anyhow!("no comment {id}")),
        },
        Command::Spam { ids, limit, after } if ids.is_empty() => {
            crate::spam::list(cli.json, store, *limit as usize, after.as_deref(), now).await
        }
        Command::Spam { ids, .. } => crate::spam::condemn(cli.json, store, ids, now).await,
        Command::Ham { ids } => crate::spam::release(cli.json, store, ids, now).await,
        Command::Approve { ids } => moderate(cli, store, ids, Decision::Approve, now).await,
        Command::Reject { ids } => moderate(cli, store, ids, Decision::Reject, now).await,
        Command::Delete { ids } => moderate(cli, store, ids, Decision::Delete, now).await,
        Command::Export {
            post,
            contacts,
            email,
        } => {
            let spinner = progress(None, "reading the table");
            if let Some(email) = email {
                // All that `erase --email` would remove, items past their
                // expiry that DynamoDB has not swept yet included: an
                // access request shows everything held.
                let data = ops::personal_data(store, email, Expired::Include).await?;
                spinner.finish_and_clear();
                for c in &data.comments {
                    out(&line(&CommentJson::from(c)))?;
                }
                for c in &data.contacts {
                    out(&line(&ContactJson::from(c)))?;
                }
                for sub in &data.subscriptions {
                    out(&line(&serde_json::json!({
                        "type": "subscription",
                        "comment_id": sub.comment_id,
                        "post": sub.post,
                        "email": sub.email,
                        "confirmed": sub.confirmed,
                        "created_at": rust_aws::domain::ids::rfc3339(sub.created_ms),
                    })))?;
                }
                for item in &data.spam {
                    out(&line(&crate::spam::item_json(item, now)))?;
                }
            } else if *contacts {
                let all = store.all_contacts(Expired::Skip { now_ms: now }).await?;
                spinner.finish_and_clear();
                for c in &all {
                    out(&line(&ContactJson::from(c)))?;
                }
            } else {
                let all = store
                    .all_comments(post.as_deref(), Expired::Skip { now_ms: now })
                    .await?;
                spinner.finish_and_clear();
                for c in &all {
                    out(&line(&CommentJson::from(c)))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            from,
            file,
            dry_run,
        } => import_file(cli, store, *from, file, *dry_run, now).await,
        Command::Outbox { limit } => {
            let limit = *limit as usize;
            // One more of each than shown, to know whether the list is cut.
            let items = store.list_outbox(limit + 1).await?;
            let (mut waiting, mut parked): (Vec<_>, Vec<_>) =
                items.into_iter().partition(|i| !i.parked);
            let cuts: Vec<String> = [("waiting", &mut waiting), ("parked", &mut parked)]
                .into_iter()
                .filter(|(_, list)| list.len() > limit)
                .map(|(what, list)| {
                    list.truncate(limit);
                    format!("more than {limit} mails are {what}: the first {limit} are shown")
                })
                .collect();
            let items: Vec<_> = waiting.into_iter().chain(parked).collect();
            if cli.json {
                let list: Vec<_> = items.iter().map(|i| outbox_json(i, now)).collect();
                print_json(&list)?;
                // stdout stays the list scripts read; the cut goes to stderr.
                for cut in &cuts {
                    eprintln!("rust-aws: {cut} (--limit shows more)");
                }
                return Ok(ExitCode::SUCCESS);
            }
            if items.is_empty() {
                out("The outbox is empty: every mail went out.")?;
            }
            for i in &items {
                let next = if i.parked {
                    "parked (rust-aws redeliver requeues it)".to_owned()
                } else if i.next_attempt_ms <= now {
                    "due now".to_owned()
                } else {
                    format!("next attempt in {}", age(i.next_attempt_ms - now))
                };
                out(&format!(
                    "{}  {}  {}  {} attempt(s)  {}  {}",
                    i.entry.kind.as_str(),
                    i.entry.id,
                    age(now.saturating_sub(i.created_ms)),
                    i.attempts,
                    next,
                    i.last_error.as_deref().unwrap_or("-")
                ))?;
            }
            for cut in &cuts {
                out(&format!("Cut: {cut} (--limit shows more)."))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Redeliver { .. } => unreachable!("run() handles it"),
        Command::Reindex => {
            let spinner = progress(None, "reading the table");
            let put = store.reindex_comments(now).await?;
            spinner.finish_and_clear();
            if cli.json {
                return print_json(&serde_json::json!({ "reindexed": put }));
            }
            out(&format!(
                "Put {put} comment(s) stored before the console into its queue, published list and the site-wide feed."
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase { email } => {
            let bar = progress(None, "erasing");
            let erased = ops::erase(store, email, now, &|| bar.tick()).await?;
            bar.finish_and_clear();
            if cli.json {
                print_json(&erased)?;
            } else {
                out(&format!(
                    "Removed {} comment(s) and {} contact message(s) of {}.",
                    erased.comments.len(),
                    erased.contacts.len(),
                    email.trim()
                ))?;
                for id in &erased.comments {
                    out(&format!("  comment {id}"))?;
                }
                for id in &erased.contacts {
                    out(&format!("  contact {id}"))?;
                }
                for id in &erased.subscriptions {
                    out(&format!(
                        "  reply-notification subscription of comment {id}"
                    ))?;
                }
                for id in &erased.spam {
                    out(&format!("  spam folder item {id}"))?;
                }
                for id in &erased.failed {
                    out(&format!(
                        "  NOT removed (changed meanwhile, run again): comment {id}"
                    ))?;
                }
            }
            Ok(if erased.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// More than a healthy outbox ever holds; the listing says when it is cut.
const OUTBOX_LIMIT: u32 = 1000;

fn outbox_json(i: &rust_aws::domain::OutboxItem, now: u64) -> serde_json::Value {
    serde_json::json!({
        "kind": i.entry.kind.as_str(),
        "id": i.entry.id,
        "created_at": ids::rfc3339(i.created_ms),
        "attempts": i.attempts,
        "next_attempt_at": ids::rfc3339(i.next_attempt_ms),
        "due": !i.parked && i.next_attempt_ms <= now,
        "parked": i.parked,
        "last_error": i.last_error,
    })
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<ExitCode, Failure> {
    out(&serde_json::to_string_pretty(value)?)?;
    Ok(ExitCode::SUCCESS)
}

fn show(c: &CommentRecord) -> Result<(), Failure> {
    let none = "-";
    out(&format!("id:         {}", c.id))?;
    out(&format!("post:       {}", c.post))?;
    out(&format!("status:     {}", c.status.as_str()))?;
    out(&format!("created_at: {}", ids::rfc3339(c.created_ms)))?;
    out(&format!(
        "parent:     {}",
        c.parent.as_deref().unwrap_or(none)
    ))?;
    out(&format!("name:       {}", c.name))?;
    out(&format!(
        "email:      {}",
        c.email.as_deref().unwrap_or(none)
    ))?;
    out(&format!("url:        {}", c.url.as_deref().unwrap_or(none)))?;
    out("body:")?;
    for l in c.body.lines() {
        out(&format!("  {l}"))?;
    }
    Ok(())
}

async fn moderate(
    cli: &Cli,
    store: &dyn AdminStore,
    ids: &[String],
    decision: Decision,
    now: u64,
) -> Result<ExitCode, Failure> {
    let outcomes = ops::decide(store, ids, decision, now).await?;
    if cli.json {
        print_json(&outcomes)?;
    } else {
        for o in &outcomes {
            match &o.reason {
                None => out(&format!("{}: {}", o.id, past(decision)))?,
                Some(why) => eprintln!("rust-aws: {}: not {}: {why}", o.id, past(decision)),
            }
            if o.mail_queued {
                eprintln!(
                    "rust-aws: {}: the confirmation or reply-notification mail its publication implies is queued; the function's next redelivery run sends it",
                    o.id
                );
            }
        }
    }
    Ok(if outcomes.iter().all(|o| o.done) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn past(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
        Decision::Delete => "deleted",
    }
}

async fn import_file(
    cli: &Cli,
    store: &dyn AdminStore,
    format: Format,
    file: &std::path::Path,
    dry_run: bool,
    now: u64,
) -> Result<ExitCode, Failure> {
    let name = file.display();
    let not_valid = |e: import::FormatError| {
        anyhow::Error::new(e).context(format!(
            "{name} is not a valid {} file, nothing imported",
            format.as_str()
        ))
    };
    let items = if matches!(format, Format::Isso | Format::Cusdis) {
        // Databases (and Cusdis's directory of tables) are read by path.
        let exists = match format {
            Format::Cusdis => file.exists(),
            _ => file.is_file(),
        };
        if !exists {
            bail!("{name}: no such file");
        }
        let spinner = progress(None, "reading");
        let items = match format {
            Format::Cusdis => import::cusdis::read(file),
            _ => import::isso::read(file),
        };
        spinner.finish_and_clear();
        items.map_err(not_valid)?
    } else {
        let bar = bytes_progress(file).with_context(|| name.to_string())?;
        let bytes = read_all(file, &|n| bar.set_position(n)).with_context(|| name.to_string())?;
        let bytes = match format {
            Format::Remark42 | Format::Commento | Format::Artalk => {
                import::gunzip(bytes).map_err(not_valid)?
            }
            _ => bytes,
        };
        let text = import::utf8_text(bytes).map_err(not_valid)?;
        // Same bar, second pass over the bytes: from zero, with a fresh ETA.
        bar.reset();
        bar.set_length(text.len() as u64);
        bar.set_message("parsing");
        let at = |n| bar.set_position(n);
        let items = match format {
            Format::Disqus => import::disqus::parse(&text, &at),
            Format::Wordpress => import::wordpress::parse(&text, &at),
            Format::Remark42 => import::remark42::parse(&text, &at),
            Format::Commento => import::commento::parse(&text),
            Format::Artalk => import::artalk::parse(&text),
            Format::Jsonl => import::jsonl::parse(&text),
            Format::Isso | Format::Cusdis => unreachable!("read above"),
        };
        bar.finish_and_clear();
        items.map_err(not_valid)?
    };
    let plan = import::plan(format, items, now);
    let bar = progress(Some(plan.comments.len()), "importing");
    let report = ops::import(store, plan, dry_run, now, &|| bar.inc(1)).await;
    bar.finish_and_clear();
    if cli.json {
        print_json(&report)?;
    } else {
        let verb = if dry_run { "would import" } else { "imported" };
        out(&format!(
            "{}: read {}, {verb} {}, already present {}, skipped {}, failed {}",
            name,
            report.read,
            report.imported,
            report.already_present,
            report.skipped.len(),
            report.failed.len()
        ))?;
        for s in &report.skipped {
            out(&format!("  skipped {}: {}", s.source_id, s.reason))?;
        }
        for s in &report.notes {
            out(&format!("  note {}: {}", s.source_id, s.reason))?;
        }
        for s in &report.failed {
            out(&format!("  FAILED {}: {}", s.source_id, s.reason))?;
        }
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_run_counts_come_out_of_the_functions_answer() {
        let answer = br#"{"statusCode":200,"headers":{},"body":"{\"redelivery\":{\"found\":2,\"sent\":2}}"}"#;
        assert_eq!(
            redelivery_counts(answer),
            serde_json::json!({"found": 2, "sent": 2})
        );
        assert_eq!(redelivery_counts(b"null"), serde_json::Value::Null);
        assert_eq!(
            redelivery_counts(b"not json"),
            serde_json::json!("not json")
        );
    }

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(59_000), "59s");
        assert_eq!(age(3_599_000), "59m");
        assert_eq!(age(7_200_000), "2h");
        assert_eq!(age(3 * 86_400_000), "3d");
    }

    #[test]
    fn first_lines_are_cut_to_width() {
        assert_eq!(first_line("short\nsecond", 60), "short");
        assert_eq!(
            first_line(&"x".repeat(70), 10),
            format!("{}…", "x".repeat(9))
        );
    }
}
