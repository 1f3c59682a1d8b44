"""The embedded default study: a walk through every prompt type with the fictional "Demo platform".

Flow: logs and a progress page, then the FlowBuilder flow (file input, retry confirm
on an invalid file, a radio choice of what to review, a ConsentFormViz with several
tables, donation under `{session_id}-demo`), then a questionnaire and a thank-you text
with a confirm. Returning from `process` ends the run with exit code 0.

The data is synthetic (see `generate_ddp.py`); no real platform is involved.
"""

from __future__ import annotations

from collections import Counter

from port.api.props import (
    PropsUIPromptConfirm,
    PropsUIPromptConsentFormTableViz,
    PropsUIPromptProgress,
    PropsUIPromptText,
    Translatable,
)
from port.api.table import Table
from port.helpers import port_helpers as ph
from port.helpers.extraction_helpers import ZipArchiveReader
from port.helpers.flow_builder import OUTCOME_DONATED, OUTCOME_SKIPPED, ExtractionResult, FlowBuilder
from port.helpers.validate import DDPCategory, DDPFiletype, Language, validate_zip

PLATFORM_NAME = "Demo platform"

DDP_CATEGORIES = [
    DDPCategory(
        id="demo_json_en",
        ddp_filetype=DDPFiletype.JSON,
        language=Language.EN,
        known_files=["watch_history.json", "searches.csv", "profile.json", "README.txt"],
    )
]

REVIEW_EVERYTHING = "Everything"
REVIEW_WATCH_HISTORY = "Only my watch history"
REVIEW_SEARCHES = "Only my searches"


def _t(en: str, nl: str) -> Translatable:
    return Translatable({"en": en, "nl": nl})


def _watch_history_table(reader: ZipArchiveReader) -> Table:
    result = reader.json("watch_history.json")
    entries = result.data.get("watch_history", []) if isinstance(result.data, dict) else []
    table = Table(
        [
            {
                "Title": entry.get("title"),
                "Channel": entry.get("channel"),
                "Watched at": entry.get("watched_at"),
                "Minutes": round((entry.get("duration_seconds") or 0) / 60, 1),
            }
            for entry in entries
            if isinstance(entry, dict)
        ],
        columns=["Title", "Channel", "Watched at", "Minutes"],
    )
    return table.sort_by("Watched at", ascending=False)


def _searches_table(reader: ZipArchiveReader) -> Table:
    table = reader.csv("searches.csv").df
    if table.empty:
        return table
    return table.rename(columns={"timestamp": "Searched at", "query": "Query"}).sort_by("Searched at", ascending=False)


def _profile_table(reader: ZipArchiveReader) -> Table:
    profile = reader.json("profile.json").data
    if not isinstance(profile, dict) or not profile:
        return Table()
    # Only coarse fields; the username and display name stay on the device.
    keep = {"created_at": "Account created", "language": "Language", "country": "Country"}
    return Table([{"Field": label, "Value": profile.get(key)} for key, label in keep.items()])


class DemoFlow(FlowBuilder):
    """FlowBuilder for the Demo platform; asks with a radio prompt what to review."""

    def __init__(self, session_id):
        super().__init__(session_id, PLATFORM_NAME)

    def donation_key(self) -> str:
        return f"{self.session_id}-demo"

    def validate_file(self, file):
        return validate_zip(DDP_CATEGORIES, file)

    def extract_data(self, file, validation):
        choice = yield ph.render_page(
            _t("What would you like to review?", "Wat wilt u bekijken?"),
            ph.generate_radio_prompt(
                _t("Choose what to review", "Kies wat u wilt bekijken"),
                _t(
                    "You can review all of your Demo platform data, or only a part of it.",
                    "U kunt al uw Demo platform gegevens bekijken, of alleen een deel.",
                ),
                [REVIEW_EVERYTHING, REVIEW_WATCH_HISTORY, REVIEW_SEARCHES],
            ),
        )
        # Anything but a known choice (including no answer) means "everything".
        selected = getattr(choice, "value", None) if getattr(choice, "__type__", None) == "PayloadString" else None

        errors: Counter = Counter()
        reader = ZipArchiveReader(file, validation.archive_members, errors)
        tables = []
        if selected in (None, REVIEW_EVERYTHING, REVIEW_WATCH_HISTORY):
            watch_history = _watch_history_table(reader)
            if not watch_history.empty:
                tables.append(
                    PropsUIPromptConsentFormTableViz(
                        "demo_watch_history",
                        _t("Watch history", "Kijkgeschiedenis"),
                        watch_history,
                        _t("The videos you watched.", "De video's die u heeft bekeken."),
                        [
                            {
                                "title": {"en": "Videos per channel", "nl": "Video's per kanaal"},
                                "type": "bar",
                                "group": {"column": "Channel", "label": "Channel"},
                                "values": [{"aggregate": "count", "label": "Videos"}],
                            },
                            {
                                "title": {"en": "Videos over time", "nl": "Video's door de tijd"},
                                "type": "line",
                                "group": {"column": "Watched at", "dateFormat": "month"},
                                "values": [{"aggregate": "count", "label": "Videos"}],
                            },
                        ],
                    )
                )
        if selected in (None, REVIEW_EVERYTHING, REVIEW_SEARCHES):
            searches = _searches_table(reader)
            if not searches.empty:
                tables.append(
                    PropsUIPromptConsentFormTableViz(
                        "demo_searches",
                        _t("Searches", "Zoekopdrachten"),
                        searches,
                        _t("What you searched for.", "Waar u naar heeft gezocht."),
                        [
                            {
                                "title": {"en": "Search words", "nl": "Zoekwoorden"},
                                "type": "wordcloud",
                                "textColumn": "Query",
                                "tokenize": True,
                            }
                        ],
                    )
                )
        if selected in (None, REVIEW_EVERYTHING):
            profile = _profile_table(reader)
            if not profile.empty:
                tables.append(
                    PropsUIPromptConsentFormTableViz(
                        "demo_profile",
                        _t("Profile", "Profiel"),
                        profile,
                        _t("General account information.", "Algemene accountgegevens."),
                        folded=True,
                        delete_option=False,
                    )
                )
        return ExtractionResult(tables, errors)



def process(session_id, platform=None):
    yield from ph.emit_log("info", "Demo study started")
    _ = yield ph.render_page(
        _t("Welcome", "Welkom"),
        PropsUIPromptProgress(_t("Preparing the study", "Het onderzoek wordt voorbereid"), "Preparing", 10),
    )

    outcome = yield from DemoFlow(session_id).start_flow()
    yield from ph.emit_log("info", f"Demo flow finished: {outcome}")

    if outcome == OUTCOME_SKIPPED:
        # The participant did not choose a file: thank them and end without more questions.
        _ = yield ph.render_page(
            _t("No problem", "Geen probleem"),
            [
                PropsUIPromptText(
                    _t(
                        "You chose not to share a file. Thank you for your time.",
                        "U heeft ervoor gekozen geen bestand te delen. Bedankt voor uw tijd.",
                    )
                ),
                PropsUIPromptConfirm(
                    _t("You can close this page.", "U kunt deze pagina sluiten."),
                    _t("Finish", "Afronden"),
                    _t("Close", "Sluiten"),
                ),
            ],
        )
        yield from ph.emit_log("info", "Demo study complete")
        return

    if outcome == OUTCOME_DONATED:
        answers = yield ph.render_page(_t("A few questions", "Een paar vragen"), ph.generate_questionnaire())
        if getattr(answers, "__type__", None) == "PayloadJSON":
            yield from ph.emit_log("info", "Questionnaire answered")
            result = yield ph.donate(f"{session_id}-demo-questionnaire", answers.value)
            if not ph.handle_donate_result(result):
                yield from ph.emit_log("warn", "Questionnaire donation failed")
        else:
            yield from ph.emit_log("info", "Questionnaire skipped")

    _ = yield ph.render_page(
        _t("Almost done", "Bijna klaar"),
        PropsUIPromptProgress(_t("Finishing up", "Afronden"), "Finishing", 100),
    )
    _ = yield ph.render_page(
        _t("Thank you", "Bedankt"),
        [
            PropsUIPromptText(
                _t(
                    "Thank you for taking part in this demo study.",
                    "Bedankt voor uw deelname aan dit demo-onderzoek.",
                ),
                _t("Thank you", "Bedankt"),
            ),
            PropsUIPromptConfirm(
                _t("Press Finish to end the study.", "Druk op Afronden om het onderzoek te beëindigen."),
                _t("Finish", "Afronden"),
                _t("Close", "Sluiten"),
            ),
        ],
    )
    yield from ph.emit_log("info", "Demo study complete")


__all__ = ["process", "DemoFlow", "DDP_CATEGORIES", "PLATFORM_NAME"]

