//! Exact round trips of the wire examples in `shared/docs/feldspar-reference.md`, one test per
//! type: serialise to the exact JSON, and decode back to the same value.

use port_protocol::{
    Command, DonateCommand, ExitCommand, Header, LogCommand, LogLevel, Page, PageBody, PageError, Payload, Prompt,
    RadioInput, RadioItem, Text, Translatable, UiRenderCommand,
};
use serde_json::Value;

#[track_caller]
fn check_roundtrip(command: Command, json: &str) {
    let expected: Value = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_value(&command).unwrap(), expected, "serialised JSON differs");
    assert_eq!(Command::from_value(expected).unwrap(), command, "decoded value differs");
}

#[test]
fn command_system_donate_roundtrip() {
    check_roundtrip(
        Command::SystemDonate(DonateCommand { key: "1700000000000-instagram".into(), json_string: "[]".into() }),
        r#"{"__type__":"CommandSystemDonate","key":"1700000000000-instagram","json_string":"[]"}"#,
    );
}

#[test]
fn command_system_log_roundtrip() {
    check_roundtrip(
        Command::SystemLog(LogCommand::new(LogLevel::Info, "[Instagram] Consent form shown")),
        r#"{"__type__":"CommandSystemLog","level":"info","message":"[Instagram] Consent form shown","json_string":"{\"level\":\"info\",\"message\":\"[Instagram] Consent form shown\"}"}"#,
    );
}

#[test]
fn command_system_exit_roundtrip() {
    check_roundtrip(
        Command::SystemExit(ExitCommand { code: 0, info: "End of script".into() }),
        r#"{"__type__":"CommandSystemExit","code":0,"info":"End of script"}"#,
    );
}

#[test]
fn command_ui_render_of_worker_error_page_roundtrip() {
    // The worker's fallback page (fact sheet §1.5), with its translations.
    let page = Page::DataSubmission(PageBody {
        platform: "error".into(),
        header: Header {
            title: Text::Translatable(Translatable::new([
                ("nl", "Er is iets misgegaan"),
                ("en", "Something went wrong"),
            ])),
        },
        body: vec![Prompt::PageError(PageError { message: "Error: boom".into() })],
        footer: None,
    });
    check_roundtrip(
        Command::UiRender(UiRenderCommand { page }),
        r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"error","header":{"__type__":"PropsUIHeader","title":{"translations":{"nl":"Er is iets misgegaan","en":"Something went wrong"}}},"body":[{"__type__":"PropsUIPageError","message":"Error: boom"}]}}"#,
    );
}

#[test]
fn command_ui_render_single_body_item_is_wrapped_into_a_list() {
    let json = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"p","header":{"__type__":"PropsUIHeader","title":"t"},"body":{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":[{"id":1,"value":"a"}]}}}"#;
    let Command::UiRender(render) = Command::from_json(json).unwrap() else { panic!("not a render") };
    let radio = RadioInput {
        title: Text::Plain("t".into()),
        description: Text::Plain("d".into()),
        items: vec![RadioItem { id: 1, value: "a".into() }],
    };
    assert_eq!(render.page.body().unwrap().body, vec![Prompt::RadioInput(radio)]);
}

#[test]
fn command_unknown_type_keeps_raw_json() {
    let json = r#"{"__type__":"CommandSystemTeleport","to":"mars"}"#;
    let command = Command::from_json(json).unwrap();
    assert_eq!(command.wire_type(), "CommandSystemTeleport");
    assert_eq!(serde_json::to_string(&command).unwrap(), json);
}

#[test]
fn command_python_none_fields_decode_as_absent() {
    // The native runner sees Python's None as null; Pyodide drops it. Both decode the same.
    let with_null = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"p","header":{"__type__":"PropsUIHeader","title":"t"},"body":[{"__type__":"PropsUIPromptProgress","description":"d","message":"m","percentage":null},{"__type__":"PropsUIDataSubmissionButtons","donateQuestion":null,"donateButton":null,"waiting":null}]}}"#;
    let without = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"p","header":{"__type__":"PropsUIHeader","title":"t"},"body":[{"__type__":"PropsUIPromptProgress","description":"d","message":"m"},{"__type__":"PropsUIDataSubmissionButtons"}]}}"#;
    assert_eq!(Command::from_json(with_null).unwrap(), Command::from_json(without).unwrap());
}

#[test]
fn command_malformed_prompt_points_at_page_body() {
    let json = r#"{"__type__":"CommandUIRender","page":{"__type__":"PropsUIPageDataSubmission","platform":"p","header":{"__type__":"PropsUIHeader","title":"t"},"body":[{"__type__":"PropsUIPromptText","text":"ok"},{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":"not a list"}]}}"#;
    let error = Command::from_json(json).unwrap_err().to_string();
    assert!(error.starts_with("CommandUIRender is malformed at `page`: PropsUIPageDataSubmission is malformed at `body`: item 1: PropsUIPromptRadioInput is malformed at `items`"), "{error}");
}

#[test]
fn payload_response_from_host_ack_roundtrip() {
    let payload =
        Payload::from_json(r#"{"__type__":"PayloadResponse","value":{"success":true,"key":"k","status":200}}"#)
            .unwrap();
    assert_eq!(
        serde_json::to_string(&payload).unwrap(),
        r#"{"__type__":"PayloadResponse","value":{"success":true,"key":"k","status":200}}"#
    );
}
