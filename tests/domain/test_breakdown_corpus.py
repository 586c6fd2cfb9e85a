"""The offline breakdown against messy words as people write them (written before its rules):
the score is printed and at least 85% must come out right.

Right means: exactly the expected steps (any case, trailing punctuation aside), the checked
ones done, and a title that summarises: at most `TITLE_SOFT_MAX` characters, holding the
expected words, never the steps joined together.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.assistant.breakdown import TITLE_SOFT_MAX
from domain.assistant.breakdown_offline import offline_breakdown

MIN_SCORE = 0.85


@dataclass(frozen=True)
class Messy:
    text: str
    steps: tuple[str, ...]
    done: tuple[int, ...] = ()  # indexes of the steps that come checked
    title_has: tuple[str, ...] = ()


CASES = (
    Messy("buy milk, call mom, then write the report",
          ("Buy milk", "Call mom", "Write the report"), title_has=("milk",)),
    Messy("I'm so overwhelmed. I need to clean the kitchen, do laundry and call the bank.",
          ("Clean the kitchen", "Do laundry", "Call the bank")),
    Messy("Plan mum's birthday:\n- book restaurant\n- [x] order cake\n- send invites",
          ("Book restaurant", "Order cake", "Send invites"), (1,), ("Plan mum's birthday",)),
    Messy("- [x] pack suitcase\n- [ ] print boarding pass\n- [ ] water plants",
          ("Pack suitcase", "Print boarding pass", "Water plants"), (0,)),
    Messy("Call Dr. Smith at 3 p.m. about the results, e.g. the blood test.",
          ("Call Dr. Smith at 3 p.m. about the results, e.g. the blood test",),
          title_has=("Dr. Smith",)),
    Messy("write the annual report", ("Write the annual report",),
          title_has=("annual report",)),
    Messy("ugh so much to do today. groceries, gym, and finish the slides",
          ("Groceries", "Gym", "Finish the slides")),
    Messy("Need to: 1) renew passport 2) book flights 3) find a hotel near the beach",
          ("Renew passport", "Book flights", "Find a hotel near the beach")),
    Messy("honestly I don't even know where to start. the garage is a mess. sort the boxes, "
          "throw out old paint, sweep the floor",
          ("Sort the boxes", "Throw out old paint", "Sweep the floor"), title_has=("garage",)),
    Messy("* buy paint\n* tape the edges\n* paint the living room\n* clean brushes",
          ("Buy paint", "Tape the edges", "Paint the living room", "Clean brushes")),
    Messy("I have to finish the essay, it's due friday, and I also need to email my tutor",
          ("Finish the essay", "Email my tutor"), title_has=("essay",)),
    Messy("Todo:\n[ ] dishes\n[x] laundry\n[ ] vacuum", ("Dishes", "Laundry", "Vacuum"), (1,)),
    Messy("so stressed lol. pay rent. call landlord about the leak. buy groceries",
          ("Pay rent", "Call landlord about the leak", "Buy groceries")),
    Messy("Get the car serviced — check tyres, oil change, and wash it",
          ("Check tyres", "Oil change", "Wash it"), title_has=("Get the car serviced",)),
    Messy("Organise the office: file the invoices, shred old papers, order new printer ink",
          ("File the invoices", "Shred old papers", "Order new printer ink"),
          title_has=("Organise the office",)),
    Messy("Finish the report by 5 p.m. Send it to Jo. Then relax.",
          ("Finish the report by 5 p.m.", "Send it to Jo", "Relax")),
    Messy("Prepare for the interview on Mon. 12th: research the company, practise answers, "
          "iron a shirt", ("Research the company", "Practise answers", "Iron a shirt"),
          title_has=("interview",)),
    Messy("I feel like I'm drowning. Clean the bathroom and reply to Sam",
          ("Clean the bathroom", "Reply to Sam")),
    Messy("1. Draft the proposal\n2. Get feedback from Lee\n3. [x] Book the meeting room",
          ("Draft the proposal", "Get feedback from Lee", "Book the meeting room"), (2,)),
    Messy("Pick up the kids at 3:30 p.m., then take them to swimming at 4:15",
          ("Pick up the kids at 3:30 p.m.", "Take them to swimming at 4:15")),
    Messy("call the plumber", ("Call the plumber",), title_has=("plumber",)),
    Messy("Things to do this weekend\n- mow the lawn\n- fix the fence\n- bake a cake for Sunday",
          ("Mow the lawn", "Fix the fence", "Bake a cake for Sunday"), title_has=("weekend",)),
    Messy("OMG the party is tomorrow!!! need to buy balloons, get the cake, and clean the flat",
          ("Buy balloons", "Get the cake", "Clean the flat")),
    Messy("email HR re: holiday dates, e.g. 12-16 Aug",
          ("Email HR re: holiday dates, e.g. 12-16 Aug",)),
    Messy("tidy desk; answer emails; plan next week",
          ("Tidy desk", "Answer emails", "Plan next week")),
    Messy("Write thank-you cards to Gran, Aunt Jo and Mr. Patel",
          ("Write thank-you cards to Gran, Aunt Jo and Mr. Patel",), title_has=("cards",)),
    Messy("clean the oven, the fridge and the microwave",
          ("Clean the oven, the fridge and the microwave",)),
    Messy("Monday: gym. Tuesday: dentist at 9 a.m. Wednesday: call Mum",
          ("Monday: gym", "Tuesday: dentist at 9 a.m.", "Wednesday: call Mum")),
    Messy("get a haircut", ("Get a haircut",)),
    Messy("Sort the garage out this weekend. It's been bugging me for months. Start with the "
          "shelves.", ("Sort the garage out this weekend", "Start with the shelves"),
          title_has=("garage",)),
    Messy("- apply for the job\n- update CV\n  - add the new role\n  - fix the typos\n"
          "- write cover letter", ("Apply for the job", "Update CV", "Add the new role",
                                   "Fix the typos", "Write cover letter")),
    Messy("book vet appt for Rex (vaccinations), buy flea treatment",
          ("Book vet appt for Rex (vaccinations)", "Buy flea treatment")),
    Messy("I really should start exercising, maybe go for a run tomorrow morning",
          ("Start exercising", "Go for a run tomorrow morning")),
    Messy("Hi! Can you help me break this down? I need to move house next month: find a van, "
          "pack the kitchen, redirect post", ("Find a van", "Pack the kitchen", "Redirect post"),
          title_has=("move house",)),
    Messy("\u2714 sent the invoice\n\u2610 chase payment\n\u2610 update spreadsheet",
          ("Sent the invoice", "Chase payment", "Update spreadsheet"), (0,)),
    Messy("Quarterly review prep (due Fri.): collect numbers, write summary, book room",
          ("Collect numbers", "Write summary", "Book room"), title_has=("Quarterly review",)),
    Messy("wash car then hoover inside then buy air freshener",
          ("Wash car", "Hoover inside", "Buy air freshener")),
    Messy("Tomorrow: dentist 8:45 a.m., pick up dry cleaning, call Mum back",
          ("Dentist 8:45 a.m.", "Pick up dry cleaning", "Call Mum back")),
    Messy("just need to remember to take the bins out", ("Take the bins out",)),
    Messy("I\u2019m anxious about tomorrow\u2019s presentation. Rehearse twice, print handouts, "
          "get some sleep.", ("Rehearse twice", "Print handouts", "Get some sleep")),
    Messy("Renew the car insurance before the 3rd, compare quotes first",
          ("Renew the car insurance before the 3rd", "Compare quotes first")),
    Messy("Meeting with Anna at 10 a.m. tomorrow, prepare slides before that",
          ("Meeting with Anna at 10 a.m. tomorrow", "Prepare slides before that")),
    Messy("Shopping list\n- [ ] eggs\n- [X] flour\n- [x] sugar\n- [ ] butter",
          ("Eggs", "Flour", "Sugar", "Butter"), (1, 2), ("Shopping list",)),
    Messy("need to sort my life out tbh. first cancel the gym, then set up a budget, then "
          "call the bank about the overdraft",
          ("Cancel the gym", "Set up a budget", "Call the bank about the overdraft")),
)


def _fold(text: str) -> str:
    return " ".join(text.casefold().rstrip(" .!?").split())


def verdict(case: Messy) -> str | None:
    """None when the breakdown is right, else what is wrong."""
    got = offline_breakdown(case.text)
    problems = []
    if [_fold(s) for s in got.steps] != [_fold(s) for s in case.steps]:
        problems.append(f"steps {got.steps}")
    done = tuple(n for n, checked in enumerate(got.done) if checked)
    if done != case.done:
        problems.append(f"done {done}")
    if len(got.title) > TITLE_SOFT_MAX:
        problems.append(f"title of {len(got.title)} characters")
    if len(got.steps) > 1 and _fold(got.title).startswith(_fold(", ".join(got.steps[:2]))):
        problems.append("title joins the steps")
    missing = [word for word in case.title_has if word.casefold() not in got.title.casefold()]
    if missing:
        problems.append(f"title {got.title!r} lacks {missing}")
    return "; ".join(problems) or None


def test_the_messy_corpus_scores_at_least_85_percent() -> None:
    verdicts = [(case, verdict(case)) for case in CASES]
    right = sum(problem is None for _, problem in verdicts)
    print(f"\nOffline breakdown corpus: {right}/{len(CASES)} right, "
          f"score {right / len(CASES):.1%}")
    for case, problem in verdicts:
        if problem is not None:
            print(f"  wrong: {case.text[:70]!r}: {problem}")
    assert len(CASES) >= 40
    assert right / len(CASES) >= MIN_SCORE
