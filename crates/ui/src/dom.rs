//! A small element builder over web-sys, and the event listeners of the current render.
//!
//! Listeners are `Closure`s kept in a per-render list rather than leaked: a full re-render drops
//! the old DOM and then the old closures, so a long session does not grow without bound.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, Node};

/// An event listener owned by Rust until the render that created it is replaced.
pub type Listener = Closure<dyn FnMut(Event)>;

thread_local! {
    static LISTENERS: RefCell<Vec<Listener>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: RefCell<u64> = const { RefCell::new(0) };
}

pub fn document() -> Document {
    web_sys::window().and_then(|window| window.document()).expect("the UI runs in a window with a document")
}

/// Takes the listeners of the previous render, to drop once the old DOM is detached.
pub fn take_listeners() -> Vec<Listener> {
    LISTENERS.with(|listeners| std::mem::take(&mut *listeners.borrow_mut()))
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

    /// Adds a listener that lives until the next full render.
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

/// Adds a listener to `target` that lives until the next full render.
pub fn listen(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    LISTENERS.with(|listeners| listeners.borrow_mut().push(closure));
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
