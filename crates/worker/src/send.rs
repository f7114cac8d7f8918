//! The job handler: claim the message, send it, record how it went.
//!
//! A job may run twice, after an edit or after a cancelation; the claim makes every such run a
//! no-op. Once claimed, a message is sent at most once by this worker: only answers that say
//! nothing was sent (connect errors, 429, 5xx) are retried, here, with backoff; an answer that
//! leaves the outcome unknown is recorded as `unknown` for a person to decide.

use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use crm_db::messages::{self, Claim, Message, Outcome};
use crm_queue::SendMessage;

use crate::provider::{Content, Outgoing, SendError};
use crate::{DbError, WorkerState};

/// What one run of a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Nothing to do: the job was stale (edited, canceled, already sent), a duplicate, or not
    /// due yet.
    Skipped,
    /// The customer can no longer receive it (archived, opted out): canceled, not sent.
    Canceled {
        /// Why, in words.
        reason: Option<String>,
    },
    /// It was sent, refused or lost, and recorded.
    Finished {
        /// What was recorded.
        outcome: Outcome,
        /// How many requests the provider got.
        tries: u32,
    },
    /// The claim was taken from this worker while it waited to retry (nothing more was sent).
    ClaimLost,
    /// The worker was stopping while it waited to retry (the provider had said nothing was
    /// sent): the message is `scheduled` again, for another worker.
    Released,
}

/// How the requests for one claimed message ended.
enum Attempted {
    /// An answer to record, after this many requests.
    Finished(Outcome, u32),
    /// The claim was taken meanwhile.
    ClaimLost,
    /// The worker is stopping and nothing was sent.
    Stopped,
}

/// Why a run failed; apalis runs the job again later, where the claim decides afresh.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The database could not be reached or refused a query.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The apalis handler: reads the job, then runs it on its own task.
///
/// A payload that is not a [`SendMessage`] is set aside for good (apalis's dead set) and the
/// worker goes on. The send runs on a task tracked by the worker: it finishes even if the queue
/// worker dies meanwhile, and stopping waits for it. Only database errors are returned (apalis
/// runs the job again later; the claim keeps that from sending twice): every provider outcome
/// is recorded and returns `Ok`, so apalis never repeats a send.
pub async fn send_message(
    payload: serde_json::Value,
    state: Data<WorkerState>,
) -> Result<(), BoxDynError> {
    let job: SendMessage = match serde_json::from_value(payload.clone()) {
        Ok(job) => job,
        Err(error) => {
            let mut shown = payload.to_string();
            shown.truncate(200);
            tracing::error!(payload = shown, error = %error, "set aside a job that is not a SendMessage");
            return Err(AbortError::new(UnreadableJob(error)).into());
        }
    };
    let state = WorkerState::clone(&state);
    let tracker = state.in_flight.clone();
    match tracker
        .spawn(async move {
            let started = std::time::Instant::now();
            let processed = process(job, &state).await;
            state.metrics.record_job(started.elapsed());
            processed
        })
        .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => {
            tracing::warn!(message_id = %job.message_id, version = job.version, error = %error, "job failed; it will run again");
            Err(error.into())
        }
        Err(panicked) => {
            tracing::error!(message_id = %job.message_id, version = job.version, error = %panicked, "the send panicked; the job will run again, and the claim keeps it from sending twice");
            Err(panicked.into())
        }
    }
}

/// A queued payload that is not a [`SendMessage`].
#[derive(Debug, thiserror::Error)]
#[error("the job is not a SendMessage: {0}")]
pub struct UnreadableJob(#[source] serde_json::Error);

/// Runs one job: claims its message and, when the claim says so, sends and records it.
pub async fn process(job: SendMessage, state: &WorkerState) -> Result<Processed, ProcessError> {
    let lease = lease_of(state.policy.lease());
    let worker = state.name.clone();
    let claim = state
        .db
        .run(move |conn| messages::claim_for_sending(conn, job, &worker, lease))
        .await?;
    let message = match claim {
        Claim::Skip => {
            tracing::debug!(message_id = %job.message_id, version = job.version, "nothing to send: the job is stale, a duplicate or early");
            return Ok(Processed::Skipped);
        }
        Claim::Canceled(message) => {
            tracing::info!(
                message_id = %message.id,
                status = "canceled",
                reason = message.status_reason.as_deref().unwrap_or_default(),
                "message not sent"
            );
            return Ok(Processed::Canceled {
                reason: message.status_reason,
            });
        }
        Claim::Send(message) => message,
    };

    let outgoing = outgoing(&message, state);
    let (outcome, tries) = match send_with_retries(&message, &outgoing, state).await? {
        Attempted::Finished(outcome, tries) => (outcome, tries),
        Attempted::ClaimLost => return Ok(Processed::ClaimLost),
        Attempted::Stopped => return release(state, &message).await,
    };
    match &outcome {
        Outcome::Sent { .. } => {
            (state.metrics).record_sent(message.channel, message.send_at, chrono::Utc::now());
        }
        Outcome::Failed { .. } => state.metrics.record_failed(message.channel),
        Outcome::Unknown { .. } => state.metrics.record_unknown(message.channel),
    }
    let kept = record(state, &message, &outcome).await?;
    let (status, detail) = match &outcome {
        Outcome::Sent { provider_id } => ("sent", provider_id.as_str()),
        Outcome::Failed { reason } => ("failed", reason.as_str()),
        Outcome::Unknown { reason } => ("unknown", reason.as_str()),
    };
    if kept {
        tracing::info!(message_id = %message.id, status, attempt = tries, claim = message.attempts, detail, "message processed");
    } else {
        tracing::warn!(
            message_id = %message.id, status, attempt = tries, detail,
            "message processed, but it changed meanwhile so the outcome was not recorded"
        );
    }
    Ok(Processed::Finished { outcome, tries })
}

/// What the provider is asked to send for `message`.
fn outgoing(message: &Message, state: &WorkerState) -> Outgoing {
    let content = match &message.template_sid {
        Some(sid) => Content::Template {
            sid: sid.clone(),
            variables: message.variables().unwrap_or_default(),
        },
        None => Content::Text(message.body.clone()),
    };
    Outgoing {
        channel: message.channel,
        to: message.recipient.as_str().to_owned(),
        content,
        status_callback: state.status_callback.clone(),
    }
}

/// Gives the claim of a message nothing was sent of back, as the worker stops.
async fn release(state: &WorkerState, message: &Message) -> Result<Processed, ProcessError> {
    let (id, worker) = (message.id, state.name.clone());
    let released = state
        .db
        .run(move |conn| messages::release_claim(conn, id, &worker))
        .await?;
    if released {
        tracing::info!(message_id = %message.id, "stopping: the message is scheduled again for another worker");
        Ok(Processed::Released)
    } else {
        Ok(Processed::ClaimLost)
    }
}

/// Sends, retrying while the provider says nothing was sent. Never repeats a request whose
/// outcome is unknown.
async fn send_with_retries(
    message: &Message,
    outgoing: &Outgoing,
    state: &WorkerState,
) -> Result<Attempted, ProcessError> {
    let policy = state.policy;
    let mut tries = 0;
    loop {
        tries += 1;
        let (reason, retry_after) = match state.provider.send(outgoing).await {
            Ok(accepted) => {
                let provider_id = accepted.provider_id;
                return Ok(Attempted::Finished(Outcome::Sent { provider_id }, tries));
            }
            Err(SendError::Permanent { reason, .. }) => {
                return Ok(Attempted::Finished(Outcome::Failed { reason }, tries));
            }
            Err(SendError::Unknown { reason }) => {
                return Ok(Attempted::Finished(Outcome::Unknown { reason }, tries));
            }
            Err(SendError::Transient {
                reason,
                retry_after,
            }) => (reason, retry_after),
        };
        if tries >= policy.attempts {
            let reason = format!(
                "Could not reach the provider after {tries} attempt{}: {}. Try Resend later.",
                if tries == 1 { "" } else { "s" },
                reason.trim_end_matches('.')
            );
            return Ok(Attempted::Finished(Outcome::Failed { reason }, tries));
        }
        if state.give_up_retries.is_cancelled() {
            return Ok(Attempted::Stopped);
        }
        let wait = policy.backoff(tries, retry_after);
        tracing::info!(
            message_id = %message.id, attempt = tries, wait_ms = wait.as_millis() as u64,
            reason = %reason, "provider unreachable; trying again"
        );
        // The claim must outlive the wait and the next request.
        let lease = lease_of(
            policy
                .lease()
                .max(wait + policy.timeout + Duration::from_secs(30)),
        );
        let (id, worker) = (message.id, state.name.clone());
        let kept = state
            .db
            .run(move |conn| messages::extend_lease(conn, id, &worker, lease))
            .await?;
        if !kept {
            tracing::warn!(message_id = %message.id, "the claim was taken while retrying; not sending again");
            return Ok(Attempted::ClaimLost);
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.give_up_retries.cancelled() => return Ok(Attempted::Stopped),
        }
    }
}

/// How long `record` keeps trying while the database is away: the provider's answer is known
/// only here, so it is worth waiting for.
const RECORD_WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// Records `outcome`, retrying while the database is unreachable; whether the message was
/// still this worker's.
async fn record(
    state: &WorkerState,
    message: &Message,
    outcome: &Outcome,
) -> Result<bool, ProcessError> {
    let mut waits = RECORD_WAITS.iter();
    loop {
        let (message_row, worker, result) = (message.clone(), state.name.clone(), outcome.clone());
        let recorded = state
            .db
            .run(move |conn| messages::record_outcome(conn, &message_row, &worker, &result))
            .await;
        match (recorded, waits.next()) {
            (Ok(kept), _) => return Ok(kept),
            (Err(error), Some(wait)) => {
                tracing::warn!(message_id = %message.id, error = %error, "could not record the outcome; trying again");
                tokio::time::sleep(*wait).await;
            }
            (Err(error), None) => {
                tracing::error!(
                    message_id = %message.id, outcome = ?outcome, error = %error,
                    "could not record the outcome; the message will show as unknown"
                );
                return Err(error.into());
            }
        }
    }
}

/// A lease as the database takes it.
fn lease_of(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
