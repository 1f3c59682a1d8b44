"""D3I's extra prop classes, re-exported from `port.api.props` for scripts that import them from here.

All classes live in `props`; this module only keeps the D3I import path working.
"""

from port.api.props import (  # noqa: F401 - re-exports
    PropsUIPageError,
    PropsUIPromptConsentFormTableViz,
    PropsUIPromptConsentFormViz,
    PropsUIPromptFileInputMultiple,
    PropsUIPromptQuestionnaire,
    PropsUIPromptRetry,
    PropsUIQuestionMultipleChoice,
    PropsUIQuestionMultipleChoiceCheckbox,
    PropsUIQuestionOpen,
    Translatable,
)

__all__ = [
    "PropsUIPageError",
    "PropsUIPromptConsentFormTableViz",
    "PropsUIPromptConsentFormViz",
    "PropsUIPromptFileInputMultiple",
    "PropsUIPromptQuestionnaire",
    "PropsUIPromptRetry",
    "PropsUIQuestionMultipleChoice",
    "PropsUIQuestionMultipleChoiceCheckbox",
    "PropsUIQuestionOpen",
    "Translatable",
]
