//! The app's own thin versions of Leptos's `LocalResource`, `Action` and `Effect`.
//!
//! Leptos's are generic over each call site's closure and future, so every page carried its
//! own copy of their machinery: an async-derived signal, a spawned task, a suspense hook
//! (several KB of wasm per call site). These box the call site's closure and future and hand
//! them to one non-generic function each, so the machinery is in the download once
//! (docs/PERFORMANCE.md, "Web app size").

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiError;

/// A boxed future on the browser's one thread: every caller's future has this one type.
type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// What a [`Task`] makes of each input: its work, boxed.
type Start<I> = Box<dyn Fn(&I) -> LocalFuture>;

/// Runs `run` on the next tick, and again whenever a signal it read changes (Leptos's
/// `Effect::new`).
pub fn effect(run: impl FnMut() + 'static) {
    effect_boxed(Box::new(run));
}

fn effect_boxed(mut run: Box<dyn FnMut()>) {
    Effect::new(move |_| run());
}

/// Runs `work` to the end, counting it in `running` meanwhile.
fn spawn_counted(running: RwSignal<u32>, work: LocalFuture) {
    running.update(|n| *n += 1);
    leptos::task::spawn_local(Box::pin(async move {
        work.await;
        running.try_update(|n| *n = n.saturating_sub(1));
    }) as LocalFuture);
}

/// Whether a fetch's answer is still wanted: a newer fetch of the same value makes the
/// answers of older ones stale (typing a search fetches once per pause, and the answers may
/// arrive in any order).
struct Latest {
    started: Rc<Cell<u64>>,
    mine: u64,
}

impl Latest {
    fn is_current(&self) -> bool {
        self.started.get() == self.mine
    }
}

/// Calls `fetch` on the next tick and again whenever a signal it read before returning its
/// future changes; runs each future it returns.
fn fetch_on_change(fetch: Box<dyn Fn(Latest) -> LocalFuture>) {
    let started = Rc::new(Cell::new(0u64));
    effect_boxed(Box::new(move || {
        let mine = started.get() + 1;
        started.set(mine);
        let latest = Latest {
            started: Rc::clone(&started),
            mine,
        };
        leptos::task::spawn_local(fetch(latest));
    }));
}

/// A value fetched from the API: `None` until the first answer, then the latest answer. The
/// loader runs again whenever a signal it reads (outside its future) changes; the previous
/// answer stays on screen until the new one arrives, and an answer overtaken by a newer
/// request is dropped. Copy, like a signal.
pub struct Fetched<T: 'static> {
    value: RwSignal<Option<Result<T, ApiError>>, LocalStorage>,
}

impl<T: 'static> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Fetched<T> {}

impl<T: Clone + 'static> Fetched<T> {
    /// Fetches with `load` now, and again whenever a signal `load` reads changes.
    pub fn new<Fut>(load: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let value = RwSignal::new_local(None);
        fetch_on_change(Box::new(move |latest| {
            let answer = load();
            Box::pin(async move {
                let answer = answer.await;
                if latest.is_current() {
                    value.try_set(Some(answer));
                }
            })
        }));
        Self { value }
    }

    /// The latest answer, if any yet (tracked).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        self.value.get()
    }

    /// The latest answer, if any yet (not tracked).
    pub fn get_untracked(&self) -> Option<Result<T, ApiError>> {
        self.value.get_untracked()
    }

    /// Reads the latest answer in place (not tracked).
    pub fn with_untracked<R>(&self, read: impl FnOnce(&Option<Result<T, ApiError>>) -> R) -> R {
        self.value.with_untracked(read)
    }
}

/// Work the user starts, such as a save or a delete (Leptos's `Action::new_local`, without
/// its output): `dispatch` starts it, `pending` says whether any is still running.
pub struct Task<I: 'static> {
    start: StoredValue<Start<I>, LocalStorage>,
    running: RwSignal<u32>,
}

impl<I: 'static> Clone for Task<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: 'static> Copy for Task<I> {}

impl<I: 'static> Task<I> {
    /// A task that runs the future `start` makes of each dispatched input.
    pub fn new<Fut>(start: impl Fn(&I) -> Fut + 'static) -> Self
    where
        Fut: Future<Output = ()> + 'static,
    {
        let start: Start<I> = Box::new(move |input: &I| Box::pin(start(input)));
        Self {
            start: StoredValue::new_local(start),
            running: RwSignal::new(0),
        }
    }

    /// Starts the work for `input` (nothing once the page that made the task is gone).
    pub fn dispatch(&self, input: I) {
        if let Some(work) = self.start.try_with_value(|start| start(&input)) {
            spawn_counted(self.running, work);
        }
    }

    /// Whether any dispatched work is still running.
    pub fn pending(&self) -> Pending {
        Pending(self.running)
    }
}

/// Whether a [`Task`] is running, readable tracked or not.
#[derive(Debug, Clone, Copy)]
pub struct Pending(RwSignal<u32>);

impl Pending {
    /// Tracked.
    pub fn get(&self) -> bool {
        self.0.get() > 0
    }

    /// Not tracked.
    pub fn get_untracked(&self) -> bool {
        self.0.get_untracked() > 0
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use any_spawner::Executor;
    use futures::channel::oneshot;

    use super::*;

    /// Answers waiting to be sent, with what each request asked for.
    type Waiting<A, T> = Rc<RefCell<Vec<(A, oneshot::Sender<T>)>>>;

    /// A native executor for Leptos's effects and tasks, and an owner for the signals.
    fn reactive_runtime() -> Owner {
        // Set once per process; each test thread polls its own local pool.
        let _ = Executor::init_futures_executor();
        let owner = Owner::new();
        owner.set();
        owner
    }

    /// Runs every effect and task until none can make progress.
    fn settle() {
        Executor::poll_local();
    }

    /// The requests made so far, oldest first, taken out of `waiting`.
    fn take<A, T>(waiting: &Waiting<A, T>) -> Vec<(A, oneshot::Sender<T>)> {
        waiting.borrow_mut().drain(..).collect()
    }

    #[test]
    fn fetched_keeps_the_newest_answer_and_drops_one_overtaken() {
        let _owner = reactive_runtime();
        let query = RwSignal::new(1u32);
        let waiting: Waiting<u32, Result<u32, ApiError>> = Rc::default();
        let fetched = Fetched::new({
            let waiting = Rc::clone(&waiting);
            move || {
                let (answer, answered) = oneshot::channel();
                waiting.borrow_mut().push((query.get(), answer));
                async move { answered.await.unwrap_or(Err(ApiError::Network)) }
            }
        });
        settle();
        assert_eq!(
            fetched.get_untracked(),
            None,
            "nothing before the first answer"
        );

        query.set(2);
        settle();
        let mut asked = take(&waiting);
        assert_eq!(
            asked.iter().map(|(q, _)| *q).collect::<Vec<_>>(),
            [1, 2],
            "asked again when the query changed"
        );
        let (_, second) = asked.pop().unwrap();
        let (_, first) = asked.pop().unwrap();
        second.send(Ok(20)).unwrap();
        settle();
        assert_eq!(fetched.get_untracked(), Some(Ok(20)));
        first.send(Ok(10)).unwrap();
        settle();
        assert_eq!(
            fetched.get_untracked(),
            Some(Ok(20)),
            "the older answer, arriving last, is dropped"
        );

        query.set(3);
        settle();
        assert_eq!(
            fetched.get_untracked(),
            Some(Ok(20)),
            "the previous answer stays while reloading"
        );
        let (asked_for, third) = take(&waiting).pop().unwrap();
        assert_eq!(asked_for, 3);
        third.send(Err(ApiError::Network)).unwrap();
        settle();
        assert_eq!(
            fetched.get_untracked(),
            Some(Err(ApiError::Network)),
            "an error is an answer too"
        );
    }

    #[test]
    fn a_task_is_pending_until_all_its_work_has_ended() {
        let _owner = reactive_runtime();
        let waiting: Waiting<u32, ()> = Rc::default();
        let done = RwSignal::new(Vec::<u32>::new());
        let task = Task::new({
            let waiting = Rc::clone(&waiting);
            move |n: &u32| {
                let (finish, finished) = oneshot::channel();
                waiting.borrow_mut().push((*n, finish));
                let n = *n;
                async move {
                    let _ = finished.await;
                    done.update(|done| done.push(n));
                }
            }
        });
        assert!(!task.pending().get_untracked());

        task.dispatch(1);
        task.dispatch(2);
        settle();
        assert!(task.pending().get_untracked());
        let mut started = take(&waiting);
        assert_eq!(started.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2]);
        let (_, second) = started.pop().unwrap();
        let (_, first) = started.pop().unwrap();
        first.send(()).unwrap();
        settle();
        assert!(task.pending().get_untracked(), "one of two still running");
        second.send(()).unwrap();
        settle();
        assert!(!task.pending().get_untracked());
        assert_eq!(done.get_untracked(), [1, 2]);
    }
}
