"""Builders for the pages and commands flows use, plus donation-result handling.

All page construction in flows goes through here so copy and structure stay in one
place. `emit_log` is a generator (use `yield from`); the rest return commands.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Optional

from port.api.commands import CommandSystemDonate, CommandSystemExit, CommandSystemLog, CommandUIRender
from port.api.props import (
    PropsUIHeader,
    PropsUIPageDataSubmission,
    PropsUIPromptConfirm,
    PropsUIPromptConsentFormViz,
    PropsUIPromptFileInput,
    PropsUIPromptFileInputMultiple,
    PropsUIPromptQuestionnaire,
    PropsUIPromptRadioInput,
    PropsUIQuestionMultipleChoice,
    PropsUIQuestionMultipleChoiceCheckbox,
    PropsUIQuestionOpen,
    Translatable,
)

logger = logging.getLogger(__name__)

RENDER_PAGE_PLATFORM = "does not matter"


def _translatable(value: Any) -> Any:
    if value is None or isinstance(value, (Translatable, str)):
        return value
    return Translatable(value)


def render_page(header_text: Any, body: Any) -> CommandUIRender:
    """A DataSubmission page with a header and a body item or list of items."""
    page = PropsUIPageDataSubmission(RENDER_PAGE_PLATFORM, PropsUIHeader(_translatable(header_text)), body)
    return CommandUIRender(page)


def generate_file_prompt(extensions: str, multiple: bool = False):
    description = Translatable(
        {
            "en": "Please follow the download instructions and choose the file that you stored on your device.",
            "nl": "Volg de download instructies en kies het bestand dat u opgeslagen heeft op uw apparaat.",
        }
    )
    if multiple:
        return PropsUIPromptFileInputMultiple(description, extensions)
    return PropsUIPromptFileInput(description, extensions)


def generate_retry_prompt(platform_name: str) -> PropsUIPromptConfirm:
    text = Translatable(
        {
            "en": f"Unfortunately, we could not process your {platform_name} file. "
            "If you are sure that you selected the correct file, press Continue. "
            "To select a different file, press Try again.",
            "nl": f"Helaas kunnen we uw {platform_name} bestand niet verwerken. "
            "Weet u zeker dat u het juiste bestand heeft gekozen? Ga dan verder. "
            "Probeer opnieuw als u een ander bestand wilt kiezen.",
            "es": f"Lamentablemente, no hemos podido procesar su archivo de {platform_name}. "
            "Si está seguro de haber seleccionado el archivo correcto, pulse Continuar. "
            "Para seleccionar otro archivo, pulse Intentar de nuevo.",
        }
    )
    ok = Translatable({"en": "Try again", "nl": "Probeer opnieuw", "es": "Intentar de nuevo"})
    cancel = Translatable({"en": "Continue", "nl": "Verder", "es": "Continuar"})
    return PropsUIPromptConfirm(text, ok, cancel)


def generate_review_data_prompt(description: Any, tables: list) -> PropsUIPromptConsentFormViz:
    question = Translatable(
        {
            "en": "Do you want to share this data for research?",
            "nl": "Wilt u deze gegevens delen voor onderzoek?",
        }
    )
    button = Translatable({"en": "Yes, share for research", "nl": "Ja, deel voor onderzoek"})
    return PropsUIPromptConsentFormViz(tables, _translatable(description), question, button)


def generate_radio_prompt(title: Any, description: Any, items: Iterable[str]) -> PropsUIPromptRadioInput:
    radio_items = [{"id": idx, "value": str(value)} for idx, value in enumerate(items)]
    return PropsUIPromptRadioInput(_translatable(title), _translatable(description), radio_items)


def generate_questionnaire() -> PropsUIPromptQuestionnaire:
    """A small demo questionnaire with one question of each kind."""
    questions = [
        PropsUIQuestionMultipleChoice(
            1,
            Translatable({"en": "How do you feel about the data you just reviewed?", "nl": "Wat vindt u van de gegevens die u net heeft bekeken?"}),
            [
                Translatable({"en": "Unsurprising", "nl": "Niet verrassend"}),
                Translatable({"en": "Somewhat surprising", "nl": "Enigszins verrassend"}),
                Translatable({"en": "Very surprising", "nl": "Heel verrassend"}),
            ],
        ),
        PropsUIQuestionMultipleChoiceCheckbox(
            2,
            Translatable({"en": "Which parts did you find interesting?", "nl": "Welke onderdelen vond u interessant?"}),
            [
                Translatable({"en": "Watch history", "nl": "Kijkgeschiedenis"}),
                Translatable({"en": "Searches", "nl": "Zoekopdrachten"}),
                Translatable({"en": "Profile", "nl": "Profiel"}),
            ],
        ),
        PropsUIQuestionOpen(
            3,
            Translatable({"en": "Is there anything else you would like to tell us?", "nl": "Wilt u ons nog iets anders vertellen?"}),
        ),
    ]
    description = Translatable(
        {"en": "A few questions about your data.", "nl": "Een paar vragen over uw gegevens."}
    )
    return PropsUIPromptQuestionnaire(description, questions)


def donate(key: str, json_string: str) -> CommandSystemDonate:
    return CommandSystemDonate(key, json_string)


def exit(code: int, info: str) -> CommandSystemExit:  # noqa: A001 - feldspar's name
    """Flows end by returning; this exists for scripts that yield an exit explicitly."""
    return CommandSystemExit(code, info)


def emit_log(level: str, message: str):
    """Yield a host-visible log line. Messages must be free of participant data."""
    _ = yield CommandSystemLog(level, message)


def _continue_confirm(text: Translatable) -> PropsUIPromptConfirm:
    cont = Translatable({"en": "Continue", "nl": "Verder"})
    return PropsUIPromptConfirm(text, cont, cont)


def _platform_page(platform_name: str, header: Translatable, text: Translatable) -> CommandUIRender:
    return CommandUIRender(PropsUIPageDataSubmission(platform_name, PropsUIHeader(header), [_continue_confirm(text)]))


def render_no_data_page(platform_name: str) -> CommandUIRender:
    return _platform_page(
        platform_name,
        Translatable({"en": f"No {platform_name} data found", "nl": f"Geen {platform_name} gegevens gevonden"}),
        Translatable(
            {
                "en": f"We could not find any data to share in your {platform_name} file. Thank you for your time.",
                "nl": f"We hebben in uw {platform_name} bestand geen gegevens gevonden om te delen. Bedankt voor uw tijd.",
            }
        ),
    )


def render_safety_error_page(platform_name: str, error: Exception) -> CommandUIRender:
    # `error` is one of our upload-safety errors, whose text holds sizes only.
    return _platform_page(
        platform_name,
        Translatable({"en": "This file cannot be processed", "nl": "Dit bestand kan niet worden verwerkt"}),
        Translatable(
            {
                "en": f"Your {platform_name} file cannot be processed safely: {error}",
                "nl": f"Uw {platform_name} bestand kan niet veilig worden verwerkt: {error}",
            }
        ),
    )


def render_donate_failure_page(platform_name: str) -> CommandUIRender:
    return _platform_page(
        platform_name,
        Translatable({"en": "Sharing failed", "nl": "Delen mislukt"}),
        Translatable(
            {
                "en": f"Unfortunately, your {platform_name} data could not be sent. Please contact the researchers.",
                "nl": f"Helaas konden uw {platform_name} gegevens niet worden verzonden. Neem contact op met de onderzoekers.",
            }
        ),
    )


def handle_donate_result(result: Any) -> bool:
    """Whether a donation succeeded (AD0007).

    None and PayloadVoid are legacy successes (the host did not report back);
    PayloadResponse succeeds only if `value.success` is true; anything else fails.
    """
    if result is None:
        return True
    payload_type = getattr(result, "__type__", None)
    if payload_type == "PayloadVoid":
        return True
    if payload_type == "PayloadResponse":
        value = getattr(result, "value", None)
        return bool(getattr(value, "success", False))
    logger.warning("unexpected donate result type: %s", payload_type)
    return False


__all__ = [
    "render_page",
    "generate_file_prompt",
    "generate_retry_prompt",
    "generate_review_data_prompt",
    "generate_radio_prompt",
    "generate_questionnaire",
    "donate",
    "exit",
    "emit_log",
    "render_no_data_page",
    "render_safety_error_page",
    "render_donate_failure_page",
    "handle_donate_result",
]
