//! A small element builder over web-sys, and the event listeners of what is on screen.
//!
//! Listeners are `Closure`s kept in lists rather than leaked, so a long session does not grow
//! without bound. There are two lists:
//! - the chrome's (header bar, status, study list): replaced by every full render;
//! - the current page's: kept until another page is shown. A page's DOM may be replaced while the
//!   participant is using it (a locale switch while a file chooser is open), and the replaced
//!   control's answer must still reach `PageState`, so its listeners outlive the render that made
//!   them.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, Node};

/// An event listener owned by Rust until what it belongs to is gone.
pub type Listener = Closure<dyn FnMut(Event)>;

/// The listeners of one page, by its `page_seq`.
#[derive(Default)]
struct PageListeners {
    page_seq: Option<u64>,
    listeners: Vec<Listener>,
}

/// Which list `listen` adds to.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Chrome,
    Page,
}

thread_local! {
    static CHROME_LISTENERS: RefCell<Vec<Listener>> = const { RefCell::new(Vec::new()) };
    static PAGE_LISTENERS: RefCell<PageListeners> = RefCell::new(PageListeners::default());
    // Outside a render, listeners are added by a page's own handlers (a redrawn table), so they
    // belong to the page.
    static SCOPE: Cell<Scope> = const { Cell::new(Scope::Page) };
    static NEXT_ID: RefCell<u64> = const { RefCell::new(0) };
}

pub fn document() -> Document {
    web_sys::window().and_then(|window| window.document()).expect("the UI runs in a window with a document")
}

/// Takes the chrome's listeners of the previous render, to drop once the old DOM is detached.
pub fn take_chrome_listeners() -> Vec<Listener> {
    CHROME_LISTENERS.with(|listeners| std::mem::take(&mut *listeners.borrow_mut()))
}

/// Takes the listeners of the page on screen when `page_seq` is another page (or none), to drop
/// once the old DOM is detached; listeners of page `page_seq` stay.
pub fn take_page_listeners_unless(page_seq: Option<u64>) -> Vec<Listener> {
    PAGE_LISTENERS.with(|page| {
        let mut page = page.borrow_mut();
        if page.page_seq == page_seq {
            return Vec::new();
        }
        page.page_seq = page_seq;
        std::mem::take(&mut page.listeners)
    })
}

/// Runs `render` with the listeners it adds counted as the chrome's.
pub fn in_chrome_scope<T>(render: impl FnOnce() -> T) -> T {
    in_scope(Scope::Chrome, render)
}

/// Runs `render` with the listeners it adds counted as the page's.
pub fn in_page_scope<T>(render: impl FnOnce() -> T) -> T {
    in_scope(Scope::Page, render)
}

fn in_scope<T>(scope: Scope, render: impl FnOnce() -> T) -> T {
    let outer = SCOPE.with(|current| current.replace(scope));
    let result = render();
    SCOPE.with(|current| current.set(outer));
    result
}

/// A fresh element id, for `for`/`aria-controls`/`aria-describedby` links.
pub fn fresh_id(prefix: &str) -> String {
    NEXT_ID.with(|next| {
        let mut next = next.borrow_mut();
        *next += 1;
        format!("{prefix}-{next}")
    })
}

/// An element under construction.
pub struct El(pub Element);

impl El {
    pub fn new(tag: &str) -> El {
        El(document().create_element(tag).expect("valid tag name"))
    }

    pub fn class(self, class: &str) -> El {
        let _ = self.0.class_list().add_1(class);
        self
    }

    pub fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// Sets `name` (a boolean attribute such as `disabled`) when `on`.
    pub fn flag(self, name: &str, on: bool) -> El {
        if on {
            let _ = self.0.set_attribute(name, "");
        }
        self
    }

    pub fn text(self, text: &str) -> El {
        let _ = self.0.append_with_str_1(text);
        self
    }

    pub fn child(self, child: impl AsRef<Node>) -> El {
        let _ = self.0.append_child(child.as_ref());
        self
    }

    /// Adds a listener; see [`listen`] for how long it lives.
    pub fn on(self, event: &str, handler: impl FnMut(Event) + 'static) -> El {
        listen(&self.0, event, handler);
        self
    }

    pub fn build(self) -> Element {
        self.0
    }

    pub fn html(&self) -> HtmlElement {
        self.0.clone().unchecked_into()
    }
}

impl AsRef<Node> for El {
    fn as_ref(&self) -> &Node {
        &self.0
    }
}

/// Adds a listener to `target`. In the chrome's scope it lives until the next full render; in the
/// page's, until another page is shown.
pub fn listen(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    match SCOPE.with(Cell::get) {
        Scope::Chrome => CHROME_LISTENERS.with(|listeners| listeners.borrow_mut().push(closure)),
        Scope::Page => PAGE_LISTENERS.with(|page| page.borrow_mut().listeners.push(closure)),
    }
}

/// Whether `element` is still in the document: false when a redraw replaced it while the
/// participant was using it (a file chooser that was open during the redraw answers its old input).
pub fn is_on_screen(element: &Element) -> bool {
    element.is_connected()
}

/// Removes every child of `element`.
pub fn clear(element: &Element) {
    element.set_text_content(None);
}

/// Disables every control under `element`, for a page that was answered or is being worked on.
pub fn disable_controls(element: &Element) {
    if let Ok(controls) = element.query_selector_all("button, input, select, textarea") {
        for control_idx in 0..controls.length() {
            if let Some(control) = controls.item(control_idx).and_then(|node| node.dyn_into::<Element>().ok()) {
                let _ = control.set_attribute("disabled", "");
            }
        }
    }
}

/// The `value` of the input or select behind an event.
pub fn event_value(event: &Event) -> String {
    let Some(target) = event.target() else { return String::new() };
    if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        return input.value();
    }
    if let Some(select) = target.dyn_ref::<web_sys::HtmlSelectElement>() {
        return select.value();
    }
    if let Some(area) = target.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        return area.value();
    }
    String::new()
}

/// The element an event happened on.
pub fn event_element(event: &Event) -> Option<Element> {
    event.target().and_then(|target| target.dyn_into::<Element>().ok())
}

/// Puts `files` into a file `input`, as if chosen there, so a redrawn input names the files it
/// had (a browser gives a new input none).
pub fn set_files(input: &web_sys::HtmlInputElement, files: &[web_sys::File]) {
    let Ok(transfer) = web_sys::DataTransfer::new() else { return };
    for file in files {
        let _ = transfer.items().add_with_file(file);
    }
    input.set_files(transfer.files().as_ref());
}

/// Whether the checkbox or radio behind an event is checked.
pub fn event_checked(event: &Event) -> bool {
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|input| input.checked())
}

/// A `<button type="button">` with a text label.
pub fn button(label: &str) -> El {
    El::new("button").attr("type", "button").text(label)
}

/// A labelled `<input>` wrapped in its `<label>`, so a click on the text focuses the control.
pub fn labelled_input(kind: &str, label: &str) -> (El, web_sys::HtmlInputElement) {
    let input = El::new("input").attr("type", kind);
    let input_element: web_sys::HtmlInputElement = input.0.clone().unchecked_into();
    let wrapper = El::new("label").class(&format!("field-{kind}")).child(input).child(El::new("span").text(label));
    (wrapper, input_element)
}
