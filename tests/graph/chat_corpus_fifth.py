"""A fifth corpus in the format of `chat_corpus`, written blind (without reading the
assistant's code or the other corpora's messages) to measure how the offline assistant
generalises, as a held-back corpus would: another account, other phrasings, the same kinds of
request. Written blind on 2026-12-07. First run, before any fix it led to, on the assistant at
commit 2487f90 (which carries the fixes the third corpus led to, made before this file was
read): 111/150 right (74.0%), 5 harmful. The scorer had first crashed on the case "add a note
to it" (after "add book flights to lisbon"), whose expectation changes a task the case itself
creates; the scorer was taught to check such a task's state (test_chat_corpus.expected), no
expectation was changed, and that run is the one recorded.
After every case was written, a style check (`ruff format --check` on chat_corpus_third)
printed much of that corpus's cases by accident; no case or expectation here was changed after.

Expectations are a product owner's, written from what the user means: a delete, a cancel
(also "drop", "scrap", "get rid of") and every change to more than one existing task is
proposed (a question back, nothing changed) and done only after a yes in the next message; a
"no", "actually wait" or anything that is not a yes leaves everything as it was. A step
removal is written with a "yes" after it, as asking first and doing it at once are both
reasonable for a step. Creating several tasks in one message is done at once, and so is
anything else on one named task (finishing, starting, reopening, renaming, describing,
ticking or adding steps, even several steps of that one task). "Reopen" (and "bring back",
"not done after all") moves a task back to pending. When unsure (a word that fits two tasks,
"it" with nothing before, a number with no list shown, "all of them" with nothing named) the
assistant asks and changes nothing; when two tasks fit, its reply names both. Questions change
nothing and their reply holds the data asked for.

The account, oldest first. The app's default list (all tasks, newest first) is therefore:
1 Do the weekly shop, 2 Buy a birthday present for Dad, 3 Call Dad about the weekend, 4 Book
the car service, 5 Prepare for the job interview, 6 Write the thank-you cards (cancelled),
7 Water the plants (completed), 8 Sort out the car insurance, 9 Pay the council tax,
10 Organise the school fundraiser; and "list my tasks" (the open ones, newest first): 1 Do the
weekly shop, 2 Buy a birthday present for Dad, 3 Call Dad about the weekend, 4 Book the car
service, 5 Prepare for the job interview, 6 Sort out the car insurance, 7 Pay the council
tax, 8 Organise the school fundraiser.

Two pairs of tasks share a word on purpose: "car" (Sort out the car insurance, Book the car
service) and "dad" (Call Dad about the weekend, Buy a birthday present for Dad).
"""

from __future__ import annotations

from tests.graph.chat_corpus import (
    ASKS,
    C,
    Op,
    Seed,
    described,
    done,
    gone,
    new,
    renamed,
    status,
    step_added,
    step_done,
    step_gone,
)

ACCOUNT = (
    Seed("Organise the school fundraiser", "in_progress", (
        ("Email the parents", True), ("Book the hall", False),
        ("Order the raffle prizes", False), ("Print the posters", False))),
    Seed("Pay the council tax"),
    Seed("Sort out the car insurance", steps=(
        ("Get three quotes", True), ("Compare the policies", False),
        ("Switch to the cheapest", False))),
    Seed("Water the plants", "completed"),
    Seed("Write the thank-you cards", "cancelled"),
    Seed("Prepare for the job interview", "in_progress", (
        ("Research the company", True), ("Practise the common questions", False),
        ("Iron the shirt", False))),
    Seed("Book the car service"),
    Seed("Call Dad about the weekend"),
    Seed("Buy a birthday present for Dad"),
    Seed("Do the weekly shop", steps=(
        ("Milk", False), ("Bananas", False), ("Coffee", False), ("Rice", False))),
)

FUND = "Organise the school fundraiser"
TAX = "Pay the council tax"
INSURANCE = "Sort out the car insurance"
PLANTS = "Water the plants"
CARDS = "Write the thank-you cards"
INTERVIEW = "Prepare for the job interview"
SERVICE = "Book the car service"
CALL_DAD = "Call Dad about the weekend"
PRESENT = "Buy a birthday present for Dad"
SHOP = "Do the weekly shop"
OPEN = (SHOP, PRESENT, CALL_DAD, SERVICE, INTERVIEW, INSURANCE, TAX, FUND)
LIST = ("list my tasks",)
ALL = ("show all my tasks, including the done and cancelled ones",)
CARS = ("insurance", "service")  # a reply naming both "car" tasks
DADS = ("weekend", "present")  # a reply naming both "dad" tasks


def started(title: str) -> Op:
    return status(title, "in_progress")


def reopened(title: str) -> Op:
    return status(title, "pending")


def cancelled(title: str) -> Op:
    return status(title, "cancelled")


CORPUS = (
    # --- Creating tasks (done at once, several too) --------------------------------------------
    C("create", "remind me to ring the gas company", new("ring the gas company")),
    C("create", "i need to renew my driving licence", new("renew my driving licence")),
    C("create", "put defrost the freezer on my list", new("defrost the freezer")),
    C("create", "add get a haircut and book the vet for the cat",
      new("get a haircut", "book the vet for the cat")),
    C("create", "can you add: return the parcel, buy printer ink, email the landlord",
      new("return the parcel", "buy printer ink", "email the landlord")),
    C("create", "could you pls add a task to fix the leaky tap", new("fix the leaky tap")),
    C("create", "new task: sign up for the 5k", new("sign up for the 5k")),
    C("create", "ok so i need to cancel my netflix subscription",
      new("cancel my netflix subscription")),
    C("create", "dont let me forget to send the rent", new("send the rent")),
    C("create", "remind me to pick up the kids costumes and also to pay the window cleaner",
      new("pick up the kids costumes", "pay the window cleaner")),
    C("create", "todo: organise the loft", new("organise the loft")),
    C("create", "i gotta get the boiler serviced", new("get the boiler serviced")),
    C("create", "🏖️ add plan the summer holiday pls", new("plan the summer holiday")),
    C("create", "pop ring the council about the bins on my list",
      new("ring the council about the bins")),

    # --- Status by synonym (finish/start/reopen at once; cancel, drop, scrap proposed) ---------
    C("status", "paid the council tax 🎉", done(TAX)),
    C("status", "finished the fundraiser!! what a week", done(FUND)),
    C("status", "done with the job interview prep", done(INTERVIEW)),
    C("status", "the weekly shop is sorted", done(SHOP)),
    C("status", "starting on dads present now", started(PRESENT)),
    C("status", "call dad about the weekend - done ✅", done(CALL_DAD)),
    C("status", "mark the car insurance as complete", done(INSURANCE)),
    C("status", "working on the car service today", started(SERVICE)),
    C("status", "reopen water the plants, theyre dry again", reopened(PLANTS)),
    C("status", "actually the thank you cards are back on, can you bring that one back",
      reopened(CARDS)),
    C("status", "put the fundraiser back to not started", reopened(FUND)),
    C("status", "cancel the car service", reply=(ASKS,)),
    C("status", "drop the birthday present for dad, were all chipping in for one together",
      reply=(ASKS,)),
    C("status", "scrap the council tax one", reply=(ASKS,)),

    # --- Steps: by content, by ordinal, adding, unticking, removing ----------------------------
    C("steps", "got the milk", step_done(SHOP, "Milk")),
    C("steps", "tick off the second one on the fundraiser list", step_done(FUND, "Book the hall")),
    C("steps", "got bananas and coffee", step_done(SHOP, "Bananas"), step_done(SHOP, "Coffee")),
    C("steps", "ironed the shirt", step_done(INTERVIEW, "Iron the shirt")),
    C("steps", "compared the policies for the car insurance",
      step_done(INSURANCE, "Compare the policies")),
    C("steps", "add eggs to the weekly shop", step_added(SHOP, "eggs")),
    C("steps", "add a step to the interview: plan the route there",
      step_added(INTERVIEW, "plan the route there")),
    C("steps", "for the fundraiser i also need to sort the cake stall and find volunteers",
      step_added(FUND, "sort the cake stall", "find volunteers")),
    C("steps", "untick email the parents, half of them never got it",
      step_done(FUND, "Email the parents", False)),
    C("steps", "the last step on the car insurance is done",
      step_done(INSURANCE, "Switch to the cheapest")),
    C("steps", "yes", step_gone(FUND, "Print the posters"),
      before=("remove the posters step from the fundraiser",)),
    C("steps", "tick off the first 2 on the shopping", step_done(SHOP, "Milk"),
      step_done(SHOP, "Bananas")),
    C("steps", "check off coffee on the grocery list", step_done(SHOP, "Coffee")),
    C("steps", "practised the questions 👍", step_done(INTERVIEW, "Practise the common questions")),

    # --- Rename and describe (at once) ---------------------------------------------------------
    C("edit", "rename the weekly shop to big shop at aldi", renamed(SHOP, "big shop at aldi")),
    C("edit", "change call dad about the weekend to call dad about sunday lunch",
      renamed(CALL_DAD, "call dad about sunday lunch")),
    C("edit", "can you call the car service one 'MOT and service' instead",
      renamed(SERVICE, "MOT and service")),
    C("edit", "add a note to the council tax: ref number is on the letter in the drawer",
      described(TAX, "ref number is on the letter in the drawer")),
    C("edit", "description for the job interview - 2pm at the harbour office, ask for Priya",
      described(INTERVIEW, "2pm at the harbour office, ask for Priya")),
    C("edit", "put a note on dads present saying he wants the new crime novel",
      described(PRESENT, "he wants the new crime novel")),
    C("edit", "retitle the fundraiser to 'Organise the summer fair'",
      renamed(FUND, "Organise the summer fair")),
    C("edit", "the car insurance one should be called renew the car insurance",
      renamed(INSURANCE, "renew the car insurance")),
    C("edit", "rename pay the council tax to pay council tax for march",
      renamed(TAX, "pay council tax for march")),
    C("edit", "note on the weekly shop: use the voucher", described(SHOP, "use the voucher")),
    C("edit", "can u change the name of the interview task to prep for google interview",
      renamed(INTERVIEW, "prep for google interview")),
    C("edit", "add details to the car service: garage on mill road, ask for a courtesy car",
      described(SERVICE, "garage on mill road, ask for a courtesy car")),
    C("edit", "the plants one should say water the houseplants",
      renamed(PLANTS, "water the houseplants")),

    # --- Questions answered from the data (nothing changes) ------------------------------------
    C("question", "how many tasks have i got left", reply=("8",)),
    C("question", "whats left on the shop list", reply=("Milk", "Bananas", "Coffee", "Rice")),
    C("question", "what am i working on at the moment", reply=("fundraiser", "interview")),
    C("question", "what have i finished", reply=("plants",)),
    C("question", "how many steps are left on the fundraiser", reply=("3",)),
    C("question", "anything still to do on the car insurance?",
      reply=("Compare the policies", "Switch to the cheapest")),
    C("question", "what's left for the interview",
      reply=("Practise the common questions", "Iron the shirt")),
    C("question", "is the council tax done", reply=("council tax",)),
    C("question", "have i watered the plants", reply=("plants",)),
    C("question", "whats on my list", reply=("weekly shop", "council tax", "fundraiser")),
    C("question", "what did i cancel", reply=("thank-you",)),
    C("question", "how many are in progress", reply=("2",)),
    C("question", "what should i do first"),
    C("question", "is there anything about dad on there", reply=DADS),

    # --- Typos in commands and titles ----------------------------------------------------------
    C("typo", "mark teh council tax as done", done(TAX)),
    C("typo", "i finsihed the job intervew", done(INTERVIEW)),
    C("typo", "remmber to buy stamps", new("buy stamps")),
    C("typo", "cancle the car servce", reply=(ASKS,)),
    C("typo", "strated the car insurence", started(INSURANCE)),
    C("typo", "whats left on teh shoping lsit", reply=("Milk", "Bananas", "Coffee", "Rice")),
    C("typo", "got teh milk", step_done(SHOP, "Milk")),
    C("typo", "ad a task to phone the dentist", new("phone the dentist")),
    C("typo", "lsit my tasks", reply=("weekly shop", "fundraiser")),
    C("typo", "dun with the fundriaser", done(FUND)),
    C("typo", "renmae the weekly shop to friday shop", renamed(SHOP, "friday shop")),
    C("typo", "delte the thank you crads", reply=(ASKS,)),
    C("typo", "tick of bannanas", step_done(SHOP, "Bananas")),

    # --- Pronouns and "the last one" after a named task ----------------------------------------
    C("pronoun", "ok mark it done", done(INSURANCE),
      before=("whats left on the car insurance",)),
    C("pronoun", "ok ive done it now", done(TAX), before=("is the council tax done?",)),
    C("pronoun", "add a note to it: check easyjet first", new("book flights to lisbon"),
      described("book flights to lisbon", "check easyjet first"),
      before=("add book flights to lisbon",)),
    C("pronoun", "add a step to it - ring the garage", started(SERVICE),
      step_added(SERVICE, "ring the garage"), before=("started the car service",)),
    C("pronoun", "tick off the last one", step_done(INTERVIEW, "Iron the shirt"),
      before=("show me the interview steps",)),
    C("pronoun", "rename it to summer fair", renamed(FUND, "summer fair"),
      before=("whats on the fundraiser",)),
    C("pronoun", "its done now 🙌", done(INTERVIEW),
      before=("hows the job interview prep going",)),
    C("pronoun", "and the present for him too", done(CALL_DAD), done(PRESENT),
      before=("call dad about the weekend is done",)),
    C("pronoun", "got the last one", step_done(SHOP, "Rice"),
      before=("whats left on the shopping",)),
    C("pronoun", "start it", started(SERVICE), before=("tell me about the car service",)),
    C("pronoun", "oh and it needs a note: pay online on the council website", started(TAX),
      described(TAX, "pay online on the council website"),
      before=("ive started the council tax",)),
    C("pronoun", "and put a step on the last one: find the ticket",
      new("pick up the dry cleaning"), step_added("pick up the dry cleaning", "find the ticket"),
      before=("add pick up the dry cleaning",)),
    C("pronoun", "cancel it", reply=(ASKS,), before=("is the fundraiser done",)),
    C("pronoun", "what steps does it have",
      reply=("Get three quotes", "Compare the policies", "Switch to the cheapest"),
      before=("what about the car insurance",)),

    # --- Numbers after a list was shown --------------------------------------------------------
    C("number", "done with 3", done(CALL_DAD), before=LIST),
    C("number", "start 6", started(INSURANCE), before=LIST),
    C("number", "4 is done", done(SERVICE), before=LIST),
    C("number", "delete 7", reply=(ASKS,), before=LIST),
    C("number", "yes", gone(TAX), before=(*LIST, "delete 7")),
    C("number", "rename 2 to get dad a book", renamed(PRESENT, "get dad a book"), before=LIST),
    C("number", "whats on 8", reply=("Book the hall", "Order the raffle prizes",
                                     "Print the posters"), before=LIST),
    C("number", "1 and 2 are done", reply=(ASKS,), before=LIST),
    C("number", "yep", done(SHOP), done(PRESENT), before=(*LIST, "1 and 2 are done")),
    C("number", "done with 12", reply=(ASKS,), before=LIST),
    C("number", "2 is done", step_done(INTERVIEW, "Practise the common questions"),
      before=("show me the steps on the interview",)),
    C("number", "reopen 7", reopened(PLANTS), before=ALL),
    C("number", "number 5 - add a note: bring copies of my cv",
      described(INTERVIEW, "bring copies of my cv"), before=LIST),

    # --- Confirmations: proposed first, done only after a yes ----------------------------------
    C("confirm", "delete the thank you cards task", reply=(ASKS,)),
    C("confirm", "yes", gone(CARDS), before=("delete the thank you cards task",)),
    C("confirm", "no", before=("delete the thank you cards task",)),
    C("confirm", "yep go ahead", cancelled(SERVICE), before=("cancel the car service",)),
    C("confirm", "actually wait", before=("cancel the car service",)),
    C("confirm", "get rid of the plants one", reply=(ASKS,)),
    C("confirm", "yes pls", gone(PLANTS), before=("get rid of the plants one",)),
    C("confirm", "clear out everything thats finished or cancelled", reply=(ASKS,)),
    C("confirm", "yes", gone(PLANTS), gone(CARDS),
      before=("clear out everything thats finished or cancelled",)),
    C("confirm", "yeah", done(CALL_DAD), done(PRESENT),
      before=("mark both the dad ones as done",)),
    C("confirm", "nope leave them", before=("cancel the car insurance and the car service",)),
    C("confirm", "sure", gone(TAX), before=("delete the council tax",)),
    C("confirm", "hmm no actually i still need that", before=("delete the council tax",)),
    C("confirm", "yes cancel it", cancelled(FUND), before=("scrap the fundraiser",)),
    C("confirm", "yes", step_gone(SHOP, "Rice"), before=("take rice off the shopping list",)),

    # --- Ambiguous: two tasks fit, the assistant names both and changes nothing ----------------
    C("ambiguous", "mark the car one done", reply=CARS),
    C("ambiguous", "the dad thing is done", reply=DADS),
    C("ambiguous", "start the car task", reply=CARS),
    C("ambiguous", "rename the dad one to call dad on sunday", reply=DADS),
    C("ambiguous", "delete the car one", reply=CARS),
    C("ambiguous", "add a step to the car task: check the tyre pressure", reply=CARS),
    C("ambiguous", "note on the dad one: he likes jazz", reply=DADS),
    C("ambiguous", "hmm can you cancel the dad one", reply=DADS),
    C("ambiguous", "whats left on the car one", reply=CARS),
    C("ambiguous", "done w dad", reply=DADS),
    C("ambiguous", "ive started on the car", reply=CARS),
    C("ambiguous", "sorted the car 🚗", reply=CARS),
    C("ambiguous", "mark it done", reply=(ASKS,),
      before=("whats left on the car insurance and the car service",)),

    # --- Messages that must change nothing -----------------------------------------------------
    C("nothing", "hi"),
    C("nothing", "thanks!!"),
    C("nothing", "delete it", reply=(ASKS,)),
    C("nothing", "mark all of them done", reply=(ASKS,)),
    C("nothing", "lol ok"),
    C("nothing", "done with 3", reply=(ASKS,)),
    C("nothing", "yes"),
    C("nothing", "hows it going"),
    C("nothing", "ok", before=("delete the council tax", "whats left on the shop list")),
    C("nothing", "whats the weather like tomorrow"),
    C("nothing", "hmm"),
    C("nothing", "cancel", reply=(ASKS,)),
    C("nothing", "ugh mondays 😩"),
)
