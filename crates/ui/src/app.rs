//! The view's wiring: the session channel, the view's state, strings, the header bar and the status
//! views. Pages and prompts are drawn by `render`.
//!
//! The view keeps only what the participant is doing on the current page (search text, deleted
//! rows, chosen files, typed answers) in [`PageState`], so a locale switch or a repeated state
//! message redraws the page without losing it. Everything else comes from the session.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use port_engine::consent::{TableData, TableError};
use port_protocol::donation_body::DonationBody;
use port_protocol::message::{DeliveryState, DeliveryView, SentView};
use port_protocol::message::{
    PageDraft, SESSION_CHANNEL, SessionMessage, SessionStatus, SessionView, TableDraft, ViewMessage,
};
use port_protocol::worker_message::{
    BACKGROUND_TARGET, LocalDonationList, LocalDonationView, StudyActionReply, StudyListView, ToBackground,
};
use port_protocol::{FileRef, Page, Payload};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, Element, MessageEvent};

use crate::dom::{self, El, button, document};
use crate::logic::{self, DeletionLog, QuestionAnswer};
use crate::render;

/// The wasm entry point, run by `init()` in `extension/ui.js`.
#[wasm_bindgen(start)]
pub fn start() -> Result<(), JsValue> {
    let document = document();
    let root = document.get_element_by_id("app").ok_or_else(|| JsValue::from_str("ui.html has no #app"))?;
    let header = document.get_element_by_id("bar").ok_or_else(|| JsValue::from_str("ui.html has no #bar"))?;
    let live = document.get_element_by_id("live").ok_or_else(|| JsValue::from_str("ui.html has no #live"))?;
    let channel = BroadcastChannel::new(SESSION_CHANNEL)?;
    let browser_language = web_sys::window().and_then(|window| window.navigator().language());
    let app = Rc::new(RefCell::new(App {
        channel: channel.clone(),
        root,
        header,
        live,
        view: None,
        last_page: None,
        locale: logic::initial_locale(browser_language.as_deref()).to_owned(),
        browser_language,
        local_donations: Vec::new(),
        catalogs: logic::UI_CATALOGS
            .iter()
            .map(|(locale, source)| ((*locale).to_owned(), logic::parse_catalog(source)))
            .collect(),
        answered: None,
        page_state: PageState::default(),
        is_popup: is_popup(),
        announced: None,
        studies: None,
        show_studies: false,
        study_errors: Vec::new(),
        study_note: None,
        link_text: String::new(),
        mounted_page: RefCell::new(None),
    }));

    let app_for_messages = Rc::clone(&app);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // Other views' `ViewMessage`s arrive here too; they are not `SessionMessage`s and are skipped.
        let data = event.data();
        // The draft's `File`s travel beside the serde data; they are taken out before decoding.
        let files =
            Reflect::get(&data, &JsValue::from_str("files")).ok().and_then(|files| files.dyn_into::<Array>().ok());
        if files.is_some()
            && let Some(object) = data.dyn_ref::<Object>()
        {
            let _ = Reflect::delete_property(object, &JsValue::from_str("files"));
        }
        if let Ok(SessionMessage::State(view)) = serde_wasm_bindgen::from_value::<SessionMessage>(data) {
            on_state(&app_for_messages, view, files);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The channel lives as long as the page, and so does its listener.
    on_message.forget();

    // Asked before anything is drawn: a view that opens while a session runs shows its page as
    // soon as the answer comes (the warm reopen).
    post(&app, &ViewMessage::Attach, None);
    render_all(&app);
    // The channel does not wake a stopped service worker; a runtime message does, and it starts a
    // fresh session when the last one ended.
    let _ = send_to_background(&ToBackground::EnsureSession);
    refresh_studies(&app);
    refresh_local_donations(&app);
    Ok(())
}

/// The view's state. Owned by one `Rc<RefCell<_>>`; listeners hold clones of that `Rc`.
pub struct App {
    channel: BroadcastChannel,
    root: Element,
    header: Element,
    live: Element,
    /// The last state the session sent; `None` until the session answers `Attach`.
    pub view: Option<SessionView>,
    /// The last page shown with its `page_seq`, kept up while the session works.
    last_page: Option<(u64, Rc<Page>)>,
    /// The locale texts are resolved in: the session's once it has one, else the browser's.
    pub locale: String,
    /// `navigator.language`, told to the session while its locale is unset.
    browser_language: Option<String>,
    /// The donations the local bridge keeps, each with the Blob URL of its JSON download.
    local_donations: Vec<(LocalDonationView, String)>,
    catalogs: HashMap<String, HashMap<String, String>>,
    /// The `page_seq` this view answered; a page is answered once.
    answered: Option<u64>,
    pub page_state: PageState,
    is_popup: bool,
    /// What the live region last announced, as (status, page_seq), so a repeated state is silent.
    announced: Option<(String, u64)>,
    /// The study list from the background; `None` outside the extension or until it answers.
    studies: Option<StudyListView>,
    /// Whether the participant opened the study list from the header.
    show_studies: bool,
    /// The errors of the last study change (a study link's config errors, path first).
    study_errors: Vec<String>,
    study_note: Option<String>,
    /// What the participant typed in the study link field, kept across redraws.
    link_text: String,
    /// The page element on screen. A redraw that would draw it the same keeps it, so the live DOM
    /// the participant is using (an open file chooser, focus, a radio just ticked) is never
    /// replaced under them. Interior mutability: it is a cache that rendering, which only reads
    /// the state, fills.
    mounted_page: RefCell<Option<MountedPage>>,
}

/// A page as it was drawn, and everything its drawing depended on besides `PageState` (which the
/// page's own listeners keep in step with its DOM).
struct MountedPage {
    key: PageKey,
    element: Element,
    focus: Option<web_sys::HtmlElement>,
}

#[derive(Clone)]
struct PageKey {
    page_seq: u64,
    /// Compared by identity: `on_state` keeps the same `Rc` while the page's content stays the
    /// same (it compares the content once per state), so a redraw need not compare it again.
    page: Rc<Page>,
    enabled: bool,
    busy: bool,
    locale: String,
}

impl PartialEq for PageKey {
    fn eq(&self, other: &PageKey) -> bool {
        self.page_seq == other.page_seq
            && Rc::ptr_eq(&self.page, &other.page)
            && self.enabled == other.enabled
            && self.busy == other.busy
            && self.locale == other.locale
    }
}

/// What the participant did on the current page that the session does not know yet.
#[derive(Default)]
pub struct PageState {
    pub page_seq: u64,
    /// Consent tables by `"<prompt idx>/<table idx>"`.
    pub tables: HashMap<String, TableState>,
    pub questionnaires: HashMap<usize, Vec<Option<QuestionAnswer>>>,
    pub radios: HashMap<usize, usize>,
    pub files: HashMap<usize, Vec<web_sys::File>>,
}

/// One consent table as the participant sees it.
pub struct TableState {
    pub data: Result<TableData, TableError>,
    pub log: DeletionLog,
    pub selected: BTreeSet<usize>,
    pub query: String,
    pub page_size: usize,
    pub page_idx: usize,
    pub folded: bool,
    pub deletable: bool,
}

impl App {
    /// The UI's own string `key` in the current locale: from its compiled `_locales` catalog, else
    /// from the English one, else the key itself.
    pub fn t(&self, key: &str) -> String {
        self.tf(key, &[])
    }

    /// [`App::t`] with `$1`… substitutions. The UI's keys carry the prefix `ui_` in `_locales`, so
    /// they cannot collide with other contexts' keys.
    pub fn tf(&self, key: &str, substitutions: &[&str]) -> String {
        let key = format!("ui_{key}");
        let catalog_key = key.to_lowercase();
        // As `chrome.i18n` does: the manifest's `default_locale` (en) stands in for a missing string.
        let message = [logic::ui_locale(&self.locale), "en"]
            .into_iter()
            .find_map(|locale| self.catalogs.get(locale)?.get(&catalog_key));
        match message {
            Some(message) => logic::substitute(message, substitutions),
            None => key,
        }
    }

    pub fn is_answered(&self, page_seq: u64) -> bool {
        self.answered == Some(page_seq)
    }
}

/// A state from the session. The session's draft of the page is applied when this view did not
/// show the page yet (it just opened, or the page is new); afterwards the view's own edits win, so
/// a state that differs only in its draft does not redraw.
fn on_state(app: &Rc<RefCell<App>>, view: SessionView, files: Option<Array>) {
    let (tell_browser_locale, status_changed) = {
        let mut state = app.borrow_mut();
        let without_draft = |view: &SessionView| SessionView { draft: None, ..view.clone() };
        if state.view.as_ref().map(without_draft) == Some(without_draft(&view)) {
            return;
        }
        let status_changed = state.view.as_ref().map(|old| status_name(&old.status)) != Some(status_name(&view.status));
        let tell_browser_locale = match &view.locale {
            Some(locale) => {
                state.locale = locale.clone();
                None
            }
            None => state.browser_language.clone(),
        };
        if matches!(view.status, SessionStatus::Booting { .. } | SessionStatus::Idle) {
            // A new session numbers its pages from the start again: nothing this view did on the
            // last session's pages may carry over to a page with the same number.
            state.answered = None;
            state.page_state = PageState::default();
            state.last_page = None;
            state.mounted_page.replace(None);
        }
        let new_page = state.page_state.page_seq != view.page_seq;
        if new_page {
            state.page_state = PageState { page_seq: view.page_seq, ..PageState::default() };
        }
        if let Some(page) = &view.page {
            // The same page again keeps its `Rc`, so comparing it with the mounted page is cheap.
            let unchanged =
                state.last_page.as_ref().is_some_and(|(page_seq, last)| *page_seq == view.page_seq && **last == *page);
            if !unchanged {
                let page = Rc::new(page.clone());
                crate::render::prepare_tables(&mut state.page_state, &page);
                state.last_page = Some((view.page_seq, page));
            }
        }
        if new_page && let Some(draft) = &view.draft {
            apply_draft(&mut state.page_state, draft, files.as_ref());
        }
        state.view = Some(view);
        (tell_browser_locale, status_changed)
    };
    if let Some(browser_locale) = tell_browser_locale {
        post(app, &ViewMessage::BrowserLocale { browser_locale }, None);
    }
    let ended = matches!(
        app.borrow().view.as_ref().map(|view| &view.status),
        Some(SessionStatus::Finished { .. } | SessionStatus::Idle)
    );
    if status_changed && ended {
        refresh_local_donations(app);
    }
    render_all(app);
}

/// Restores what the participant did on the page from the session's draft. `files` is the state
/// message's `files` array, which the draft's locators index.
fn apply_draft(page_state: &mut PageState, draft: &PageDraft, files: Option<&Array>) {
    for (key, table_draft) in &draft.tables {
        if let Some(table) = page_state.tables.get_mut(key) {
            table.log = DeletionLog::from_batches(&table_draft.deleted);
            table.query = table_draft.search.clone();
            table.page_idx = table_draft.page_idx;
            if let Some(folded) = table_draft.folded {
                table.folded = folded;
            }
            if let Some(page_size) = table_draft.page_size {
                table.page_size = page_size;
            }
        }
    }
    for (prompt_key, item_idx) in &draft.radios {
        if let Ok(prompt_idx) = prompt_key.parse() {
            page_state.radios.insert(prompt_idx, *item_idx);
        }
    }
    for (prompt_key, answers) in &draft.questionnaires {
        if let Ok(prompt_idx) = prompt_key.parse() {
            let answers = answers.iter().map(|answer| answer.as_ref().map(QuestionAnswer::from_draft)).collect();
            page_state.questionnaires.insert(prompt_idx, answers);
        }
    }
    let Some(files) = files else { return };
    for (prompt_key, file_refs) in &draft.files {
        let Ok(prompt_idx) = prompt_key.parse() else { continue };
        let chosen: Vec<web_sys::File> = file_refs
            .iter()
            .filter_map(|file_ref| file_ref.locator.parse::<u32>().ok())
            .filter_map(|file_idx| files.get(file_idx).dyn_into::<web_sys::File>().ok())
            .collect();
        if chosen.len() == file_refs.len() {
            page_state.files.insert(prompt_idx, chosen);
        }
    }
}

/// Tells the session what the participant did on the page so far, so that a view that opens
/// after this one closed shows it. Called after every change; nothing is sent once the page was
/// answered.
pub fn save_draft(app: &Rc<RefCell<App>>) {
    let (page_seq, draft, files) = {
        let state = app.borrow();
        let page_seq = state.page_state.page_seq;
        let awaiting = state.view.as_ref().is_some_and(|view| view.status == SessionStatus::AwaitingParticipant);
        if !awaiting || state.is_answered(page_seq) {
            return;
        }
        let page_state = &state.page_state;
        let mut draft = PageDraft::default();
        for (key, table) in &page_state.tables {
            draft.tables.insert(
                key.clone(),
                TableDraft {
                    deleted: table.log.batches().to_vec(),
                    search: table.query.clone(),
                    folded: Some(table.folded),
                    page_idx: table.page_idx,
                    page_size: Some(table.page_size),
                },
            );
        }
        for (prompt_idx, item_idx) in &page_state.radios {
            draft.radios.insert(prompt_idx.to_string(), *item_idx);
        }
        for (prompt_idx, answers) in &page_state.questionnaires {
            let answers = answers.iter().map(|answer| answer.as_ref().map(QuestionAnswer::to_draft)).collect();
            draft.questionnaires.insert(prompt_idx.to_string(), answers);
        }
        let files = Array::new();
        for (prompt_idx, chosen) in &page_state.files {
            let mut file_refs = Vec::new();
            for file in chosen {
                file_refs.push(FileRef {
                    name: file.name(),
                    size: file.size() as u64,
                    locator: files.length().to_string(),
                });
                files.push(file);
            }
            draft.files.insert(prompt_idx.to_string(), file_refs);
        }
        (page_seq, draft, files)
    };
    post(app, &ViewMessage::Draft { page_seq, draft }, Some(files));
}

/// Sends a message to the session. `files` become the message's `files` property, next to the serde
/// data, because a `File` only survives the channel as itself (structured clone).
pub fn post(app: &Rc<RefCell<App>>, message: &ViewMessage, files: Option<Array>) {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let Ok(value) = message.serialize(&serializer) else {
        web_sys::console::error_1(&JsValue::from_str("port-ui: a view message did not serialise"));
        return;
    };
    if let Some(files) = files {
        let _ = Reflect::set(&value, &JsValue::from_str("files"), &files);
    }
    if let Err(error) = app.borrow().channel.post_message(&value) {
        web_sys::console::error_2(&JsValue::from_str("port-ui: posting to the session failed"), &error);
    }
}

/// Answers page `page_seq` once: later calls for the same page do nothing. The page's controls are
/// disabled at once; the session's next state redraws the view.
pub fn answer(app: &Rc<RefCell<App>>, page_seq: u64, payload: Payload, files: Option<Array>) {
    {
        let mut state = app.borrow_mut();
        if state.answered == Some(page_seq) {
            return;
        }
        state.answered = Some(page_seq);
    }
    post(app, &ViewMessage::Answer { page_seq, payload }, files);
    let (root, sent) = {
        let state = app.borrow();
        (state.root.clone(), state.t("answerSent"))
    };
    dom::disable_controls(&root);
    announce(app, &sent);
}

/// Redraws the page itself, after an answer reached `PageState` through a control that is no
/// longer on screen: the page on screen does not show it yet.
pub fn redraw_page(app: &Rc<RefCell<App>>) {
    app.borrow().mounted_page.replace(None);
    render_all(app);
}

/// Records that the participant changed their answer through `control`: the session gets the
/// draft, and when a redraw replaced `control` while they used it (a file chooser open during a
/// locale switch), the page is redrawn to show the answer.
pub fn answer_changed(app: &Rc<RefCell<App>>, control: &Element) {
    save_draft(app);
    if !dom::is_on_screen(control) {
        redraw_page(app);
    }
}

/// Says `text` through the aria-live region.
pub fn announce(app: &Rc<RefCell<App>>, text: &str) {
    let live = app.borrow().live.clone();
    // Clearing first makes screen readers repeat a text that did not change.
    live.set_text_content(None);
    live.set_text_content(Some(text));
}

/// Redraws the header bar and the main area from the state. The page itself is redrawn only when
/// what it shows changed (see [`App::mounted_page`]).
pub fn render_all(app: &Rc<RefCell<App>>) {
    // Taken before drawing: drawing moves a kept page element into the new main area, which
    // blurs whatever had focus in it.
    let focused = document().active_element();
    // The old listeners are dropped only after the old DOM is gone (see `dom`).
    let old_listeners = dom::take_chrome_listeners();
    let page_seq = app.borrow().view.as_ref().map(|view| view.page_seq);
    let old_page_listeners = dom::take_page_listeners_unless(page_seq);
    let (header, root, header_content, main_content, focus, announcement) = dom::in_chrome_scope(|| {
        let state = app.borrow();
        let header_content = render_header(app, &state);
        let (main_content, focus) = render_main(app, &state);
        let announcement = status_announcement(&state);
        (state.header.clone(), state.root.clone(), header_content, main_content, focus, announcement)
    });
    dom::clear(&header);
    let _ = header.append_child(&header_content);
    dom::clear(&root);
    let _ = root.append_child(&main_content);
    // The participant's place (a keyboard or screen reader user's) survives the redraw when the
    // element that had focus is still on screen.
    if let Some(focused) = focused.filter(|element| element.is_connected())
        && document().active_element().as_ref() != Some(&focused)
        && let Some(focused) = focused.dyn_ref::<web_sys::HtmlElement>()
    {
        let _ = focused.focus();
    }
    drop(old_listeners);
    drop(old_page_listeners);
    let locale = app.borrow().locale.clone();
    let _ = document().document_element().map(|html| html.set_attribute("lang", logic::ui_locale(&locale)));
    if let Some((key, text)) = announcement {
        let is_new = app.borrow().announced.as_ref() != Some(&key);
        if is_new {
            app.borrow_mut().announced = Some(key);
            announce(app, &text);
            if let Some(focus) = focus {
                let _ = focus.focus();
            }
        }
    }
}

fn status_name(status: &SessionStatus) -> &'static str {
    match status {
        SessionStatus::Idle => "idle",
        SessionStatus::Booting { .. } => "booting",
        SessionStatus::AwaitingParticipant => "awaiting",
        SessionStatus::Working => "working",
        SessionStatus::Finished { .. } => "finished",
        SessionStatus::Crashed => "crashed",
    }
}

fn status_announcement(state: &App) -> Option<((String, u64), String)> {
    let view = state.view.as_ref()?;
    let text = match &view.status {
        SessionStatus::Idle => state.t("idleTitle"),
        SessionStatus::Booting { step, step_idx, n_steps } => {
            state.tf("bootingStep", &[&step_idx.to_string(), &n_steps.to_string(), step])
        }
        SessionStatus::AwaitingParticipant => state.t("newPage"),
        SessionStatus::Working => state.t("working"),
        SessionStatus::Finished { .. } => state.t("finishedTitle"),
        SessionStatus::Crashed => state.t("crashedTitle"),
    };
    let detail = match &view.status {
        SessionStatus::Booting { step_idx, .. } => format!("booting-{step_idx}"),
        status => status_name(status).to_owned(),
    };
    Some(((detail, view.page_seq), text))
}

fn render_header(app: &Rc<RefCell<App>>, state: &App) -> Element {
    let mut bar = El::new("div").class("bar-inner");
    let study_text = match state.view.as_ref().and_then(|view| view.study.as_ref()) {
        Some(study) => state.tf("studyLabel", &[&study.title, &study.version]),
        None => state.t("appName"),
    };
    bar = bar.child(El::new("span").class("study-label").text(&study_text));

    let select_id = dom::fresh_id("locale");
    let current = logic::ui_locale(&state.locale);
    let mut select = El::new("select").attr("id", &select_id);
    for locale in logic::UI_LOCALES {
        let label = state.t(&format!("locale_{locale}"));
        select = select.child(El::new("option").attr("value", locale).flag("selected", locale == current).text(&label));
    }
    let app_for_locale = Rc::clone(app);
    let select = select.on("change", move |event| {
        let locale = dom::event_value(&event);
        app_for_locale.borrow_mut().locale = locale.clone();
        post(&app_for_locale, &ViewMessage::SetLocale { locale }, None);
        render_all(&app_for_locale);
    });
    bar = bar.child(
        El::new("span")
            .class("locale-switch")
            .child(El::new("label").attr("for", &select_id).text(&state.t("language")))
            .child(select),
    );

    if state.studies.is_some() {
        let app_for_toggle = Rc::clone(app);
        bar = bar.child(
            button(&state.t("studies"))
                .class("secondary")
                .attr("aria-expanded", if state.show_studies { "true" } else { "false" })
                .on("click", move |_| {
                    let shown = app_for_toggle.borrow().show_studies;
                    app_for_toggle.borrow_mut().show_studies = !shown;
                    refresh_studies(&app_for_toggle);
                    refresh_local_donations(&app_for_toggle);
                    render_all(&app_for_toggle);
                }),
        );
    }
    if state.is_popup {
        bar = bar.child(
            button(&state.t("openInTab"))
                .class("secondary")
                .attr("title", &state.t("openInTabHint"))
                .on("click", |_| open_in_tab()),
        );
    }
    bar.build()
}

/// Asks the background for the donations the local bridge keeps, and makes a download URL for each.
fn refresh_local_donations(app: &Rc<RefCell<App>>) {
    let app = Rc::clone(app);
    request(&ToBackground::ListLocalDonations, move |reply| {
        let Ok(list) = serde_wasm_bindgen::from_value::<LocalDonationList>(reply) else { return };
        let unchanged = {
            let state = app.borrow();
            state.local_donations.len() == list.donations.len()
                && state.local_donations.iter().zip(&list.donations).all(|((old, _), new)| old == new)
        };
        if unchanged {
            return;
        }
        let app = Rc::clone(&app);
        wasm_bindgen_futures::spawn_local(async move {
            let mut donations: Vec<(LocalDonationView, String)> = Vec::new();
            for donation in list.donations {
                if let Some(url) = download_url(&donation).await {
                    donations.push((donation, url));
                }
            }
            let old = std::mem::replace(&mut app.borrow_mut().local_donations, donations);
            for (_, url) in old {
                let _ = web_sys::Url::revoke_object_url(&url);
            }
            render_all(&app);
        });
    });
}

/// A Blob URL of the donation's JSON, verbatim, as `application/json`: the kept body itself, or a
/// new Blob of a record an earlier version wrote inline.
async fn download_url(donation: &LocalDonationView) -> Option<String> {
    let blob = match &donation.body {
        DonationBody::Stored { body } => {
            port_web::donation_bodies::blob(&donation.session_id, &donation.key, body).await.ok()?
        }
        DonationBody::Inline { json_string } => {
            let parts = Array::of1(&JsValue::from_str(json_string));
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/json");
            web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?
        }
    };
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The donations kept on this device, each with a download link (`<key>.json`); `None` when
/// there are none.
fn render_local_donations(state: &App) -> Option<El> {
    if state.local_donations.is_empty() {
        return None;
    }
    let mut list = El::new("ul").class("local-donations");
    for (donation, url) in &state.local_donations {
        let file_name = format!("{}.json", donation.key);
        list = list.child(
            El::new("li").attr("data-donation", &donation.key).child(
                El::new("a")
                    .attr("href", url)
                    .attr("download", &file_name)
                    .text(&state.tf("localDonationDownload", &[&file_name])),
            ),
        );
    }
    Some(
        El::new("section")
            .class("local-donations")
            .attr("aria-label", &state.t("localDonationsTitle"))
            .child(El::new("h2").text(&state.t("localDonationsTitle")))
            .child(list),
    )
}

/// The main area: the status view, the session's deliveries, and the study list when it is wanted.
fn render_main(app: &Rc<RefCell<App>>, state: &App) -> (Element, Option<web_sys::HtmlElement>) {
    let (status, focus) = render_status(app, state);
    let mut main = El::new("div").child(status);
    if let Some(view) = state.view.as_ref().filter(|view| !view.deliveries.is_empty()) {
        main = main.child(render_deliveries(state, &view.deliveries));
    }
    let ended = match state.view.as_ref().map(|view| &view.status) {
        None | Some(SessionStatus::Idle | SessionStatus::Finished { .. } | SessionStatus::Crashed) => true,
        Some(_) => false,
    };
    if state.studies.is_some() && (state.show_studies || ended) {
        main = main.child(render_studies(app, state));
    }
    (main.build(), focus)
}

/// Every donation and log the finished session handed to the host bridge: the participant can
/// check all that left.
fn render_sent(state: &App, sent: &SentView) -> El {
    let mut section = El::new("section")
        .class("sent")
        .attr("aria-label", &state.t("sentTitle"))
        .child(El::new("h2").text(&state.t("sentTitle")));
    if sent.donations.is_empty() && sent.logs.is_empty() {
        return section.child(El::new("p").text(&state.t("sentNothing")));
    }
    let mut donations = El::new("ul");
    for donation in &sent.donations {
        let text = state.tf("sentDonation", &[&donation.key, &donation.n_bytes.to_string()]);
        donations = donations.child(El::new("li").attr("data-sent-donation", &donation.key).text(&text));
    }
    section = section.child(donations);
    if !sent.logs.is_empty() {
        let mut logs = El::new("ul");
        for log in &sent.logs {
            let level = serde_json::to_value(log.level).ok().and_then(|level| level.as_str().map(str::to_owned));
            logs = logs.child(El::new("li").text(&format!("{}: {}", level.unwrap_or_default(), log.message)));
        }
        let summary = El::new("summary").text(&state.tf("sentLogs", &[&sent.logs.len().to_string()]));
        section = section.child(El::new("details").child(summary).child(logs));
    }
    section
}

fn render_deliveries(state: &App, deliveries: &[DeliveryView]) -> El {
    let mut list = El::new("ul");
    for delivery in deliveries {
        let state_text = match delivery.state {
            DeliveryState::Pending => state.t("deliveryPending"),
            DeliveryState::Delivered => state.t("deliveryDelivered"),
            DeliveryState::Rejected if delivery.status == Some(413) => state.t("deliveryTooBig"),
            DeliveryState::Rejected => state.t("deliveryRejected"),
        };
        let status = delivery.status.map(|status| format!(" (HTTP {status})")).unwrap_or_default();
        list = list.child(
            El::new("li")
                .attr("data-delivery", &delivery.key)
                .attr(
                    "data-state",
                    match delivery.state {
                        DeliveryState::Pending => "pending",
                        DeliveryState::Delivered => "delivered",
                        DeliveryState::Rejected => "rejected",
                    },
                )
                .text(&format!("{}: {state_text}{status}", delivery.key)),
        );
    }
    El::new("section")
        .class("deliveries")
        .attr("aria-label", &state.t("deliveriesTitle"))
        .child(El::new("h2").text(&state.t("deliveriesTitle")))
        .child(list)
}

fn render_studies(app: &Rc<RefCell<App>>, state: &App) -> El {
    let Some(list) = state.studies.as_ref() else { return El::new("div") };
    let mut items = El::new("ul").class("studies");
    for study in &list.studies {
        let title = study.title.resolve(&state.locale).to_owned();
        let running = list.running.as_deref() == Some(study.id.as_str());
        let mut item = El::new("li")
            .attr("data-study", &study.id)
            .child(El::new("span").text(&state.tf("studyLabel", &[&title, &study.version])));
        if running {
            item = item.text(" ").child(El::new("strong").text(&state.t("studyRunning")));
        }
        let app_for_start = Rc::clone(app);
        let study_id = study.id.clone();
        item = item.text(" ").child(
            button(&state.t("studyStart")).attr("aria-label", &state.tf("studyStartLabel", &[&title])).on(
                "click",
                move |_| {
                    app_for_start.borrow_mut().show_studies = false;
                    let app_for_attach = Rc::clone(&app_for_start);
                    request(&ToBackground::StartStudy { study_id: study_id.clone() }, move |_| {
                        post(&app_for_attach, &ViewMessage::Attach, None);
                        refresh_studies(&app_for_attach);
                    });
                },
            ),
        );
        if study.link.is_some() {
            let app_for_update = Rc::clone(app);
            let study_id = study.id.clone();
            item = item.text(" ").child(
                button(&state.t("studyUpdate"))
                    .class("secondary")
                    .attr("aria-label", &format!("{} {title}", state.t("studyUpdate")))
                    .on("click", move |_| {
                        study_action(&app_for_update, ToBackground::UpdateStudy { study_id: study_id.clone() })
                    }),
            );
        }
        if study.removable {
            let app_for_remove = Rc::clone(app);
            let study_id = study.id.clone();
            item = item.text(" ").child(
                button(&state.t("studyRemove"))
                    .class("secondary")
                    .attr("aria-label", &format!("{} {title}", state.t("studyRemove")))
                    .on("click", move |_| {
                        study_action(&app_for_remove, ToBackground::RemoveStudy { study_id: study_id.clone() })
                    }),
            );
        }
        items = items.child(item);
    }
    let (link_input, input_element) = dom::labelled_input("url", &state.t("studyLinkLabel"));
    input_element.set_value(&state.link_text);
    let app_for_typing = Rc::clone(app);
    dom::listen(&input_element, "input", move |event| {
        app_for_typing.borrow_mut().link_text = dom::event_value(&event);
    });
    let app_for_add = Rc::clone(app);
    let add = button(&state.t("studyLinkAdd")).on("click", move |_| {
        let url = input_element.value().trim().to_owned();
        if !url.is_empty() {
            study_action(&app_for_add, ToBackground::AddStudyLink { url });
        }
    });
    let mut section = El::new("section")
        .class("study-list")
        .attr("aria-label", &state.t("studiesTitle"))
        .child(El::new("h2").text(&state.t("studiesTitle")))
        .child(items);
    for problem in &list.problems {
        section = section.child(El::new("p").class("muted").text(problem));
    }
    if let Some(donations) = render_local_donations(state) {
        section = section.child(donations);
    }
    section = section.child(El::new("div").class("study-link").child(link_input).child(add));
    if let Some(note) = &state.study_note {
        section = section.child(El::new("p").attr("role", "status").text(note));
    }
    if !state.study_errors.is_empty() {
        let mut errors = El::new("ul");
        for error in &state.study_errors {
            errors = errors.child(El::new("li").text(error));
        }
        section = section.child(
            El::new("div")
                .class("alert")
                .attr("role", "alert")
                .child(El::new("p").text(&state.t("studyErrors")))
                .child(errors),
        );
    }
    section
}

/// Sends a study-store change and shows its errors, or a note, then the new list.
fn study_action(app: &Rc<RefCell<App>>, message: ToBackground) {
    let app = Rc::clone(app);
    let adding = matches!(message, ToBackground::AddStudyLink { .. });
    request(&message, move |reply| {
        let reply: StudyActionReply = serde_wasm_bindgen::from_value(reply).unwrap_or_else(|_| StudyActionReply {
            study_id: None,
            errors: vec!["the extension did not answer".into()],
        });
        {
            let mut state = app.borrow_mut();
            state.study_note = match (&reply.study_id, adding && reply.errors.is_empty()) {
                (Some(study_id), true) => Some(state.tf("studyLinkAdded", &[study_id])),
                _ => None,
            };
            state.study_errors = reply.errors;
        }
        refresh_studies(&app);
        render_all(&app);
    });
}

/// Asks the background for the study list and redraws with it.
fn refresh_studies(app: &Rc<RefCell<App>>) {
    let app = Rc::clone(app);
    request(&ToBackground::ListStudies, move |reply| {
        if let Ok(list) = serde_wasm_bindgen::from_value::<StudyListView>(reply) {
            app.borrow_mut().studies = Some(list);
            render_all(&app);
        }
    });
}

/// Sends a [`ToBackground`] and calls `on_reply` with the reply (not at all outside the extension).
fn request(message: &ToBackground, on_reply: impl FnOnce(JsValue) + 'static) {
    let sent = send_to_background(message);
    if sent.is_undefined() {
        return;
    }
    let on_fulfilled: JsValue = Closure::once_into_js(on_reply);
    let on_rejected: JsValue = Closure::once_into_js(|_: JsValue| {});
    promise_then(&sent, &on_fulfilled, Some(&on_rejected));
}

/// The status view, and the element to focus when it is new.
fn render_status(app: &Rc<RefCell<App>>, state: &App) -> (Element, Option<web_sys::HtmlElement>) {
    let Some(view) = state.view.as_ref() else {
        // No session answered `Attach`: either it is starting, or no offscreen document exists.
        let note = El::new("section")
            .class("status")
            .child(El::new("div").class("spinner").attr("aria-hidden", "true"))
            .child(El::new("p").text(&state.t("connecting")))
            .child(El::new("p").class("muted").text(&state.t("noSessionHint")))
            .child(start_button(app, state));
        return (note.build(), None);
    };
    match &view.status {
        SessionStatus::Idle => {
            let heading = El::new("h1").attr("tabindex", "-1").text(&state.t("idleTitle"));
            let focus = heading.html();
            let mut section = El::new("section")
                .class("status")
                .child(heading)
                .child(El::new("p").text(&state.t("idleBody")))
                .child(start_button(app, state));
            if let Some(donations) = render_local_donations(state) {
                section = section.child(donations);
            }
            (section.build(), Some(focus))
        }
        SessionStatus::Booting { step, step_idx, n_steps } => {
            let heading = El::new("h1").attr("tabindex", "-1").text(&state.t("bootingTitle"));
            let focus = heading.html();
            let label_id = dom::fresh_id("boot");
            let step_text = state.tf("bootingStep", &[&step_idx.to_string(), &n_steps.to_string(), step]);
            let section = El::new("section")
                .class("status")
                .child(heading)
                .child(El::new("p").attr("id", &label_id).text(&step_text))
                .child(
                    El::new("progress")
                        .attr("max", &n_steps.max(&1).to_string())
                        .attr("value", &step_idx.min(n_steps).to_string())
                        .attr("aria-labelledby", &label_id),
                );
            (section.build(), Some(focus))
        }
        SessionStatus::AwaitingParticipant | SessionStatus::Crashed => {
            let crashed = view.status == SessionStatus::Crashed;
            let mut section = El::new("div");
            if crashed {
                section = section.child(
                    El::new("div")
                        .class("alert")
                        .attr("role", "alert")
                        .child(El::new("strong").text(&state.t("crashedTitle")))
                        .text(" ")
                        .text(&state.t("crashedBody")),
                );
            }
            if view.extension_page {
                // Outside the page element, which is all a study's page can draw into.
                section = section
                    .child(El::new("p").class("extension-page").attr("role", "note").text(&state.t("extensionPage")));
            }
            let page = view.page.as_ref().map(|_| state.last_page.clone()).unwrap_or(None);
            match page {
                Some((page_seq, page)) => {
                    let enabled = !state.is_answered(page_seq);
                    let (page_element, focus) = mount_page(app, state, page_seq, page, enabled, false);
                    (section.child(page_element).build(), focus)
                }
                None if crashed => (section.build(), None),
                None => (section.child(El::new("p").text(&state.t("connecting"))).build(), None),
            }
        }
        SessionStatus::Working => {
            let note = El::new("p")
                .class("working")
                .attr("role", "status")
                .child(El::new("span").class("spinner").attr("aria-hidden", "true"))
                .text(&state.t("working"));
            let mut section = El::new("div").child(note);
            if let Some((page_seq, page)) = state.last_page.clone() {
                let (page_element, _) = mount_page(app, state, page_seq, page, false, true);
                section = section.child(page_element);
            }
            (section.build(), None)
        }
        SessionStatus::Finished { code } => {
            let heading = El::new("h1").attr("tabindex", "-1").text(&state.t("finishedTitle"));
            let focus = heading.html();
            let mut section =
                El::new("section").class("status").child(heading).child(El::new("p").text(&state.t("finishedBody")));
            if *code != 0 {
                section =
                    section.child(El::new("p").class("muted").text(&state.tf("finishedCode", &[&code.to_string()])));
            }
            if let Some(sent) = &view.sent {
                section = section.child(render_sent(state, sent));
            }
            if let Some(donations) = render_local_donations(state) {
                section = section.child(donations);
            }
            (section.build(), Some(focus))
        }
    }
}

/// The page element for `page_seq`: the one on screen when it would be drawn the same, else a new
/// one. `busy`: the session works on the answer, so the page stays visible but dimmed and disabled.
fn mount_page(
    app: &Rc<RefCell<App>>,
    state: &App,
    page_seq: u64,
    page: Rc<Page>,
    enabled: bool,
    busy: bool,
) -> (Element, Option<web_sys::HtmlElement>) {
    let key = PageKey { page_seq, page: Rc::clone(&page), enabled, busy, locale: state.locale.clone() };
    if let Some(mounted) = state.mounted_page.borrow().as_ref().filter(|mounted| mounted.key == key) {
        return (mounted.element.clone(), mounted.focus.clone());
    }
    let (element, focus) = dom::in_page_scope(|| render::page(app, state, page_seq, page, enabled));
    if busy {
        let _ = element.class_list().add_1("busy");
        let _ = element.set_attribute("aria-busy", "true");
    }
    state.mounted_page.replace(Some(MountedPage { key, element: element.clone(), focus: focus.clone() }));
    (element, focus)
}

/// "Start the demo study": asks the background for a session (`ToBackground::EnsureSession`), which
/// creates the offscreen document and starts the default study, then attaches to it.
///
/// FIXME: `EnsureSession` does not say what happens when the offscreen document exists but is idle
/// (a study finished); if it does not restart the study, the button only re-attaches.
fn start_button(app: &Rc<RefCell<App>>, state: &App) -> El {
    let app = Rc::clone(app);
    button(&state.t("startDemo")).class("primary").on("click", move |event| {
        if let Some(button) = event.current_target().and_then(|target| target.dyn_into::<Element>().ok()) {
            let _ = button.set_attribute("disabled", "");
        }
        let starting = app.borrow().t("starting");
        announce(&app, &starting);
        let sent = send_to_background(&ToBackground::EnsureSession);
        let app_for_attach = Rc::clone(&app);
        let attach: JsValue =
            Closure::once_into_js(move |_: JsValue| post(&app_for_attach, &ViewMessage::Attach, None));
        let attach_anyway = attach.clone();
        promise_then(&sent, &attach, Some(&attach_anyway));
    })
}

/// `chrome.runtime.sendMessage` of a [`ToBackground`] with its `target` envelope field. Returns the
/// reply's promise (`undefined` outside the extension).
fn send_to_background(message: &ToBackground) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let Ok(value) = message.serialize(&serializer) else { return JsValue::UNDEFINED };
    port_web::set(&value, "target", &JsValue::from_str(BACKGROUND_TARGET));
    port_web::chrome()
        .and_then(|chrome| port_web::call_path(&chrome, &["runtime", "sendMessage"], &[value]))
        .unwrap_or(JsValue::UNDEFINED)
}

/// `promise.then(on_fulfilled, on_rejected)` through the untyped JS method, so a callback may
/// return the next promise (js-sys' typed `then` takes callbacks without a result).
fn promise_then(promise: &JsValue, on_fulfilled: &JsValue, on_rejected: Option<&JsValue>) -> JsValue {
    let Some(then) =
        Reflect::get(promise, &JsValue::from_str("then")).ok().and_then(|then| then.dyn_into::<Function>().ok())
    else {
        return JsValue::UNDEFINED;
    };
    let result = match on_rejected {
        Some(on_rejected) => then.call2(promise, on_fulfilled, on_rejected),
        None => then.call1(promise, on_fulfilled),
    };
    result.unwrap_or(JsValue::UNDEFINED)
}

/// Whether this view is the toolbar popup: `chrome.extension.getViews({type: "popup"})` lists it.
/// `?view=popup` in the URL forces it, for manifests that mark the popup that way and for tests.
fn is_popup() -> bool {
    let search = web_sys::window().and_then(|window| window.location().search().ok()).unwrap_or_default();
    if search.contains("view=popup") {
        return true;
    }
    let Some(window) = web_sys::window() else { return false };
    let filter = port_web::new_object();
    port_web::set(&filter, "type", &JsValue::from_str("popup"));
    port_web::chrome()
        .and_then(|chrome| port_web::call_path(&chrome, &["extension", "getViews"], &[filter]))
        .ok()
        .and_then(|views| views.dyn_into::<Array>().ok())
        .is_some_and(|views| views.includes(&window, 0))
}

/// Opens `ui.html` in a tab and closes the popup: some platforms close a popup when a file chooser
/// opens, which would lose the choice.
fn open_in_tab() {
    if port_web::tabs::open_extension_page("ui.html").is_err() {
        return;
    }
    if let Some(window) = web_sys::window() {
        let _ = window.close();
    }
}
