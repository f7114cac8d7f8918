//! Sending scheduled messages, against real PostgreSQL (a database per test), real Redis (a
//! queue per test, removed afterwards) and the fake Twilio: what is posted, and what the row
//! says afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crm_contract::activity::CancelReason;
use crm_contract::messages::MessageStatus;
use crm_db::PgPooledConnection;
use crm_db::customers::{self, Customer, NewCustomer};
use crm_db::messages::{self, ChangeError, Message, MessageEdit, NewMessage, Outcome};
use crm_db::test_support::TestDatabase;
use crm_db::users::{self, NewUser};
use crm_domain::{Channel, PhoneNumber, Role, UserId};
use crm_queue::{JobState, Storage};
use crm_worker::metrics::WorkerMetrics;
use crm_worker::provider::{LogProvider, Provider, TwilioConfig, TwilioProvider};
use crm_worker::reconcile::{self, Reconciled};
use crm_worker::send::{self, Processed};
use crm_worker::{Db, RunOptions, SendPolicy, WorkerState};
use support::{Answer, CUSTOMER, FakeTwilio, fake_twilio};

const TEXT: &str = "Your order is ready for collection.";
const TEMPLATE: &str = "HX0123456789abcdef0123456789abcdef";

/// Quick retries, so that tests about retrying take milliseconds.
fn quick_policy(attempts: u32) -> SendPolicy {
    SendPolicy {
        attempts,
        timeout: Duration::from_secs(1),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    }
}

/// A shop with one user and one customer, a fake Twilio, and a worker state sending through it.
struct Shop {
    db: TestDatabase,
    fake: FakeTwilio,
    state: WorkerState,
    user: UserId,
    customer: Customer,
}

impl Shop {
    async fn open() -> Self {
        Self::with_policy(quick_policy(3)).await
    }

    async fn with_policy(policy: SendPolicy) -> Self {
        let fake = fake_twilio().await;
        let provider = Provider::Twilio(
            TwilioProvider::new(TwilioConfig {
                timeout: policy.timeout,
                ..support::twilio_config(&fake)
            })
            .unwrap(),
        );
        Self::with_provider(fake, provider, policy)
    }

    fn with_provider(fake: FakeTwilio, provider: Provider, policy: SendPolicy) -> Self {
        let db = TestDatabase::new();
        let mut conn = db.connection();
        let user = users::create(
            &mut conn,
            None,
            &NewUser {
                email: "ada@example.com",
                name: "Ada",
                password_hash: "not a hash",
                role: Role::Admin,
            },
        )
        .unwrap();
        let customer = customers::create(
            &mut conn,
            user.id,
            &NewCustomer {
                name: "Grace Hopper".into(),
                email: None,
                phone: Some(number()),
                whatsapp: Some(number()),
                timezone: "UTC".into(),
                notes: String::new(),
                sms_opt_out: false,
                whatsapp_opt_out: false,
            },
        )
        .unwrap();
        let name = crm_worker::worker_name("test-worker");
        let state = WorkerState::new(shop_db(&db), provider, name, policy);
        Self {
            db,
            fake,
            state,
            user: user.id,
            customer,
        }
    }

    fn conn(&self) -> PgPooledConnection {
        self.db.connection()
    }

    /// An SMS saying `text`, due `ago` ago.
    fn sms_due(&self, text: &str, ago: Duration) -> Message {
        let recipient = number();
        messages::create(
            &mut self.conn(),
            &NewMessage {
                customer_id: self.customer.id,
                channel: Channel::Sms,
                recipient: &recipient,
                body: text,
                template_sid: None,
                template_variables: None,
                send_at: Utc::now() - chrono::Duration::from_std(ago).unwrap(),
                created_by: Some(self.user),
            },
        )
        .unwrap()
    }

    /// An SMS saying `text`, due now.
    fn sms(&self, text: &str) -> Message {
        self.sms_due(text, Duration::ZERO)
    }

    fn reload(&self, message: &Message) -> Message {
        messages::find(&mut self.conn(), message.id).unwrap()
    }

    fn assert_no_violations(&self) {
        let violations = self.fake.violations();
        assert!(
            violations.is_empty(),
            "contract violations: {violations:#?}"
        );
    }
}

/// The worker's view of `db`: its pool and the pool's watch.
fn shop_db(db: &TestDatabase) -> Db {
    Db::new(db.pool(), db.pool_watch())
}

fn number() -> PhoneNumber {
    PhoneNumber::from_e164(CUSTOMER.to_owned()).unwrap()
}

async fn process(shop: &Shop, message: &Message) -> Processed {
    send::process(message.job(), &shop.state).await.unwrap()
}

// --- One job, run directly -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_message_is_sent_once_and_recorded_with_twilios_sid() {
    let shop = Shop::open().await;
    let message = shop.sms(TEXT);

    let processed = process(&shop, &message).await;

    let [request] = shop.fake.received().try_into().unwrap();
    assert_eq!(request.field("To"), Some(CUSTOMER));
    assert_eq!(request.field("Body"), Some(TEXT));
    assert_eq!(request.field("StatusCallback"), None);
    let sid = request.sid.clone().unwrap();
    assert_eq!(
        processed,
        Processed::Finished {
            outcome: Outcome::Sent {
                provider_id: sid.clone()
            },
            tries: 1
        }
    );
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Sent);
    assert_eq!(row.provider_message_id.as_deref(), Some(sid.as_str()));
    assert_eq!(row.attempts, 1);
    assert!(row.sent_at.is_some() && row.lease_until.is_none());
    assert_eq!(row.claimed_by.as_deref(), Some(shop.state.name()));

    // The same job again (apalis redelivered it) does nothing.
    assert_eq!(process(&shop, &message).await, Processed::Skipped);
    assert_eq!(shop.fake.received().len(), 1);
    shop.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_messages_old_job_does_nothing_and_the_new_one_sends_the_new_text() {
    let shop = Shop::open().await;
    let original = shop.sms("Your order is ready.");
    let edited = messages::edit(
        &mut shop.conn(),
        shop.user,
        original.id,
        original.version,
        |_, _| {
            Ok::<_, ChangeError>(MessageEdit {
                body: Some("Your order is ready, and it is gift-wrapped.".into()),
                ..MessageEdit::default()
            })
        },
    )
    .unwrap();

    assert_eq!(process(&shop, &original).await, Processed::Skipped);
    assert!(shop.fake.received().is_empty());

    let processed = process(&shop, &edited).await;
    assert!(matches!(
        processed,
        Processed::Finished {
            outcome: Outcome::Sent { .. },
            ..
        }
    ));
    let [request] = shop.fake.received().try_into().unwrap();
    assert_eq!(
        request.field("Body"),
        Some("Your order is ready, and it is gift-wrapped.")
    );
    assert_eq!(shop.reload(&edited).status, MessageStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_message_is_never_sent() {
    let shop = Shop::open().await;
    let message = shop.sms(TEXT);
    messages::cancel(&mut shop.conn(), shop.user, message.id).unwrap();

    assert_eq!(process(&shop, &message).await, Processed::Skipped);

    assert!(shop.fake.received().is_empty());
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Canceled);
    assert_eq!(row.attempts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_copies_of_a_job_running_at_once_send_the_message_once() {
    let shop = Shop::open().await;
    let message = shop.sms(TEXT);

    let (first, second) = tokio::join!(process(&shop, &message), process(&shop, &message));

    let sent = [&first, &second]
        .iter()
        .filter(|p| {
            matches!(
                p,
                Processed::Finished {
                    outcome: Outcome::Sent { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(sent, 1, "{first:?} {second:?}");
    assert!(first == Processed::Skipped || second == Processed::Skipped);
    assert_eq!(shop.fake.received().len(), 1);
    assert_eq!(shop.fake.delivered_with_body(TEXT), 1);
    assert_eq!(shop.reload(&message).status, MessageStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_then_success_sends_the_message_after_one_retry() {
    let shop = Shop::open().await;
    shop.fake
        .answer_in_turn([Answer::ServerError { status: 500 }]);
    let message = shop.sms(TEXT);

    let processed = process(&shop, &message).await;

    assert!(
        matches!(
            processed,
            Processed::Finished {
                outcome: Outcome::Sent { .. },
                tries: 2
            }
        ),
        "{processed:?}"
    );
    let statuses: Vec<_> = shop.fake.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(201)]);
    assert_eq!(shop.fake.delivered_with_body(TEXT), 1);
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Sent);
    assert_eq!(row.attempts, 1, "one claim, two requests");
    shop.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_stays_down_fails_the_message_after_the_configured_attempts() {
    let shop = Shop::with_policy(quick_policy(3)).await;
    shop.fake.answer_with(Answer::ServerError { status: 503 });
    let message = shop.sms(TEXT);

    process(&shop, &message).await;

    assert_eq!(shop.fake.received().len(), 3);
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Failed);
    let reason = row.status_reason.unwrap();
    assert!(
        reason.starts_with("Could not reach the provider after 3 attempts: Twilio answered 503")
            && reason.ends_with("the message was not created. Try Resend later."),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopping_while_it_waits_to_retry_gives_the_message_back() {
    let policy = SendPolicy {
        first_backoff: Duration::from_secs(30),
        max_backoff: Duration::from_secs(30),
        ..quick_policy(5)
    };
    let shop = Shop::with_policy(policy).await;
    shop.fake.answer_with(Answer::ServerError { status: 503 });
    let message = shop.sms(TEXT);

    let sending = tokio::spawn({
        let (state, job) = (shop.state.clone(), message.job());
        async move { send::process(job, &state).await }
    });
    eventually("the first request reached the provider", || async {
        shop.fake.received().len() == 1
    })
    .await;
    shop.state.stop_retrying();
    let processed = tokio::time::timeout(Duration::from_secs(5), sending).await;

    assert!(
        matches!(processed, Ok(Ok(Ok(Processed::Released)))),
        "{processed:?}"
    );
    assert_eq!(shop.fake.received().len(), 1, "no request after stopping");
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Scheduled, "for another worker");
    assert_eq!(
        (row.claimed_by, row.lease_until, row.job_id),
        (None, None, None)
    );
    assert_eq!(
        row.version, message.version,
        "the same message, not an edit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_number_fails_the_message_with_the_reason_in_plain_words() {
    let shop = Shop::open().await;
    shop.fake.answer_with(Answer::Refuse {
        code: 21211,
        status: 400,
        message: None,
    });
    let message = shop.sms(TEXT);

    process(&shop, &message).await;

    assert_eq!(shop.fake.received().len(), 1, "a refusal is not retried");
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Failed);
    assert_eq!(
        row.status_reason.as_deref(),
        Some("The number is not a valid phone number.")
    );
    assert!(row.provider_message_id.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_that_never_answers_leaves_the_message_unknown_and_is_not_asked_again() {
    let shop = Shop::open().await;
    shop.fake.answer_with(Answer::Hang);
    let message = shop.sms(TEXT);

    let started = Instant::now();
    process(&shop, &message).await;

    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(shop.fake.received().len(), 1, "it may have been sent");
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Unknown);
    assert!(
        row.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("may have been sent")),
        "{:?}",
        row.status_reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_customer_archived_after_scheduling_is_canceled_not_sent() {
    let shop = Shop::open().await;
    let message = shop.sms(TEXT);
    customers::set_archived(&mut shop.conn(), shop.user, shop.customer.id, true).unwrap();

    process(&shop, &message).await;

    assert!(shop.fake.received().is_empty());
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Canceled);
    assert_eq!(
        row.status_reason.as_deref(),
        Some(CancelReason::CustomerArchived.describe(Channel::Sms))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_customer_who_opted_out_is_canceled_not_sent() {
    let shop = Shop::open().await;
    let message = shop.sms(TEXT);
    customers::set_opt_out_by_number(&mut shop.conn(), &number(), Channel::Sms, true).unwrap();

    let processed = process(&shop, &message).await;

    let reason = CancelReason::OptedOut.describe(Channel::Sms);
    assert_eq!(
        processed,
        Processed::Canceled {
            reason: Some(reason.to_owned())
        }
    );
    assert!(shop.fake.received().is_empty());
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Canceled);
    assert_eq!(row.status_reason.as_deref(), Some(reason));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_template_sends_its_content_sid_and_variables() {
    let shop = Shop::open().await;
    let variables = BTreeMap::from([("1".to_owned(), "Grace".to_owned())]);
    let recipient = number();
    let message = messages::create(
        &mut shop.conn(),
        &NewMessage {
            customer_id: shop.customer.id,
            channel: Channel::Whatsapp,
            recipient: &recipient,
            body: "",
            template_sid: Some(TEMPLATE),
            template_variables: Some(serde_json::to_value(&variables).unwrap()),
            send_at: Utc::now(),
            created_by: Some(shop.user),
        },
    )
    .unwrap();

    process(&shop, &message).await;

    let [request] = shop.fake.received().try_into().unwrap();
    assert_eq!(
        request.field("To"),
        Some(format!("whatsapp:{CUSTOMER}").as_str())
    );
    assert_eq!(request.field("ContentSid"), Some(TEMPLATE));
    assert_eq!(request.field("ContentVariables"), Some(r#"{"1":"Grace"}"#));
    assert_eq!(request.field("Body"), None);
    assert_eq!(shop.reload(&message).status, MessageStatus::Sent);
    shop.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_are_asked_for_at_the_public_urls_webhook() {
    let mut shop = Shop::open().await;
    let callback: url::Url = "https://crm.example.com/api/v1/webhooks/twilio"
        .parse()
        .unwrap();
    shop.state = shop
        .state
        .clone()
        .with_status_callback(Some(callback.clone()));
    let message = shop.sms(TEXT);

    process(&shop, &message).await;

    let [request] = shop.fake.received().try_into().unwrap();
    assert_eq!(request.field("StatusCallback"), Some(callback.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_provider_records_the_message_as_sent_under_a_log_id() {
    let fake = fake_twilio().await;
    let shop = Shop::with_provider(fake, Provider::Log(LogProvider::new()), quick_policy(1));
    let message = shop.sms(TEXT);

    process(&shop, &message).await;

    assert!(shop.fake.received().is_empty());
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Sent);
    assert!(
        row.provider_message_id
            .is_some_and(|id| id.starts_with("log-"))
    );
}

// --- The reconciler -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_postgresql_ended_fails_one_round_and_the_next_finds_a_live_one() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let db = shop_db(&shop.db);
    // Three connections in the pool, then ended, as a restart of PostgreSQL ends them.
    let open: Vec<_> = (0..3).map(|_| shop.conn()).collect();
    drop(open);
    shop.db.end_connections();

    let first = reconcile::reconcile_once(&db, &queue.storage).await;
    assert!(first.is_err(), "a round on an ended connection: {first:?}");
    // The pool trusts its connections; the failure made it check the other two before handing
    // them out (without that, this round failed too, on the next ended connection).
    reconcile::reconcile_once(&db, &queue.storage)
        .await
        .expect("the next round gets a live connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_becomes_unknown() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let message = shop.sms(TEXT);
    let claim = messages::claim_for_sending(
        &mut shop.conn(),
        message.job(),
        "a-worker-that-died",
        chrono::Duration::milliseconds(1),
    )
    .unwrap();
    assert!(matches!(claim, messages::Claim::Send(_)));
    tokio::time::sleep(Duration::from_millis(20)).await;

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled.expired, 1);
    let row = shop.reload(&message);
    assert_eq!(row.status, MessageStatus::Unknown);
    assert_eq!(row.status_reason.as_deref(), Some(messages::LEASE_EXPIRED));
    assert!(shop.fake.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_message_without_a_job_gets_one_and_a_worker_then_sends_it() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let message = shop.sms_due(TEXT, Duration::from_secs(10));
    assert!(
        message.job_id.is_none(),
        "as when Redis was down at scheduling"
    );

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled.requeued, 1);
    let job_id = shop.reload(&message).job_id.expect("the new job is noted");
    assert!(
        crm_queue::is_pending(&queue.storage, &job_id)
            .await
            .unwrap()
    );

    let worker = Running::start(&shop, &queue);
    eventually("the message is sent", || async {
        shop.reload(&message).status == MessageStatus::Sent
    })
    .await;
    worker.stop().await.unwrap();
    assert_eq!(shop.fake.delivered_with_body(TEXT), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_message_whose_job_redis_lost_gets_a_new_one() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let message = shop.sms_due(TEXT, Duration::from_secs(10));
    let lost = crm_queue::task_id(message.job(), None);
    messages::set_job(&mut shop.conn(), message.job(), &lost).unwrap();

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled.requeued, 1);
    let job_id = shop.reload(&message).job_id.unwrap();
    assert_ne!(job_id, lost);
    assert!(
        crm_queue::is_pending(&queue.storage, &job_id)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_left_taken_by_a_killed_worker_is_replaced_once_the_message_is_long_overdue() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let job_id = |message: &Message| crm_queue::task_id(message.job(), None);
    // Each message has a job in none of the queue's places, with a status: a worker fetched it
    // (apalis leaves it `Pending` until the worker locks it, then `Running`), or Redis lost its
    // place but kept its status (a partial loss).
    let taken = |body: &str, overdue: u64, status: &str| {
        let message = shop.sms_due(body, Duration::from_secs(overdue));
        messages::set_job(&mut shop.conn(), message.job(), &job_id(&message)).unwrap();
        queue.set_status(&job_id(&message), status);
        message
    };
    // Taken moments ago: its worker may still claim it.
    let recent = [
        taken("recent", 10, "Running"),
        taken("fetched", 10, "Pending"),
    ];
    // Taken long ago and still not claimed: its worker is gone, or the job is.
    let abandoned = [
        taken("abandoned", 60, "Running"),
        taken("lost", 60, "Pending"),
    ];

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled.requeued, 2);
    for message in &recent {
        assert_eq!(shop.reload(message).job_id, Some(job_id(message)));
    }
    for message in &abandoned {
        let replaced = shop.reload(message).job_id.unwrap();
        assert_ne!(replaced, job_id(message));
        assert_eq!(
            crm_queue::job_state(&queue.storage, &replaced)
                .await
                .unwrap(),
            JobState::Waiting
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_whose_payload_redis_lost_is_taken_out_and_replaced_and_the_message_sent() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let (message, broken) = due_with_its_job(&shop, &queue).await;
    queue.forget_payload(&broken);
    assert_eq!(
        crm_queue::job_state(&queue.storage, &broken).await.unwrap(),
        JobState::Broken
    );

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled.requeued, 1);
    assert_eq!(
        crm_queue::job_state(&queue.storage, &broken).await.unwrap(),
        JobState::Gone,
        "no worker fetches it (apalis would fail on it)"
    );
    let worker = Running::start(&shop, &queue);
    eventually("the message is sent", || async {
        shop.reload(&message).status == MessageStatus::Sent
    })
    .await;
    worker
        .stop()
        .await
        .expect("the worker met no unreadable job");
    assert_eq!(shop.fake.delivered_with_body(TEXT), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_message_whose_job_is_still_queued_is_left_alone() {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let (message, job_id) = due_with_its_job(&shop, &queue).await;

    let reconciled = reconcile::reconcile_once(&shop_db(&shop.db), &queue.storage)
        .await
        .unwrap();

    assert_eq!(reconciled, Reconciled::default());
    assert_eq!(shop.reload(&message).job_id, Some(job_id));
}

/// A message 10 s overdue whose job is scheduled at its time and noted on it, as the API
/// leaves one; and that job's id.
async fn due_with_its_job(shop: &Shop, queue: &TestQueue) -> (Message, String) {
    let message = shop.sms_due(TEXT, Duration::from_secs(10));
    let job_id = crm_queue::task_id(message.job(), None);
    crm_queue::schedule(&queue.storage, message.job(), message.send_at, &job_id)
        .await
        .unwrap();
    messages::set_job(&mut shop.conn(), message.job(), &job_id).unwrap();
    (message, job_id)
}

// --- A real worker on a real queue ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_worker_sends_a_scheduled_message_within_seconds_of_its_time_and_stops_when_asked()
 {
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let worker = Running::start(&shop, &queue);
    let message = shop.sms(TEXT);
    let job_id = crm_queue::task_id(message.job(), None);
    crm_queue::schedule(&queue.storage, message.job(), message.send_at, &job_id)
        .await
        .unwrap();
    messages::set_job(&mut shop.conn(), message.job(), &job_id).unwrap();

    eventually("the message is sent", || async {
        shop.reload(&message).status == MessageStatus::Sent
    })
    .await;
    let row = shop.reload(&message);
    let late = row.sent_at.unwrap() - row.send_at;
    assert!(
        late < chrono::Duration::seconds(3),
        "sent {late} after its time"
    );
    assert_eq!(shop.fake.received().len(), 1);

    let stopped = worker.stop().await;
    assert!(stopped.is_ok(), "{stopped:?}");
    assert!(
        !crm_queue::is_pending(&queue.storage, &job_id)
            .await
            .unwrap()
    );

    // Finished jobs are forgotten once old enough: nothing of this one stays in Redis.
    let config = queue.storage.get_config().clone();
    let mut redis = queue.redis();
    let kept = |redis: &mut redis::Connection| -> (bool, bool, bool) {
        let data: bool = redis::Commands::hexists(redis, config.job_data_hash(), &job_id).unwrap();
        let meta: bool =
            redis::Commands::exists(redis, format!("{}:{job_id}", config.job_meta_hash())).unwrap();
        let done: bool =
            redis::Commands::sismember(redis, config.done_jobs_set(), &job_id).unwrap();
        (data, meta, done)
    };
    assert_eq!(
        kept(&mut redis),
        (true, true, true),
        "apalis keeps a done job"
    );
    let too_recent = crm_queue::forget_finished(&queue.storage, Duration::from_secs(3600), 100);
    assert_eq!(too_recent.await.unwrap(), 0);
    let forgotten = crm_queue::forget_finished(&queue.storage, Duration::ZERO, 100);
    assert_eq!(forgotten.await.unwrap(), 1);
    assert_eq!(kept(&mut redis), (false, false, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_before_redis_waits_for_it_and_stops_cleanly_when_asked() {
    let shop = Shop::open().await;
    let nowhere = crm_queue::open(
        "redis://127.0.0.1:1",
        crm_worker::queue_config("crm-test:nowhere", 10),
    )
    .unwrap();
    let worker = Running::start_on(&shop, nowhere);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!worker.task.is_finished(), "it waits instead of exiting");

    let stopped = worker.stop().await;

    assert!(stopped.is_ok(), "{stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_worker_cannot_read_is_set_aside_and_the_worker_goes_on() {
    use apalis::prelude::{TaskBuilder, TaskSink};
    let shop = Shop::open().await;
    let queue = TestQueue::new();
    let mut foreign = apalis_redis::RedisStorage::<String>::new(
        redis::Client::open(queue.url.as_str())
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap(),
    )
    .with_config(crm_worker::queue_config(&queue.name, 10));
    foreign
        .push_task(TaskBuilder::new("not a SendMessage".to_owned()).build())
        .await
        .unwrap();
    let worker = Running::start(&shop, &queue);

    let message = shop.sms(TEXT);
    let job_id = crm_queue::task_id(message.job(), None);
    crm_queue::schedule(&queue.storage, message.job(), message.send_at, &job_id)
        .await
        .unwrap();
    eventually("the message is sent", || async {
        shop.reload(&message).status == MessageStatus::Sent
    })
    .await;

    assert!(!worker.task.is_finished(), "the worker is still running");
    let dead: usize =
        redis::Commands::scard(&mut queue.redis(), format!("{}:dead", queue.name)).unwrap();
    assert_eq!(dead, 1, "the unreadable job is set aside");
    worker.stop().await.unwrap();
}

// --- Metrics --------------------------------------------------------------------------------

/// Scrapes `path` from the metrics listener at `addr`: the status line and the body.
async fn scrape(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: prometheus\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_counts_sent_and_late_messages_and_pool_waits() {
    let shop = Shop::open().await;
    let metrics = Arc::new(WorkerMetrics::default());
    let watch = Arc::new(crm_db::PoolWatch::new(Some(Arc::clone(&metrics.pool))));
    let pool = crm_db::build_pool(shop.db.url(), 3, Duration::from_secs(5), Arc::clone(&watch));
    let provider = TwilioProvider::new(support::twilio_config(&shop.fake)).unwrap();
    let state = WorkerState::new(
        Db::new(pool.clone(), watch),
        Provider::Twilio(provider),
        crm_worker::worker_name("metrics-worker"),
        quick_policy(1),
    )
    .with_metrics(Arc::clone(&metrics));
    let on_time = shop.sms(TEXT);
    let late = shop.sms_due(TEXT, Duration::from_secs(5 * 60));
    for message in [&on_time, &late] {
        let processed = send::process(message.job(), &state).await.unwrap();
        assert!(
            matches!(processed, Processed::Finished { .. }),
            "{processed:?}"
        );
    }
    assert_eq!(metrics.sent(Channel::Sms), 2);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let served = tokio::spawn(crm_worker::metrics::serve(
        listener,
        metrics,
        pool,
        stop.clone(),
    ));
    let (status, page) = scrape(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    for line in [
        "messages_sent_total{channel=\"sms\"} 2",
        "messages_sent_total{channel=\"whatsapp\"} 0",
        "messages_late_total{channel=\"sms\"} 1",
        "messages_failed_total{channel=\"sms\"} 0",
        "db_pool_size 3",
        "db_pool_timeouts_total 0",
    ] {
        assert!(page.lines().any(|l| l == line), "{line} in {page}");
    }
    let waits = page
        .lines()
        .find_map(|l| l.strip_prefix("db_pool_wait_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(
        waits.is_some_and(|n| n >= 4),
        "claim and record of each: {page}"
    );
    assert_eq!(scrape(addr, "/").await.0, "HTTP/1.1 404 Not Found");
    stop.cancel();
    served.await.unwrap();
}

// --- Helpers --------------------------------------------------------------------------------

/// A queue of this test's own in the test Redis; its keys are deleted when dropped.
struct TestQueue {
    name: String,
    url: String,
    storage: Storage,
}

impl TestQueue {
    fn new() -> Self {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let name = format!(
            "crm-test:worker:{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let storage = crm_queue::open(&url, crm_worker::queue_config(&name, 10)).unwrap();
        Self { name, url, storage }
    }

    fn redis(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .unwrap()
    }

    /// Sets the status apalis keeps for the job `id`.
    fn set_status(&self, id: &str, status: &str) {
        use redis::Commands;
        let meta = format!("{}:{id}", self.storage.get_config().job_meta_hash());
        let _: () = self.redis().hset(meta, "status", status).unwrap();
    }

    /// Deletes the payload of the job `id`, as a partial loss of Redis data would.
    fn forget_payload(&self, id: &str) {
        use redis::Commands;
        let data = self.storage.get_config().job_data_hash();
        let _: () = self.redis().hdel(data, id).unwrap();
    }
}

impl Drop for TestQueue {
    fn drop(&mut self) {
        use redis::Commands;
        let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = conn
            .scan_match::<_, String>(format!("{}:*", self.name))
            .map(|keys| keys.filter_map(Result::ok).collect())
            .unwrap_or_default();
        for key in keys {
            let _: redis::RedisResult<()> = conn.del(key);
        }
        // apalis lists each queue by its workers set.
        let listed = format!("{}:workers", self.name);
        let _: redis::RedisResult<()> = conn.zrem("core:apalis:queues:list", listed);
    }
}

/// `crm_worker::run` on a test queue, as `main` runs it.
struct Running {
    state: WorkerState,
    task: tokio::task::JoinHandle<Result<(), crm_worker::WorkerStopped>>,
}

impl Running {
    fn start(shop: &Shop, queue: &TestQueue) -> Self {
        Self::start_on(shop, queue.storage.clone())
    }

    fn start_on(shop: &Shop, storage: Storage) -> Self {
        let options = RunOptions {
            concurrency: 4,
            poll_interval: Duration::from_millis(50),
            shutdown_timeout: Duration::from_secs(3),
            reconcile_interval: Duration::from_secs(1),
        };
        let state = shop.state.clone();
        let task = tokio::spawn(crm_worker::run(storage, state.clone(), options));
        Self { state, task }
    }

    async fn stop(self) -> Result<(), crm_worker::WorkerStopped> {
        self.state.shut_down();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the worker stops within its shutdown timeout")
            .unwrap()
    }
}

/// Waits up to 10 seconds for `check` to hold.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
