"""The grounding exercise catalogue and the deterministic choice among it (seed 000).

Every provider picks exercises from this catalogue: the offline assistant also words its reply
from the templates here, the OpenAI-compatible one only asks its model for the reply. The
choice depends on the intensity alone, so the same press always gets the same exercises:

- 7..10 (high): the body first. Slow breathing with a long out-breath, cold water, then
  naming objects, which asks for very little thought.
- 4..6 (moderate), or no intensity given: box breathing, 5-4-3-2-1 senses, a body scan.
- 0..3 (low): the slower, attention-based exercises: senses, body scan, muscle release.
"""

from __future__ import annotations

from dataclasses import dataclass

HIGH_FROM = 7
MODERATE_FROM = 4


@dataclass(frozen=True)
class ExerciseChoice:
    kind: str  # at most 30 characters (grounding_exercises.kind)
    title: str
    instructions: str


BOX_BREATHING = ExerciseChoice(
    kind="breathing",
    title="Box breathing",
    instructions=(
        "Breathe in through your nose for a count of 4.\n"
        "Hold the breath gently for 4.\n"
        "Breathe out slowly through your mouth for 4.\n"
        "Hold, empty, for 4.\n"
        "Trace the four sides of a square in your mind as you go. Repeat four rounds, or "
        "until your breathing settles."
    ),
)
PACED_BREATHING = ExerciseChoice(
    kind="paced_breathing",
    title="Slow breathing with a long out-breath",
    instructions=(
        "Put one hand on your belly.\n"
        "Breathe in through your nose for a count of 4, letting your belly rise.\n"
        "Breathe out through pursed lips for a count of 6 to 8, as if cooling soup.\n"
        "A longer out-breath tells your body it is safe to slow down. Keep going for about "
        "two minutes; if counting feels hard, just make each out-breath a little longer."
    ),
)
FIVE_SENSES = ExerciseChoice(
    kind="five_senses",
    title="5-4-3-2-1 senses",
    instructions=(
        "Look around and name, silently or out loud:\n"
        "5 things you can see,\n"
        "4 things you can feel (your feet on the floor, the chair under you),\n"
        "3 things you can hear,\n"
        "2 things you can smell,\n"
        "1 thing you can taste.\n"
        "Take your time with each one. If you lose your place, start again at 5."
    ),
)
BODY_SCAN = ExerciseChoice(
    kind="body_scan",
    title="Body scan",
    instructions=(
        "Sit or lie down and let your eyes close or rest on one spot.\n"
        "Bring your attention to your feet: notice warmth, pressure, tingling, or nothing.\n"
        "Move slowly up through your legs, belly, chest, hands, arms, shoulders, neck and "
        "face, spending a few breaths on each.\n"
        "Where you find tension, breathe into it and let it soften a little on the out-breath. "
        "There is no right way to feel; you are only noticing."
    ),
)
COLD_WATER = ExerciseChoice(
    kind="cold_water",
    title="Cold water",
    instructions=(
        "Run cold water over your wrists and hands for 30 seconds, or splash it on your face.\n"
        "If you can't reach a tap, hold something cold: an ice cube, a cold drink, a window "
        "pane.\n"
        "Notice the temperature and how it changes as you hold it. The cold helps your heart "
        "rate come down and gives your mind one clear thing to focus on."
    ),
)
NAMING_OBJECTS = ExerciseChoice(
    kind="naming_objects",
    title="Name what's around you",
    instructions=(
        "Pick a category, such as things that are blue, or things with corners.\n"
        "Find and name, out loud if you can, as many things around you in that category as "
        "you can.\n"
        "Then describe one of them in detail: its colour, shape, size and texture.\n"
        "When you run out, pick a new category."
    ),
)
MUSCLE_RELEASE = ExerciseChoice(
    kind="muscle_release",
    title="Tense and release",
    instructions=(
        "Clench your hands into fists and hold for 5 seconds, then let go completely and "
        "notice the difference for 10 seconds.\n"
        "Do the same with your shoulders (raise them towards your ears), then your face "
        "(scrunch it up), then your legs (press your feet into the floor).\n"
        "Breathe out each time you let go."
    ),
)

CATALOGUE: tuple[ExerciseChoice, ...] = (
    BOX_BREATHING,
    PACED_BREATHING,
    FIVE_SENSES,
    BODY_SCAN,
    COLD_WATER,
    NAMING_OBJECTS,
    MUSCLE_RELEASE,
)

_HIGH = (PACED_BREATHING, COLD_WATER, NAMING_OBJECTS)
_MODERATE = (BOX_BREATHING, FIVE_SENSES, BODY_SCAN)
_LOW = (FIVE_SENSES, BODY_SCAN, MUSCLE_RELEASE)


def level(intensity: int | None) -> str:
    """"high", "moderate", "low", or "unknown" when no intensity was given."""
    if intensity is None:
        return "unknown"
    if intensity >= HIGH_FROM:
        return "high"
    return "moderate" if intensity >= MODERATE_FROM else "low"


def choose(intensity: int | None) -> list[ExerciseChoice]:
    """The exercises for an intensity, in the order to try them."""
    chosen = {"high": _HIGH, "low": _LOW}.get(level(intensity), _MODERATE)
    return list(chosen)


_OPENINGS = {
    "high": (
        "You're safe right now, and this feeling will pass: panic rises, peaks and fades, "
        "usually within minutes, even when it feels like it won't."
    ),
    "moderate": (
        "That sounds really uncomfortable, and it makes sense that you reached out. "
        "You don't have to fix anything right now."
    ),
    "low": (
        "It's good that you noticed this early. A few quiet minutes now can keep it from "
        "building."
    ),
    "unknown": (
        "I'm here with you. Whatever you're feeling right now, you don't have to handle it "
        "all at once."
    ),
}
_NEXT = {
    "high": "Let's slow your body down first. Start with {first}, one step at a time.",
    "moderate": "Let's bring you back to the present. Try {first} first.",
    "low": "When you're ready, try {first}.",
    "unknown": "Let's take it one step at a time, starting with {first}.",
}
NOTED = "Thank you for telling me what's going on."
SAFETY = "If you feel unsafe, call your local emergency number or someone you trust."
AFTER = "Take them at your own pace; you can stop whenever you feel steadier."


def offline_reply(note: str | None, intensity: int | None) -> str:
    """A calm reply from templates: same input, same words."""
    tier = level(intensity)
    exercises = choose(intensity)
    parts = [_OPENINGS[tier]]
    if note:
        parts.append(NOTED)
    parts.append(_NEXT[tier].format(first=exercises[0].title.lower()))
    parts.append(AFTER)
    if intensity is not None and intensity >= 9:
        parts.append(SAFETY)
    return " ".join(parts)


def describe(note: str | None, intensity: int | None) -> str:
    """What was pressed, as the provider is asked about it (and as ai_logs records it)."""
    shown = "not given" if intensity is None else f"{intensity}/10"
    return f"Panic button pressed. Intensity: {shown}. Note: {note or '(none)'}"
