"""Breaking raw words down into a task (`domain/assistant/breakdown.py`): the offline rules
and reading a model's answer."""

from __future__ import annotations

import json

import pytest

from domain.assistant.breakdown import (
    BREAKDOWN_SCHEMA,
    BREAKDOWN_SYSTEM_PROMPT,
    MAX_STEPS,
    TITLE_SOFT_MAX,
    Breakdown,
    UnusableBreakdown,
    parse_model_breakdown,
    response_format,
)
from domain.assistant.breakdown_offline import offline_breakdown
from models.task import STEP_CONTENT_MAX, TITLE_MAX

EXAMPLE = "buy milk, call mom, then write the report"

# --- Offline: steps -------------------------------------------------------------------------


def test_every_clause_of_the_issue_example_becomes_a_step() -> None:
    assert offline_breakdown(EXAMPLE).steps == ["Buy milk", "Call mom", "Write the report"]


@pytest.mark.parametrize(
    "text",
    [
        "- buy milk\n- call mom\n- write the report",
        "* buy milk\n* call mom\n* write the report",
        "1. buy milk\n2. call mom\n3. write the report",
        "1) buy milk\n2) call mom\n3) write the report",
        "\u2022 buy milk\n\u2022 call mom\n\u2022 write the report",
        "- [ ] buy milk\n- [x] call mom\n- [ ] write the report",
    ],
)
def test_bulleted_and_numbered_items_are_steps_without_their_markers(text: str) -> None:
    assert offline_breakdown(text).steps == ["Buy milk", "Call mom", "Write the report"]


def test_lines_are_steps_and_blank_lines_are_skipped() -> None:
    assert offline_breakdown("buy milk\r\n\n   \ncall mom\n").steps == ["Buy milk", "Call mom"]


def test_semicolons_separate_steps() -> None:
    assert offline_breakdown("buy milk; call mom;write the report").steps == [
        "Buy milk", "Call mom", "Write the report",
    ]


def test_sentences_are_steps() -> None:
    assert offline_breakdown("Buy milk. Call mom! Is the report done? Send it.").steps == [
        "Buy milk", "Call mom!", "Is the report done?", "Send it",
    ]


def test_a_full_stop_after_an_abbreviation_or_initial_ends_no_step() -> None:
    assert offline_breakdown("call Dr. Smith. Then email J. Doe").steps == [
        "Call Dr. Smith", "Email J. Doe",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "call mom then sleep well",
        "call mom and then sleep well",
        "call mom, and then sleep well",
        "call mom, then sleep well",
        "Call mom. Then sleep well.",
    ],
)
def test_sequencing_words_separate_steps_and_are_dropped(text: str) -> None:
    assert offline_breakdown(text).steps == ["Call mom", "Sleep well"]


def test_and_before_an_action_verb_separates_steps() -> None:
    assert offline_breakdown("buy milk and call mom").steps == ["Buy milk", "Call mom"]


def test_and_between_nouns_keeps_the_clause_together() -> None:
    assert offline_breakdown("add salt and pepper, then taste the soup").steps == [
        "Add salt and pepper", "Taste the soup",
    ]


def test_and_between_two_bare_verbs_keeps_the_clause_together() -> None:
    assert offline_breakdown("read and answer mail; call mom").steps == [
        "Read and answer mail", "Call mom",
    ]


def test_one_word_items_after_commas_stay_in_their_clause() -> None:
    assert offline_breakdown("buy milk, eggs, and bread; call mom").steps == [
        "Buy milk, eggs, and bread", "Call mom",
    ]


def test_ordering_words_alone_are_no_steps() -> None:
    assert offline_breakdown("First, buy milk. Next, call mom. Finally, sleep.").steps == [
        "Buy milk", "Call mom", "Sleep",
    ]


def test_a_condition_stays_with_what_follows_it() -> None:
    assert offline_breakdown("if it rains, take the umbrella, then call mom").steps == [
        "If it rains, take the umbrella", "Call mom",
    ]


def test_a_comma_inside_a_number_separates_no_steps() -> None:
    assert offline_breakdown("pay 1,000 euros, then rest").steps == ["Pay 1,000 euros", "Rest"]


def test_steps_are_trimmed_and_sentence_cased() -> None:
    assert offline_breakdown("  buy   milk ,  call mom.  ").steps == ["Buy milk", "Call mom"]


def test_duplicate_steps_are_dropped_whatever_their_case() -> None:
    assert offline_breakdown("buy milk; call mom; Buy Milk").steps == ["Buy milk", "Call mom"]


def test_at_most_max_steps_are_kept() -> None:
    steps = offline_breakdown("\n".join(f"step number {n}" for n in range(30))).steps
    assert steps == [f"Step number {n}" for n in range(MAX_STEPS)]


def test_a_long_step_is_cut_at_a_word_boundary() -> None:
    step = offline_breakdown("buy milk\n" + " ".join(["word"] * 1000)).steps[1]
    assert len(step) <= STEP_CONTENT_MAX
    assert step.endswith(" word…")


def test_a_nul_in_the_input_is_removed() -> None:
    assert offline_breakdown("buy\x00 milk; call mom").steps == ["Buy milk", "Call mom"]


# --- Offline: a single clause, empty input -------------------------------------------------


def test_a_single_clause_is_the_title() -> None:
    assert offline_breakdown("  write the annual report.  ").title == "Write the annual report"


def test_a_single_clause_is_its_own_one_step_not_a_template() -> None:
    assert offline_breakdown("write the annual report") == Breakdown(
        title="Write the annual report", steps=["Write the annual report"], done=(False,))


def test_input_of_only_punctuation_is_its_own_title_and_step() -> None:
    assert offline_breakdown("...") == Breakdown(title="...", steps=["..."], done=(False,))


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "\x00"])
def test_empty_input_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="nothing to break down"):
        offline_breakdown(text)


# --- Offline: the title --------------------------------------------------------------------


def test_the_title_of_the_issue_example_is_the_first_step_and_a_count_not_a_join() -> None:
    assert offline_breakdown(EXAMPLE).title == "Buy milk (+2 more)"


def test_a_heading_above_a_list_is_the_title_and_no_step() -> None:
    assert offline_breakdown("Plan the party:\n- book a venue\n- send invites") == Breakdown(
        title="Plan the party", steps=["Book a venue", "Send invites"], done=(False, False)
    )


def test_a_checked_item_keeps_its_done_state() -> None:
    breakdown = offline_breakdown("- [ ] buy milk\n- [x] call mom\n\u2714 water plants")
    assert breakdown.steps == ["Buy milk", "Call mom", "Water plants"]
    assert breakdown.checked() == [2, 3]


def test_feelings_and_filler_are_no_steps() -> None:
    assert offline_breakdown("ugh I'm so overwhelmed. buy milk. honestly. call mom").steps == [
        "Buy milk", "Call mom"]


def test_abbreviations_and_times_split_no_step() -> None:
    assert offline_breakdown("call Dr. Smith at 3 p.m. about it, e.g. the results").steps == [
        "Call Dr. Smith at 3 p.m. about it, e.g. the results"]


def test_an_overlong_single_clause_title_is_cut_at_a_word_boundary() -> None:
    title = offline_breakdown(" ".join(["word"] * 300)).title
    assert len(title) <= TITLE_SOFT_MAX
    assert title.endswith(" word…")


def test_a_single_overlong_word_title_is_cut_inside_it() -> None:
    assert offline_breakdown("x" * 500).title == "X" + "x" * (TITLE_SOFT_MAX - 2) + "…"


def test_many_clauses_make_a_short_title_with_a_count_of_the_rest() -> None:
    title = offline_breakdown(", ".join(f"call person {n}" for n in range(50))).title
    assert title == f"Call person 0 (+{MAX_STEPS - 1} more)"


def test_an_overlong_first_clause_is_cut_before_the_count() -> None:
    title = offline_breakdown(" ".join(["word"] * 300) + "; call mom").title
    assert len(title) <= TITLE_SOFT_MAX
    assert title.endswith("word… (+1 more)")


# --- What a model is asked for -------------------------------------------------------------


def test_the_schema_is_an_object_of_a_title_and_string_steps() -> None:
    assert BREAKDOWN_SCHEMA["type"] == "object"
    assert BREAKDOWN_SCHEMA["properties"]["title"]["type"] == "string"
    assert BREAKDOWN_SCHEMA["properties"]["steps"]["type"] == "array"
    assert BREAKDOWN_SCHEMA["properties"]["steps"]["items"] == {"type": "string"}


def test_the_schema_requires_both_fields_and_allows_no_others() -> None:
    assert BREAKDOWN_SCHEMA["required"] == ["title", "steps"]
    assert BREAKDOWN_SCHEMA["additionalProperties"] is False


def test_the_response_format_is_a_strict_named_json_schema() -> None:
    assert response_format() == {
        "type": "json_schema",
        "json_schema": {"name": "task_breakdown", "strict": True, "schema": BREAKDOWN_SCHEMA},
    }
    json.dumps(response_format())  # sent in the request's JSON body


def test_changing_a_response_format_leaves_the_schema_alone() -> None:
    response_format()["json_schema"]["schema"]["required"].append("extra")
    assert BREAKDOWN_SCHEMA["required"] == ["title", "steps"]


def test_the_system_prompt_asks_for_json_within_the_limits() -> None:
    assert "JSON" in BREAKDOWN_SYSTEM_PROMPT
    assert f"at most {TITLE_SOFT_MAX} characters" in BREAKDOWN_SYSTEM_PROMPT
    assert f"1 to {MAX_STEPS} steps" in BREAKDOWN_SYSTEM_PROMPT


# --- Reading a model's answer --------------------------------------------------------------

ANSWER = '{"title": "Write the report", "steps": ["Outline it", "Draft it"]}'
EXPECTED = Breakdown(title="Write the report", steps=["Outline it", "Draft it"])


def test_a_plain_json_answer_is_read() -> None:
    assert parse_model_breakdown(ANSWER) == EXPECTED


def test_a_json_fenced_answer_is_read() -> None:
    assert parse_model_breakdown(f"```json\n{ANSWER}\n```") == EXPECTED


def test_a_fenced_answer_without_a_language_is_read() -> None:
    assert parse_model_breakdown(f"```\n{ANSWER}\n```") == EXPECTED


def test_an_answer_with_prose_around_it_is_read() -> None:
    assert parse_model_breakdown(f"Sure! Here it is: {ANSWER} Anything else?") == EXPECTED


def test_braces_inside_strings_do_not_end_the_object() -> None:
    raw = 'Ok: {"title": "Fix the {x} bug", "steps": ["Read \\"}\\" in {a: 1}"]} done'
    assert parse_model_breakdown(raw) == Breakdown(
        title="Fix the {x} bug", steps=['Read "}" in {a: 1}']
    )


def test_an_object_without_title_or_steps_is_passed_over() -> None:
    assert parse_model_breakdown(f'{{"note": "draft"}} then {ANSWER}') == EXPECTED


def test_an_answer_wrapped_in_another_object_is_read() -> None:
    assert parse_model_breakdown(f'{{"answer": {ANSWER}}}') == EXPECTED


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "Write", "steps": []}',
        '{"title": "Write", "steps": ["", "  ", "\\u0000"]}',
        '{"title": "Write", "steps": [1, null, true, {"a": "b"}]}',
    ],
)
def test_an_answer_without_usable_steps_is_unusable(raw: str) -> None:
    with pytest.raises(UnusableBreakdown, match=r"^no steps$"):
        parse_model_breakdown(raw)


def test_non_string_steps_are_dropped() -> None:
    raw = '{"title": "Plan", "steps": [1, "Outline it", null, ["c"]]}'
    assert parse_model_breakdown(raw) == Breakdown(title="Plan", steps=["Outline it"])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"title": "Write"}', "steps is not a list"),
        ('{"title": "Write", "steps": "Outline it"}', "steps is not a list"),
        ('{"steps": ["Outline it"]}', "title is not a string"),
        ('{"title": 42, "steps": ["Outline it"]}', "title is not a string"),
        ('{"title": " \\u0000 ", "steps": ["Outline it"]}', "blank title"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_unusable_with_its_reason(raw: str, reason: str) -> None:
    with pytest.raises(UnusableBreakdown, match=f"^{reason}$"):
        parse_model_breakdown(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "I cannot help with that.", "```json\n{not json}\n```", '{"title": "x", "steps": [', "[]"],
)
def test_a_reply_that_is_no_json_object_is_unusable(raw: str) -> None:
    with pytest.raises(UnusableBreakdown, match="no JSON object"):
        parse_model_breakdown(raw)


def test_unusable_is_a_value_error() -> None:
    assert issubclass(UnusableBreakdown, ValueError)


def test_a_reply_of_endless_open_braces_is_unusable() -> None:
    with pytest.raises(UnusableBreakdown):
        parse_model_breakdown("{" * 100_000 + ANSWER)


def test_a_models_title_and_steps_are_cleaned() -> None:
    raw = '{"title": "  write\\u0000 the\\n report ", "steps": ["  1. outline   it ", "- draft"]}'
    assert parse_model_breakdown(raw) == Breakdown(
        title="Write the report", steps=["Outline it", "Draft"]
    )


def test_a_lone_surrogate_from_a_model_is_replaced() -> None:
    raw = '{"title": "Go", "steps": ["\\ud800 go"]}'
    assert parse_model_breakdown(raw).steps == ["\ufffd go"]


def test_a_models_overlong_title_is_cut_at_a_word_boundary() -> None:
    words = " ".join(["word"] * 1000)
    title = parse_model_breakdown(json.dumps({"title": words, "steps": ["Go"]})).title
    assert len(title) <= TITLE_MAX
    assert title.endswith(" word…")


def test_a_models_overlong_step_is_cut_at_a_word_boundary() -> None:
    words = " ".join(["word"] * 1000)
    [step] = parse_model_breakdown(json.dumps({"title": "Go", "steps": [words]})).steps
    assert len(step) <= STEP_CONTENT_MAX
    assert step.endswith(" word…")


def test_at_most_max_steps_are_kept_from_a_model() -> None:
    steps = [f"Step {n}" for n in range(30)]
    breakdown = parse_model_breakdown(json.dumps({"title": "Plan", "steps": steps}))
    assert breakdown.steps == steps[:MAX_STEPS]
