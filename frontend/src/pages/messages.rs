//! The messages page: what is still to be sent across all customers, by day, with filters for
//! status and channel; statuses change live.

use crm_contract::live::MessageStatusEvent;
use crm_contract::messages::{MessageResponse, MessageStatus};
use crm_domain::Channel;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::messages::AgendaQuery;
use crate::api::{self, Paging};
use crate::components::list_parts::{ListFooter, loading};
use crate::components::message_status::{LiveStatusBadge, channel_label, excerpt};
use crate::live::{coalesced, use_live};
use crate::reactive::{Fetched, Task};
use crate::state::use_toasts;

/// Messages fetched per page.
const PAGE_SIZE: u32 = 50;

/// The status filter's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Still to be sent: scheduled or sending.
    Upcoming,
    /// Sent, delivered or read.
    Sent,
    /// Failed, undelivered, or with an unknown outcome.
    Failed,
    Canceled,
    All,
}

impl StatusFilter {
    const ALL: [Self; 5] = [
        Self::Upcoming,
        Self::Sent,
        Self::Failed,
        Self::Canceled,
        Self::All,
    ];

    /// The statuses it shows; every one when empty.
    pub fn statuses(self) -> Vec<MessageStatus> {
        use MessageStatus as S;
        match self {
            Self::Upcoming => vec![S::Scheduled, S::Sending],
            Self::Sent => vec![S::Sent, S::Delivered, S::Read],
            Self::Failed => vec![S::Failed, S::Undelivered, S::Unknown],
            Self::Canceled => vec![S::Canceled],
            Self::All => Vec::new(),
        }
    }

    fn value(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::All => "all",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Sent => "Sent",
            Self::Failed => "Failed or unknown",
            Self::Canceled => "Canceled",
            Self::All => "All",
        }
    }

    fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.value() == value)
            .unwrap_or(Self::Upcoming)
    }
}

/// A day on the browser's calendar: year, month (1–12), day.
pub type Day = (i32, u32, u32);

/// Splits `items`, already in time order, into runs of the same day, each with its day.
pub fn group_by_day<T>(items: Vec<T>, day_of: impl Fn(&T) -> Day) -> Vec<(Day, Vec<T>)> {
    let mut groups: Vec<(Day, Vec<T>)> = Vec::new();
    for item in items {
        let day = day_of(&item);
        match groups.last_mut() {
            Some((last, run)) if *last == day => run.push(item),
            _ => groups.push((day, vec![item])),
        }
    }
    groups
}

fn js_date(millis: f64) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis))
}

/// The day of `millis` since the epoch on the browser's calendar.
fn local_day(millis: f64) -> Day {
    let date = js_date(millis);
    (
        date.get_full_year() as i32,
        date.get_month() + 1,
        date.get_date(),
    )
}

/// A day's heading in the browser's language, e.g. "Thursday, 24 December 2026".
fn day_heading(millis: f64) -> String {
    let options = js_sys::Object::new();
    for (key, value) in [
        ("weekday", "long"),
        ("year", "numeric"),
        ("month", "long"),
        ("day", "numeric"),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    let heading: String = js_date(millis)
        .to_locale_date_string("default", &options)
        .into();
    if local_day(millis) == local_day(js_sys::Date::now()) {
        format!("Today \u{2014} {heading}")
    } else {
        heading
    }
}

/// The time of day of `millis` in the browser's zone and format, e.g. "09:30".
fn local_clock_time(millis: f64) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    js_date(millis)
        .to_locale_time_string_with_options("default", &options)
        .into()
}

/// Whether `items` shows the message of `event` at the time the event gives.
fn shows(items: &[MessageResponse], event: &MessageStatusEvent) -> bool {
    items
        .iter()
        .any(|m| m.id == event.message_id && m.send_at == event.send_at)
}

fn millis_of(message: &MessageResponse) -> f64 {
    message.send_at.timestamp_millis() as f64
}

/// The agenda's columns: heading, and width unless it takes what is left. Every day has a
/// table of its own; with a fixed table layout they all take these widths, so the columns of
/// one day line up with the next day's whatever their texts.
const AGENDA_COLUMNS: [(&str, Option<&str>); 5] = [
    ("Time", Some("6rem")),
    ("Customer", Some("22%")),
    ("Channel", Some("6.5rem")),
    ("Message", None),
    ("Status", Some("10rem")),
];

/// A link cut short like a `text-truncate` cell, but as a box of its own so that its focus
/// ring is not clipped with the text.
const CUT_SHORT_LINK: &str = "d-inline-block mw-100 text-truncate align-bottom";

/// The widths and (for screen readers) headings of a day's table.
#[component]
fn AgendaColumns() -> impl IntoView {
    view! {
        <colgroup>
            {AGENDA_COLUMNS.map(|(_, width)| view! { <col style=width.map(|w| format!("width: {w}"))/> }).collect_view()}
        </colgroup>
        <thead class="visually-hidden"><tr>
            {AGENDA_COLUMNS.map(|(heading, _)| view! { <th scope="col">{heading}</th> }).collect_view()}
        </tr></thead>
    }
}

/// The whole of what `summary` shows of `message`, for when the table cuts it short: the
/// body, or the template's name.
fn full_text(message: &MessageResponse, summary: &str) -> String {
    if message.template.is_some() {
        summary.to_owned()
    } else {
        message.body.trim().to_owned()
    }
}

/// The messages page.
#[component]
pub fn MessagesPage() -> impl IntoView {
    let toasts = use_toasts();
    let status = RwSignal::new(StatusFilter::Upcoming);
    let channel = RwSignal::new(None::<Channel>);
    let reload = RwSignal::new(0u32);
    // Messages of the pages after the first, and where the next page starts.
    let later = RwSignal::new((Vec::<MessageResponse>::new(), None::<String>));
    let query = move |paging: Paging| AgendaQuery {
        statuses: status.get_untracked().statuses(),
        channel: channel.get_untracked(),
        paging,
    };
    let first = Fetched::new(move || {
        status.track();
        channel.track();
        reload.track();
        later.set((Vec::new(), None));
        let query = query(Paging::first(PAGE_SIZE));
        async move { api::messages::agenda(&query).await }
    });
    let show_more = Task::new(move |cursor: &String| {
        let query = query(Paging::after(PAGE_SIZE, cursor.clone()));
        async move {
            match api::messages::agenda(&query).await {
                Ok(list) => later.update(|(items, next)| {
                    items.extend(list.items);
                    *next = list.next_cursor;
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let templates = Fetched::new(api::messages::templates);
    let template_list = move || {
        templates
            .get()
            .and_then(Result::ok)
            .map(|list| list.items)
            .unwrap_or_default()
    };
    let next_cursor = move || {
        let (items, next) = later.get();
        if items.is_empty() {
            first
                .get()
                .and_then(Result::ok)
                .and_then(|page| page.next_cursor)
        } else {
            next
        }
    };
    // A shown message's badge follows its events by itself; a message not shown, or moved to
    // another time, may belong in the list: fetch it again (once per burst).
    let live = use_live();
    let reload_soon = coalesced(reload);
    live.on_message_status(move |event| {
        let shown = first.with_untracked(|page| {
            page.as_ref()
                .and_then(|page| page.as_ref().ok())
                .is_some_and(|page| shows(&page.items, event))
        }) || later.with_untracked(|(items, _)| shows(items, event));
        if !shown {
            reload_soon();
        }
    });
    live.on_resync(reload_soon);
    let on_channel = move |ev: leptos::ev::Event| {
        channel.set(Channel::parse(&event_target_value(&ev)).ok());
    };

    view! {
        <div class="d-flex flex-wrap align-items-center gap-2 mb-3">
            <h1 class="h3 me-auto mb-0">"Messages"</h1>
            <button type="button" class="btn btn-outline-secondary"
                on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
        </div>
        <div class="row g-2 mb-3">
            <div class="col-sm-4 col-md-3">
                <label for="messages-status" class="form-label small mb-1">"Status"</label>
                <select id="messages-status" class="form-select"
                    on:change=move |ev| status.set(StatusFilter::parse(&event_target_value(&ev)))>
                    {StatusFilter::ALL.into_iter().map(|f| view! {
                        <option value=f.value() selected=move || status.get() == f>{f.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="col-sm-4 col-md-3">
                <label for="messages-channel" class="form-label small mb-1">"Channel"</label>
                <select id="messages-channel" class="form-select" on:change=on_channel>
                    <option value="" selected=move || channel.get().is_none()>"SMS and WhatsApp"</option>
                    <option value="sms" selected=move || channel.get() == Some(Channel::Sms)>"SMS"</option>
                    <option value="whatsapp" selected=move || channel.get() == Some(Channel::Whatsapp)>"WhatsApp"</option>
                </select>
            </div>
        </div>
        {move || first.get().map(|result| match result {
            Ok(page) if page.items.is_empty() => view! { <p class="text-muted">"No messages here."</p> }.into_any(),
            Ok(page) => {
                let total = page.total;
                let mut items = page.items;
                items.extend(later.get().0);
                let shown = items.len();
                let templates = template_list();
                let days = group_by_day(items, |m| local_day(millis_of(m)));
                view! {
                    {days.into_iter().map(|(_, run)| {
                        let heading = run.first().map(|m| day_heading(millis_of(m))).unwrap_or_default();
                        view! {
                            <h2 class="h6 mt-3 mb-2 text-body-secondary">{heading}</h2>
                            <div class="table-responsive">
                                <table class="table table-sm align-middle mb-2 agenda-table">
                                    <AgendaColumns/>
                                    <tbody>
                                        {run.into_iter().map(|m| {
                                            let summary = excerpt(&m, &templates);
                                            let full_text = full_text(&m, &summary);
                                            let name = m.customer_name.clone();
                                            view! {
                                            <tr>
                                                <td class="text-truncate">{local_clock_time(millis_of(&m))}</td>
                                                <td><A href=format!("/customers/{}", m.customer_id) attr:class=CUT_SHORT_LINK attr:title=m.customer_name.clone()>{name}</A></td>
                                                <td class="text-truncate">{channel_label(m.channel)}</td>
                                                <td class="text-truncate" title=full_text>{summary}</td>
                                                <td><LiveStatusBadge id=m.id status=m.status reason=m.status_reason.clone() version=m.version/></td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                    }).collect_view()}
                    <ListFooter shown=shown total=total next=next_cursor more=show_more/>
                }.into_any()
            }
            Err(error) => view! { <div class="alert alert-warning" role="alert">{error.message()}</div> }.into_any(),
        }).unwrap_or_else(loading)}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_grouped_into_runs_of_the_same_day() {
        let items = vec![
            ((2026, 12, 24), "a"),
            ((2026, 12, 24), "b"),
            ((2026, 12, 25), "c"),
            ((2027, 1, 2), "d"),
        ];
        let groups = group_by_day(items, |(day, _)| *day);
        let names: Vec<(Day, Vec<&str>)> = groups
            .into_iter()
            .map(|(day, run)| (day, run.into_iter().map(|(_, n)| n).collect()))
            .collect();
        assert_eq!(
            names,
            vec![
                ((2026, 12, 24), vec!["a", "b"]),
                ((2026, 12, 25), vec!["c"]),
                ((2027, 1, 2), vec!["d"]),
            ]
        );
        assert!(group_by_day(Vec::<Day>::new(), |d| *d).is_empty());
    }

    #[test]
    fn upcoming_means_scheduled_or_sending_and_all_sends_no_status() {
        assert_eq!(
            StatusFilter::Upcoming.statuses(),
            vec![MessageStatus::Scheduled, MessageStatus::Sending]
        );
        assert!(StatusFilter::All.statuses().is_empty());
        for filter in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(filter.value()), filter);
        }
        // Every status is under exactly one of the other filters.
        for status in MessageStatus::ALL {
            let under = StatusFilter::ALL
                .into_iter()
                .filter(|f| f.statuses().contains(&status))
                .count();
            assert_eq!(under, 1, "{status:?}");
        }
    }
}
