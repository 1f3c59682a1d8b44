"""Regenerate the golden wire fixtures shared with the Rust `protocol` crate.

Usage: python3 python/tools/write_golden.py OUTDIR

Writes `OUTDIR/<snake_case_wire_name>.json` for every command, page and prompt type:
one complete command dict exactly as `ScriptWrapper.send` returns it. Prompts are
wrapped in a CommandUIRender whose page is a PropsUIPageDataSubmission holding the
prompt; pages are the page of a CommandUIRender. Output is deterministic.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# The import root is python/, next to this tools/ directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from port.api import props as p  # noqa: E402
from port.api.commands import (  # noqa: E402
    CommandSystemDonate,
    CommandSystemExit,
    CommandSystemLog,
    CommandUIRender,
)
from port.api.table import Table  # noqa: E402
from port.main import _to_wire  # noqa: E402


def snake_case(wire_name: str) -> str:
    """`CommandUIRender` → `command_ui_render`, `PropsUIPromptConsentFormViz` → `props_ui_prompt_consent_form_viz`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", wire_name).lower()


def t(en: str, nl: str) -> p.Translatable:
    return p.Translatable({"en": en, "nl": nl})


HEADER = p.PropsUIHeader(t("Your Demo platform data", "Uw Demo platform gegevens"))
TABLE = Table(
    [
        {"Title": "Pasta in 12 minutes", "Channel": "Cooking Corner", "Minutes": 12.5},
        {"Title": "Comet history", "Channel": "Daily Science", "Minutes": None},
    ]
)


def in_page(prompt) -> CommandUIRender:
    return CommandUIRender(p.PropsUIPageDataSubmission("Demo platform", HEADER, [prompt]))


def questions() -> list:
    return [
        p.PropsUIQuestionOpen(1, t("Anything else?", "Nog iets?")),
        p.PropsUIQuestionMultipleChoice(2, t("How surprising?", "Hoe verrassend?"), [t("Not", "Niet"), t("Very", "Heel")]),
        p.PropsUIQuestionMultipleChoiceCheckbox(
            3, t("Which parts?", "Welke delen?"), [t("Watch history", "Kijkgeschiedenis"), t("Searches", "Zoekopdrachten")]
        ),
    ]


def table_viz() -> p.PropsUIPromptConsentFormTableViz:
    return p.PropsUIPromptConsentFormTableViz(
        "demo_watch_history",
        t("Watch history", "Kijkgeschiedenis"),
        TABLE,
        t("The videos you watched.", "De video's die u heeft bekeken."),
        [
            {
                "title": {"en": "Videos per channel", "nl": "Video's per kanaal"},
                "type": "bar",
                "group": {"column": "Channel", "label": "Channel"},
                "values": [{"aggregate": "count", "label": "Videos"}],
            }
        ],
        {"Minutes": t("Minutes", "Minuten")},
        False,
        True,
    )


def consent_table(number: int = 1) -> p.PropsUIPromptConsentFormTable:
    return p.PropsUIPromptConsentFormTable(
        "demo_table", number, t("Watch history", "Kijkgeschiedenis"), t("The videos you watched.", "De video's."), TABLE
    )


def fixtures() -> dict:
    """Wire name → command object."""
    file_description = t("Choose your Demo platform file.", "Kies uw Demo platform bestand.")
    fixture_map = {
        "CommandUIRender": CommandUIRender(
            p.PropsUIPageDataSubmission("Demo platform", HEADER, [p.PropsUIPromptText(t("Hello", "Hallo"))])
        ),
        "CommandSystemDonate": CommandSystemDonate("1700000000000-demo", json.dumps([{"demo_table": [{"a": "1"}]}])),
        "CommandSystemLog": CommandSystemLog("info", "[Demo platform] Upload prompt sent"),
        "CommandSystemExit": CommandSystemExit(0, "End of script"),
        "PropsUIPageDataSubmission": CommandUIRender(
            p.PropsUIPageDataSubmission(
                "Demo platform", HEADER, [p.PropsUIPromptText(t("Body text", "Tekst"), t("Title", "Titel"))]
            )
        ),
        "PropsUIPageDonation": CommandUIRender(
            p.PropsUIPageDonation("Demo platform", HEADER, [p.PropsUIPromptText(t("Body text", "Tekst"))])
        ),
        "PropsUIPageEnd": CommandUIRender(p.PropsUIPageEnd()),
        "PropsUIPageError": in_page(p.PropsUIPageError("ValueError: something failed")),
        "PropsUIPromptFileInput": in_page(p.PropsUIPromptFileInput(file_description, "application/zip")),
        "PropsUIPromptFileInputMultiple": in_page(
            p.PropsUIPromptFileInputMultiple(file_description, "application/zip,.json")
        ),
        "PropsUIPromptConfirm": in_page(
            p.PropsUIPromptConfirm(t("Try again?", "Opnieuw proberen?"), t("Try again", "Probeer opnieuw"), t("Continue", "Verder"))
        ),
        "PropsUIPromptRetry": in_page(p.PropsUIPromptRetry(t("Try again?", "Opnieuw proberen?"), t("Try again", "Probeer opnieuw"))),
        "PropsUIPromptRadioInput": in_page(
            p.PropsUIPromptRadioInput(
                t("Choose", "Kies"), t("Pick one.", "Kies er een."), [{"id": 0, "value": "Everything"}, {"id": 1, "value": "Searches"}]
            )
        ),
        "PropsUIPromptProgress": in_page(p.PropsUIPromptProgress(t("Working", "Bezig"), "Extracting", 50)),
        "PropsUIPromptText": in_page(p.PropsUIPromptText(t("Thank you", "Bedankt"), None)),
        "PropsUIPromptConsentForm": in_page(
            p.PropsUIPromptConsentForm(
                [consent_table()], t("Review", "Bekijk"), t("Share?", "Delen?"), t("Yes, share", "Ja, delen")
            )
        ),
        "PropsUIPromptConsentFormTable": CommandUIRender(
            p.PropsUIPageDataSubmission(
                "Demo platform",
                HEADER,
                [consent_table(), p.PropsUIDataSubmissionButtons(t("Share?", "Delen?"), t("Yes, share", "Ja, delen"), False)],
            )
        ),
        "PropsUIDataSubmissionButtons": in_page(
            p.PropsUIDataSubmissionButtons(t("Share?", "Delen?"), t("Yes, share", "Ja, delen"), False)
        ),
        "PropsUIPromptConsentFormViz": in_page(
            p.PropsUIPromptConsentFormViz(
                [table_viz()], t("Review your data", "Bekijk uw gegevens"), t("Share?", "Delen?"), t("Yes, share", "Ja, delen")
            )
        ),
        "PropsUIPromptConsentFormTableViz": in_page(
            p.PropsUIPromptConsentFormViz(
                [
                    table_viz(),
                    p.PropsUIPromptConsentFormTableViz(
                        "demo_columnar", t("Columnar dict", "Kolommen"), TABLE.to_dict(), None, None, None, True, False
                    ),
                ],
                t("Review your data", "Bekijk uw gegevens"),
                t("Share?", "Delen?"),
                t("Yes, share", "Ja, delen"),
            )
        ),
        "PropsUIPromptQuestionnaire": in_page(p.PropsUIPromptQuestionnaire(t("Questions", "Vragen"), questions())),
        "PropsUIQuestionOpen": in_page(p.PropsUIPromptQuestionnaire(t("Questions", "Vragen"), [questions()[0]])),
        "PropsUIQuestionMultipleChoice": in_page(p.PropsUIPromptQuestionnaire(t("Questions", "Vragen"), [questions()[1]])),
        "PropsUIQuestionMultipleChoiceCheckbox": in_page(
            p.PropsUIPromptQuestionnaire(t("Questions", "Vragen"), [questions()[2]])
        ),
    }
    return fixture_map


def render(command) -> str:
    return json.dumps(_to_wire(command), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def write_all(out_dir: Path) -> list:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for wire_name, command in fixtures().items():
        path = out_dir / f"{snake_case(wire_name)}.json"
        path.write_text(render(command), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list) -> int:
    if len(argv) != 2:
        print("usage: write_golden.py OUTDIR", file=sys.stderr)
        return 2
    for path in write_all(Path(argv[1])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
