"""Messages as people type them to the task assistant, each with what it should do.

Written as a user would write them, before the rules that read them: lowercase, typos, no
punctuation, filler and politeness, several things in one message. Every case starts on a
fresh account holding `ACCOUNT` (one user per case) and may send earlier messages
(`before`) in the same conversation; the expectation is the whole conversation's change to
the data (`expect`, nothing by default) and words the last reply must contain (`reply`,
any case). `tests/graph/test_chat_corpus.py` scores it; a case is harmful when any data
changed that was not asked for.

The account, oldest first. The app's default list (all tasks, newest first) is therefore:
1 Clean the garage, 2 Renew passport, 3 Buy groceries, 4 Call mum about Sunday, 5 Book the
dentist, 6 Do the taxes, 7 Call the plumber, 8 Write the quarterly report; and "list my
tasks" (the open ones, newest first): 1 Clean the garage, 2 Buy groceries, 3 Call mum about
Sunday, 4 Book the dentist, 5 Do the taxes, 6 Call the plumber, 7 Write the quarterly report.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Seed:
    title: str
    status: str = "pending"
    steps: tuple[tuple[str, bool], ...] = ()


ACCOUNT = (
    Seed("Write the quarterly report", "in_progress", (
        ("Collect the sales figures", True), ("Draft the summary", False),
        ("Send it to Maria", False))),
    Seed("Call the plumber"),
    Seed("Do the taxes", steps=(
        ("Gather receipts", True), ("Fill in the tax form", False), ("Submit the return", False))),
    Seed("Book the dentist"),
    Seed("Call mum about Sunday"),
    Seed("Buy groceries", steps=(("Milk", False), ("Eggs", False), ("Bread", False))),
    Seed("Renew passport", "completed"),
    Seed("Clean the garage"),
)


@dataclass(frozen=True)
class Op:
    """One expected change: `kind` and its arguments (see test_chat_corpus.expected)."""

    kind: str
    args: tuple[str, ...]


def status(title: str, to: str) -> Op:
    return Op("status", (title, to))


def done(title: str) -> Op:
    return status(title, "completed")


def new(*titles: str) -> tuple[Op, ...]:
    return tuple(Op("new", (title,)) for title in titles)


def gone(title: str) -> Op:
    return Op("gone", (title,))


def renamed(title: str, to: str) -> Op:
    return Op("renamed", (title, to))


def described(title: str, text: str) -> Op:
    return Op("described", (title, text))


def step_done(title: str, step: str, done: bool = True) -> Op:
    return Op("step_done" if done else "step_undone", (title, step))


def step_gone(title: str, step: str) -> Op:
    return Op("step_gone", (title, step))


def step_added(title: str, *steps: str) -> tuple[Op, ...]:
    return tuple(Op("step_added", (title, step)) for step in steps)


@dataclass(frozen=True)
class Case:
    category: str
    say: str
    expect: tuple[Op, ...] = ()
    before: tuple[str, ...] = ()
    reply: tuple[str, ...] = field(default=())


def C(category: str, say: str, *expect: Op | tuple[Op, ...], before: tuple[str, ...] = (),
      reply: tuple[str, ...] = ()) -> Case:
    ops: list[Op] = []
    for item in expect:
        ops.extend(item if isinstance(item, tuple) else (item,))
    return Case(category, say, tuple(ops), before, reply)


OPEN = ("Write the quarterly report", "Call the plumber", "Do the taxes", "Book the dentist",
        "Call mum about Sunday", "Buy groceries", "Clean the garage")
LIST = ("list my tasks",)
ASKS = "?"  # a question back: the reply asks something

CORPUS: tuple[Case, ...] = (
    # --- Creating tasks -----------------------------------------------------------------------
    C("create", "add buy milk", new("buy milk")),
    C("create", "remind me to call mom tomorrow", new("call mom tomorrow")),
    C("create", "I need to pick up the dry cleaning", new("pick up the dry cleaning")),
    C("create", "put dog food on my list", new("dog food")),
    C("create", "ad task: wash the car", new("wash the car")),
    C("create", "new task - email the landlord about the heating",
      new("email the landlord about the heating")),
    C("create", "can you add 'renew car insurance' please", new("renew car insurance")),
    C("create", "i have to water the plants", new("water the plants")),
    C("create", "dont let me forget to pay the electricity bill",
      new("pay the electricity bill")),
    C("create", "todo fix the bike light", new("fix the bike light")),
    C("create", "Add a task to return the library books.", new("return the library books")),
    C("create", "add buy salt and pepper", new("buy salt and pepper")),
    C("create", "i need to: book a haircut", new("book a haircut")),
    C("create", "plz add task call the bank", new("call the bank")),
    C("create", "create a task called Plan the team offsite", new("Plan the team offsite")),
    C("create", "add a new todo: sort out the recycling", new("sort out the recycling")),
    C("create", "note to self: cancel the gym membership", new("cancel the gym membership")),
    C("create", "put 'ring the school' on the list", new("ring the school")),
    C("create", "Add: renew the parking permit", new("renew the parking permit")),
    C("create", "ok add call the vet", new("call the vet")),
    C("create", "i should really get a new phone charger", new("get a new phone charger")),
    C("create", "gotta send the invoice to acme", new("send the invoice to acme")),
    C("create", "remember to defrost the freezer", new("defrost the freezer")),
    C("create", "add a task: Buy a present for Leo", new("Buy a present for Leo")),
    # --- Several tasks in one message -----------------------------------------------------
    C("create-many", "add pick up kids and buy flowers", new("pick up kids", "buy flowers")),
    C("create-many", "add tasks: call grandma, book flights, buy sunscreen",
      new("call grandma", "book flights", "buy sunscreen")),
    C("create-many", "remind me to buy a birthday card and wrap the present",
      new("buy a birthday card", "wrap the present")),
    C("create-many", "i need to vacuum the stairs, mop the kitchen and empty the bins",
      new("vacuum the stairs", "mop the kitchen", "empty the bins")),
    C("create-many", "add 'feed the cat' and 'water the garden'",
      new("feed the cat", "water the garden")),
    C("create-many", "new tasks: pay rent; call the insurer", new("pay rent", "call the insurer")),
    # --- Status changes ----------------------------------------------------------------------
    C("status", "mark the plumber call as done", done("Call the plumber")),
    C("status", "I'm starting on the taxes", status("Do the taxes", "in_progress")),
    C("status", "finished the taxes", done("Do the taxes")),
    C("status", "done with the dentist", done("Book the dentist")),
    C("status", "the plumber is done", done("Call the plumber")),
    C("status", "i called the plumber", done("Call the plumber")),
    C("status", "start working on clean the garage", status("Clean the garage", "in_progress")),
    C("status", "mark book the dentist as in progress", status("Book the dentist", "in_progress")),
    C("status", "complete the groceries task", done("Buy groceries")),
    C("status", "i finally finished writing the quarterly report",
      done("Write the quarterly report")),
    C("status", "check off the dentist", done("Book the dentist")),
    C("status", "reopen renew passport", status("Renew passport", "pending")),
    C("status", "the passport isn't done yet", status("Renew passport", "pending")),
    C("status", "put the quarterly report on hold", status("Write the quarterly report",
                                                           "pending")),
    C("status", "pause the report", status("Write the quarterly report", "pending")),
    C("status", "mark taxes complete", done("Do the taxes")),
    C("status", "tick off call the plumber", done("Call the plumber")),
    C("status", "Done: book the dentist", done("Book the dentist")),
    C("status", "I'm working on the garage now", status("Clean the garage", "in_progress")),
    C("status", "I've started the taxes", status("Do the taxes", "in_progress")),
    C("status", "set groceries to in progress", status("Buy groceries", "in_progress")),
    C("status", "just finished the groceries, yay", done("Buy groceries")),
    C("status", "the garage is finished!!", done("Clean the garage")),
    C("status", "begin the taxes", status("Do the taxes", "in_progress")),
    # --- Steps ---------------------------------------------------------------------------------
    C("steps", "mark the second step of taxes as done", step_done("Do the taxes",
                                                                  "Fill in the tax form")),
    C("steps", "I bought the milk", step_done("Buy groceries", "Milk")),
    C("steps", "got the bread", step_done("Buy groceries", "Bread")),
    C("steps", "add a step to the taxes: check last year's return",
      step_added("Do the taxes", "check last year's return")),
    C("steps", "add 'call the office' as a step to the dentist task",
      step_added("Book the dentist", "call the office")),
    C("steps", "step 2 of the report is done", step_done("Write the quarterly report",
                                                         "Draft the summary")),
    C("steps", "I drafted the summary", step_done("Write the quarterly report",
                                                  "Draft the summary")),
    C("steps", "tick off the tax form step", step_done("Do the taxes", "Fill in the tax form")),
    C("steps", "add steps to groceries: butter, cheese", step_added("Buy groceries", "butter",
                                                                     "cheese")),
    C("steps", "the first step of groceries is done", step_done("Buy groceries", "Milk")),
    C("steps", "uncheck gather receipts", step_done("Do the taxes", "Gather receipts", False)),
    C("steps", "add 3 steps to the dentist task: find the number, call them, put it in the "
      "calendar", step_added("Book the dentist", "find the number", "call them",
                             "put it in the calendar")),
    C("steps", "eggs are done", step_done("Buy groceries", "Eggs")),
    C("steps", "what are the steps for the taxes", reply=("Fill in the tax form",)),
    C("steps", "remove the eggs step from groceries", reply=("Eggs", ASKS)),
    C("steps", "yes", step_gone("Buy groceries", "Eggs"),
      before=("remove the eggs step from groceries",)),
    C("steps", "delete step 3 from the report", reply=("Send it to Maria", ASKS)),
    C("steps", "mark the last step of the taxes done", step_done("Do the taxes",
                                                                 "Submit the return")),
    # --- Renaming and describing ---------------------------------------------------------------
    C("rename", "rename the dentist task to 'Dentist at 3pm'",
      renamed("Book the dentist", "Dentist at 3pm")),
    C("rename", "change the plumber one to call the plumber about the leak",
      renamed("Call the plumber", "call the plumber about the leak")),
    C("rename", "rename garage to clear out the garage",
      renamed("Clean the garage", "clear out the garage")),
    C("rename", "add a note to the dentist task: ask about the cleaning",
      described("Book the dentist", "ask about the cleaning")),
    C("rename", "describe the taxes as due by end of april",
      described("Do the taxes", "due by end of april")),
    C("rename", "set the description of the plumber task to the kitchen sink leaks",
      described("Call the plumber", "the kitchen sink leaks")),
    C("rename", "change the title of the report to Q3 report",
      renamed("Write the quarterly report", "Q3 report")),
    C("rename", "retitle renew passport as renew passport and visa",
      renamed("Renew passport", "renew passport and visa")),
    C("rename", "update the groceries description: from the farmers market",
      described("Buy groceries", "from the farmers market")),
    C("rename", "call the taxes task 'Taxes 2026' instead", renamed("Do the taxes", "Taxes 2026")),
    C("rename", "the garage task should be called sort the garage",
      renamed("Clean the garage", "sort the garage")),
    # --- Questions answered from the data -----------------------------------------------------
    C("question", "how many tasks do I have?", reply=("8", "7")),
    C("question", "how many things are left on my list", reply=("7",)),
    C("question", "what's left on the taxes task?", reply=("Fill in the tax form",
                                                            "Submit the return")),
    C("question", "did I already do the taxes?", reply=("no", "Do the taxes")),
    C("question", "is the passport done", reply=("yes", "Renew passport")),
    C("question", "have i finished the report", reply=("no", "in progress")),
    C("question", "what should I do first?", reply=("Write the quarterly report",)),
    C("question", "what should i work on next", reply=("Write the quarterly report",)),
    C("question", "how many steps are left for groceries", reply=("3",)),
    C("question", "is there anything left on the report", reply=("Draft the summary",)),
    C("question", "how many tasks have i completed", reply=("1",)),
    C("question", "do i have anything in progress", reply=("Write the quarterly report",)),
    C("question", "what have i done so far", reply=("Renew passport",)),
    C("question", "how far along am i with the taxes", reply=("1 of 3",)),
    C("question", "whats left to do", reply=("Call the plumber",)),
    C("question", "is the dentist booked yet?", reply=("no", "Book the dentist")),
    # --- Lists ----------------------------------------------------------------------------------
    C("list", "lsit my tasks", reply=("Call the plumber",)),
    C("list", "show me everything", reply=("Renew passport",)),
    C("list", "what's on my todo list", reply=("Clean the garage",)),
    C("list", "show completed tasks", reply=("Renew passport",)),
    C("list", "find the dentist", reply=("Book the dentist",)),
    C("list", "my tasks pls", reply=("Buy groceries",)),
    C("list", "show me the taxes task", reply=("Gather receipts",)),
    C("list", "list", reply=("Do the taxes",)),
    C("list", "what's on my plate today", reply=("Call the plumber",)),
    C("list", "anything about the dentist?", reply=("Book the dentist",)),
    # --- References: pronouns, numbers, ambiguity -------------------------------------------
    C("reference", "mark it as done", done("Do the taxes"), before=("show me the taxes task",)),
    C("reference", "delete it", reply=(ASKS,)),
    C("reference", "complete it", reply=(ASKS,)),
    C("reference", "mark it as done", before=("show me the car task",), reply=(ASKS,)),
    C("reference", "delete 1", reply=("Clean the garage", ASKS)),
    C("reference", "yes", gone("Clean the garage"), before=("delete 1",)),
    C("reference", "done 4", done("Book the dentist"), before=LIST),
    C("reference", "mark the 2nd one as done", done("Buy groceries"), before=LIST),
    C("reference", "actually finish that one", status("Do the taxes", "completed"),
      before=("start the taxes",)),
    C("reference", "mark that one done", renamed("Book the dentist", "Dentist at 3pm"),
      done("Book the dentist"), before=("rename the dentist task to Dentist at 3pm",)),
    C("reference", "complete call", reply=("Call the plumber", "Call mum about Sunday")),
    C("reference", "the plumber one", done("Call the plumber"), before=("complete call",)),
    # The candidates are listed in the app's order, newest first: 1. Call mum about Sunday,
    # 2. Call the plumber.
    C("reference", "2", done("Call the plumber"), before=("complete call",)),
    C("reference", "complete task 3", done("Call mum about Sunday"), before=LIST),
    C("reference", "show task 6", reply=("Do the taxes",)),
    C("reference", "it's done", reply=(ASKS,)),
    C("reference", "start it", status("Buy groceries", "in_progress"),
      before=("what's left on the groceries",)),
    C("reference", "what's in it?", reply=("Milk",), before=("find groceries",)),
    # --- Asking before deleting, cancelling or changing many -------------------------------
    C("confirm", "delete the plumber task", reply=("Call the plumber", ASKS)),
    C("confirm", "yes", gone("Call the plumber"), before=("delete the plumber task",)),
    C("confirm", "no", before=("delete the plumber task",)),
    C("confirm", "yes please", gone("Call the plumber"), before=("delete the plumber task",)),
    C("confirm", "yep go ahead", gone("Call the plumber"), before=("delete the plumber task",)),
    C("confirm", "add buy stamps", new("buy stamps"), before=("delete the plumber task",)),
    C("confirm", "yes", new("buy stamps"), before=("delete the plumber task", "add buy stamps")),
    C("confirm", "mark all as done", reply=("Call the plumber", ASKS)),
    C("confirm", "yes", *(done(title) for title in OPEN), before=("mark all as done",)),
    C("confirm", "no thanks", before=("mark all as done",)),
    C("confirm", "delete all", reply=(ASKS,)),
    C("confirm", "what?", before=("delete all",)),
    C("confirm", "cancel the dentist", reply=("Book the dentist", ASKS)),
    C("confirm", "ok", status("Book the dentist", "cancelled"), before=("cancel the dentist",)),
    C("confirm", "actually no", before=("cancel the dentist",)),
    C("confirm", "drop the garage", reply=("Clean the garage", ASKS)),
    C("confirm", "sure", status("Clean the garage", "cancelled"), before=("drop the garage",)),
    C("confirm", "complete 2 and 3", before=LIST, reply=("Buy groceries", "Call mum about Sunday",
                                                         ASKS)),
    C("confirm", "yes", done("Buy groceries"), done("Call mum about Sunday"),
      before=(*LIST, "complete 2 and 3")),
    C("confirm", "delete everything about taxes", reply=("Do the taxes", ASKS)),
    C("confirm", "remove the taxes", reply=("Do the taxes", ASKS)),
    C("confirm", "get rid of the garage task", reply=("Clean the garage", ASKS)),
    C("confirm", "trash task 2", reply=("Renew passport", ASKS)),
    C("confirm", "cancel everything", reply=(ASKS,)),
    C("confirm", "yes", gone("Do the taxes"), before=("delete everything about taxes",)),
    C("confirm", "erase the report pls", reply=("Write the quarterly report", ASKS)),
    # --- Typos ------------------------------------------------------------------------------
    C("typo", "mark teh plumber call as done", done("Call the plumber")),
    C("typo", "complet the dentist", done("Book the dentist")),
    C("typo", "delte the garage", reply=("Clean the garage", ASKS)),
    C("typo", "finshed the taxes", done("Do the taxes")),
    C("typo", "mark the quartely report as done", done("Write the quarterly report")),
    C("typo", "add tsak: book a table", new("book a table")),
    C("typo", "remnid me to call the bank", new("call the bank")),
    C("typo", "shwo my tasks", reply=("Clean the garage",)),
    C("typo", "how many taks do i have", reply=("8",)),
    C("typo", "renmae the garage task to tidy the garage",
      renamed("Clean the garage", "tidy the garage")),
    C("typo", "strat the taxes", status("Do the taxes", "in_progress")),
    C("typo", "markk groceries done", done("Buy groceries")),
    C("typo", "complete the dentst", done("Book the dentist")),
    C("typo", "reopn the passport", status("Renew passport", "pending")),
    C("typo", "finsihed the groceris", done("Buy groceries")),
    C("typo", "whats lfet on the taxes", reply=("Submit the return",)),
    # --- Politeness and filler ---------------------------------------------------------------
    C("polite", "hey could you please mark the taxes as done thanks", done("Do the taxes")),
    C("polite", "umm so i need to book a vet appointment", new("book a vet appointment")),
    C("polite", "pls remind me to text jo", new("text jo")),
    C("polite", "hi! can u show me my tasks?", reply=("Call the plumber",)),
    C("polite", "thank you so much!"),
    C("polite", "ok cool"),
    C("polite", "good morning"),
    C("polite", "would you mind adding call the council to my list", new("call the council")),
    C("polite", "oh and also the plumber is done", done("Call the plumber")),
    C("polite", "Hello there, please add: book train tickets. Thanks!",
      new("book train tickets")),
    C("polite", "could u kindly tick off the dentist for me", done("Book the dentist")),
    C("polite", "right, the taxes are finally done :)", done("Do the taxes")),
    # --- Small talk and what cannot be done ---------------------------------------------------
    C("other", "what's the weather like"),
    C("other", "i'm so tired today"),
    C("other", "blah"),
    C("other", "what can you do", reply=("add",)),
    C("other", "asdfgh"),
    C("other", "tell me a joke"),
    C("other", "delete", reply=(ASKS,)),
    C("other", "done", reply=(ASKS,)),
    C("other", "it"),
    C("other", "i hate mondays"),
)
