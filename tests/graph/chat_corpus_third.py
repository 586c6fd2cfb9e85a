"""A third corpus in the format of `chat_corpus`, written blind (without reading the
assistant's code or the other corpora's messages) to measure how the offline assistant
generalises, as a held-back corpus would: another account, other phrasings, the same
categories. First run, on the assistant merged in eb92e60 with the expectations as first
written (commit 3c41930): 141/196 right (71.9%), 6 harmful; no expectation was changed after.

Expectations are a product owner's: a delete, a cancel and every change to more than one
existing task is proposed (a question back, nothing changed) and done only after a yes in the
next message; a step removal is written with a "yes" after it, as asking first and doing it
at once are both reasonable for a step. Creating several tasks in one message is done at
once. "Reopen" moves a task back to pending.

The account, oldest first. The app's default list (all tasks, newest first) is therefore:
1 Book a table for Emma's birthday, 2 Buy a present for Emma (cancelled), 3 Fix the bike
brakes, 4 Cancel the gym membership, 5 Repaint the bedroom (completed), 6 Shop for the dinner
party, 7 Return the library books, 8 Prepare the team presentation, 9 Take Biscuit to the
vet, 10 Plan the camping trip; and "list my tasks" (the open ones, newest first): 1 Book a
table for Emma's birthday, 2 Fix the bike brakes, 3 Cancel the gym membership, 4 Shop for the
dinner party, 5 Return the library books, 6 Prepare the team presentation, 7 Take Biscuit to
the vet, 8 Plan the camping trip.
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
    Seed("Plan the camping trip", "in_progress", (
        ("Book the campsite", True), ("Buy a new tent", False),
        ("Pack the sleeping bags", False), ("Check the weather forecast", False))),
    Seed("Take Biscuit to the vet"),
    Seed("Prepare the team presentation", "in_progress", (
        ("Outline the talk", True), ("Design the charts", False), ("Rehearse with Tom", False))),
    Seed("Return the library books"),
    Seed("Shop for the dinner party", steps=(
        ("Wine", False), ("Cheese", False), ("Candles", False), ("Flowers", False))),
    Seed("Repaint the bedroom", "completed"),
    Seed("Cancel the gym membership"),
    Seed("Fix the bike brakes", steps=(
        ("Watch a repair video", True), ("Buy brake pads", False), ("Adjust the cables", False))),
    Seed("Buy a present for Emma", "cancelled"),
    Seed("Book a table for Emma's birthday"),
)

CAMP = "Plan the camping trip"
VET = "Take Biscuit to the vet"
TALK = "Prepare the team presentation"
BOOKS = "Return the library books"
PARTY = "Shop for the dinner party"
ROOM = "Repaint the bedroom"
GYM = "Cancel the gym membership"
BIKE = "Fix the bike brakes"
PRESENT = "Buy a present for Emma"
TABLE = "Book a table for Emma's birthday"
OPEN = (CAMP, VET, TALK, BOOKS, PARTY, GYM, BIKE, TABLE)
LIST = ("list my tasks",)


def started(title: str) -> Op:
    return status(title, "in_progress")


def reopened(title: str) -> Op:
    return status(title, "pending")


def cancelled(title: str) -> Op:
    return status(title, "cancelled")


CORPUS = (
    # create: one, several, "remind me to", "put X on my list", titles that start with verbs
    C("create", "remind me to buy milk", new("buy milk")),
    C("create", "remind me to call the bank tomorrow", new("call the bank tomorrow")),
    C("create", "put renew my library card on my list", new("renew my library card")),
    C("create", "i need to book an eye test", new("book an eye test")),
    C("create", "ok so i need to get a haircut and also pick up the parcel from the post office",
      new("get a haircut", "pick up the parcel from the post office")),
    C("create", "add: buy stamps, post the letters, renew the parking permit",
      new("buy stamps", "post the letters", "renew the parking permit")),
    C("create", "new todo - descale the kettle", new("descale the kettle")),
    C("create", "can u add call the electrician about the sockets",
      new("call the electrician about the sockets")),
    C("create", "add task 'back up my laptop'", new("back up my laptop")),
    C("create", "gotta pay the window cleaner, add that", new("pay the window cleaner")),
    C("create", "dont let me forget to order the birthday cake", new("order the birthday cake")),
    C("create", "remind me to ring the council about the bins",
      new("ring the council about the bins")),
    C("create", "add sign up for the 10k run to my list", new("sign up for the 10k run")),
    C("create", "i have to renew my driving licence and book the car in for its mot",
      new("renew my driving licence", "book the car in for its mot")),
    C("create", "create a task: research standing desks", new("research standing desks")),
    C("create", "put 'cancel netflix' on my todo list", new("cancel netflix")),
    C("create", "add start composting to my list", new("start composting")),
    C("create", "need to finish the scarf i was knitting",
      new("finish the scarf i was knitting")),
    C("create", "add three things: mop the kitchen, hoover the stairs, clean the windows",
      new("mop the kitchen", "hoover the stairs", "clean the windows")),
    C("create", "add a task", reply=(ASKS,)),
    C("create", "remind me", reply=(ASKS,)),

    # status changes by synonym
    C("status", "started on the bike brakes", started(BIKE)),
    C("status", "im working on the library books now", started(BOOKS)),
    C("status", "finished the vet visit", done(VET)),
    C("status", "the team presentation is done!!", done(TALK)),
    C("status", "returned the library books today", done(BOOKS)),
    C("status", "mark the camping trip as complete", done(CAMP)),
    C("status", "set the vet one to in progress", started(VET)),
    C("status", "kicking off the dinner party shopping", started(PARTY)),
    C("status", "reopen the bedroom task", reopened(ROOM)),
    C("status", "the bedroom isnt actually finished, put it back on my list", reopened(ROOM)),
    C("status", "bring back the present for emma, i still want to get her something",
      reopened(PRESENT)),
    C("status", "i cancelled my gym membership finally", done(GYM)),
    C("status", "cancel the library books task", reply=(ASKS,)),
    C("status", "drop the bike brakes", reply=(ASKS,)),
    C("status", "forget the dinner party shopping, its not happening", reply=(ASKS,)),
    C("status", "booked the table for emmas birthday", done(TABLE)),
    C("status", "gym membership is sorted", done(GYM)),
    C("status", "not doing the camping trip anymore", reply=(ASKS,)),
    C("status", "biscuit has been to the vet", done(VET)),
    C("status", "un-complete the bedroom", reopened(ROOM)),
    C("status", "i'm about to start the vet thing", started(VET)),

    # steps: by ordinal, by content, "I bought the X", add, remove
    C("steps", "done the second step of the camping trip", step_done(CAMP, "Buy a new tent")),
    C("steps", "tick off the charts step on the presentation",
      step_done(TALK, "Design the charts")),
    C("steps", "i bought the brake pads", step_done(BIKE, "Buy brake pads")),
    C("steps", "got the wine", step_done(PARTY, "Wine")),
    C("steps", "picked up the cheese and the candles",
      step_done(PARTY, "Cheese"), step_done(PARTY, "Candles")),
    C("steps", "rehearsed with tom this morning", step_done(TALK, "Rehearse with Tom")),
    C("steps", "checked the forecast, looks sunny",
      step_done(CAMP, "Check the weather forecast")),
    C("steps", "mark step 3 of the bike as done", step_done(BIKE, "Adjust the cables")),
    C("steps", "the last step of the camping trip is done",
      step_done(CAMP, "Check the weather forecast")),
    C("steps", "first step on the dinner party list is done", step_done(PARTY, "Wine")),
    C("steps", "uncheck the repair video step, need to watch it again",
      step_done(BIKE, "Watch a repair video", done=False)),
    C("steps", "add a step to the vet task: find her vaccination card",
      step_added(VET, "find her vaccination card")),
    C("steps", "add buy marshmallows and charge the lantern to the camping trip",
      step_added(CAMP, "buy marshmallows", "charge the lantern")),
    C("steps", "add bread to the dinner party shopping", step_added(PARTY, "bread")),
    C("steps", "the presentation also needs a step: print the handouts",
      step_added(TALK, "print the handouts")),
    C("steps", "add 2 steps to the bike: pump the tyres, oil the chain",
      step_added(BIKE, "pump the tyres", "oil the chain")),
    C("steps", "yes", step_gone(PARTY, "Flowers"),
      before=("remove the flowers from the dinner party list",)),
    C("steps", "yes", step_gone(PARTY, "Candles"), before=("take the candles step off",)),
    C("steps", "yes", step_gone(CAMP, "Pack the sleeping bags"),
      before=("delete the third step from the camping trip",)),
    C("steps", "the tent is bought", step_done(CAMP, "Buy a new tent")),
    C("steps", "bought flowers for the party", step_done(PARTY, "Flowers")),
    C("steps", "the sleeping bags are packed", step_done(CAMP, "Pack the sleeping bags")),
    C("steps", "cables on the bike are adjusted", step_done(BIKE, "Adjust the cables")),

    # rename and describe
    C("edit", "rename the bike task to Get the bike serviced",
      renamed(BIKE, "Get the bike serviced")),
    C("edit", "change the library books title to Return books to the central library",
      renamed(BOOKS, "Return books to the central library")),
    C("edit", "call the vet task 'Biscuit annual checkup' instead",
      renamed(VET, "Biscuit annual checkup")),
    C("edit", "the dinner party one should be called Shop for Saturday dinner",
      renamed(PARTY, "Shop for Saturday dinner")),
    C("edit", "rename the emma one to Emma stuff", reply=(ASKS,)),
    C("edit", "add a note to the vet task: she needs her rabies shot",
      described(VET, "she needs her rabies shot")),
    C("edit", "description for the gym membership: call them, they dont do it online",
      described(GYM, "call them, they dont do it online")),
    C("edit", "notes for the presentation: its on thursday at 10am",
      described(TALK, "its on thursday at 10am")),
    C("edit", "retitle camping trip to Plan the Lake District camping trip",
      renamed(CAMP, "Plan the Lake District camping trip")),
    C("edit", "change 'Return the library books' to 'Return library books and pay the fine'",
      renamed(BOOKS, "Return library books and pay the fine")),
    C("edit", "describe the bike task as front brake squeaks, back one is loose",
      described(BIKE, "front brake squeaks, back one is loose")),
    C("edit", "rename it", reply=(ASKS,)),

    # questions answered from the data: nothing changes
    C("question", "how many tasks have i got left", reply=("8",)),
    C("question", "how many things have i finished", reply=("1",)),
    C("question", "whats left on the camping trip",
      reply=("tent", "sleeping bags", "forecast")),
    C("question", "did i already repaint the bedroom?", reply=("yes",)),
    C("question", "is the vet thing done yet", reply=("no",)),
    C("question", "what should i tackle first"),
    C("question", "whats in progress right now", reply=("camping", "presentation")),
    C("question", "what steps does the presentation have", reply=("charts", "tom")),
    C("question", "how many steps are left on the bike", reply=("2",)),
    C("question", "whats on my list", reply=("bike", "vet")),
    C("question", "anything i cancelled?", reply=("present",)),
    C("question", "which ones are done", reply=("bedroom",)),
    C("question", "is the present for emma done", reply=("cancel",)),
    C("question", "what do i still need for the dinner party",
      reply=("wine", "cheese", "candles", "flowers")),
    C("question", "whats next on the presentation", reply=("charts",)),
    C("question", "how many tasks in total", reply=("10",)),
    C("question", "do i have anything for emma", reply=("birthday",)),

    # references: numbers after a list, pronouns, partial titles, fragments that name nothing
    C("reference", "the third one is done", done(GYM), before=LIST, reply=("gym",)),
    C("reference", "start number 2", started(BIKE), before=LIST, reply=("bike",)),
    C("reference", "delete 5", before=LIST, reply=(ASKS,)),
    C("reference", "yes", gone(BOOKS), before=(*LIST, "delete 5")),
    C("reference", "mark it done", done(VET), before=("tell me about the vet task",)),
    C("reference", "actually just finish it", done(BOOKS),
      before=("start on the library books",)),
    C("reference", "bought the brake pads for it", started(BIKE),
      step_done(BIKE, "Buy brake pads"), before=("im doing the bike today",)),
    C("reference", "ok the tent is done", step_done(CAMP, "Buy a new tent"),
      before=("whats left on the camping trip",)),
    C("reference", "rename that one to Q3 team presentation",
      renamed(TALK, "Q3 team presentation"), before=("show me the presentation",)),
    C("reference", "complete number 4", done(GYM), reply=("gym",)),
    C("reference", "the last one's done", done(CAMP), before=LIST, reply=("camping",)),
    C("reference", "done with the brakes", done(BIKE)),
    C("reference", "add olives to it", step_added(PARTY, "olives"),
      before=("whats on the dinner party list",)),
    C("reference", "mark it done", before=("show me the sailing task",), reply=(ASKS,)),
    C("reference", "mark it as done", reply=(ASKS,)),
    C("reference", "complete the amp"),
    C("reference", "delete the able"),
    C("reference", "finish 2 and 5", before=LIST, reply=(ASKS,)),
    C("reference", "the trip is done", done(CAMP)),
    C("reference", "finished the team thing", done(TALK)),
    C("reference", "yes", cancelled(GYM), before=("show me the gym one", "cancel it")),
    C("reference", "ok start it then", started(BIKE), before=("is the bike done",)),

    # typos in command words and titles
    C("typo", "delet the gym task", reply=(ASKS,)),
    C("typo", "mark the bike brakes as dnoe", done(BIKE)),
    C("typo", "strat the library books", started(BOOKS)),
    C("typo", "renmae the vet task to Biscuit checkup", renamed(VET, "Biscuit checkup")),
    C("typo", "lsit my todos", reply=("bike",)),
    C("typo", "shwo my tasks", reply=("vet",)),
    C("typo", "cmplete the camping trip", done(CAMP)),
    C("typo", "ad a task to clean the gutters", new("clean the gutters")),
    C("typo", "hwo many tasks do i have left", reply=("8",)),
    C("typo", "finsh the presentation", done(TALK)),
    C("typo", "finished the libary books", done(BOOKS)),
    C("typo", "compelte the presentaton", done(TALK)),
    C("typo", "biscut went to the vet", done(VET)),
    C("typo", "whats left on the camping tirp", reply=("tent",)),
    C("typo", "strat the bike brkaes", started(BIKE)),
    C("typo", "mark gym membrship done", done(GYM)),

    # politeness and filler around a request
    C("polite", "hey could you please mark the library books as returned, thanks so much",
      done(BOOKS)),
    C("polite", "um ok so i think im gonna start on the bike brakes now", started(BIKE)),
    C("polite", "would you mind adding call the electrician to my list please",
      new("call the electrician")),
    C("polite", "pls tick off wine on the dinner party thing ty", step_done(PARTY, "Wine")),
    C("polite", "sorry to bother you but can you rename the gym task to Cancel gym before March",
      renamed(GYM, "Cancel gym before March")),
    C("polite", "if its not too much trouble could you tell me how many tasks ive got open",
      reply=("8",)),
    C("polite", "ok cool so yeah the vet visit is done now, biscuit was fine lol", done(VET)),
    C("polite", "hiya! can you add water the garden for me pls", new("water the garden")),
    C("polite", "thank you! also, could you mark the camping trip finished?", done(CAMP)),
    C("polite", "please please please tell me whats left for the presentation",
      reply=("charts", "tom")),
    C("polite", "right so basically the charts for the presentation are done, cheers",
      step_done(TALK, "Design the charts")),

    # harmless chit-chat: nothing changes
    C("chat", "hi"),
    C("chat", "hello there!"),
    C("chat", "thanks!"),
    C("chat", "thank you so much"),
    C("chat", "good morning :)"),
    C("chat", "lol"),
    C("chat", "youre awesome"),
    C("chat", "ok"),
    C("chat", "how are you today"),
    C("chat", "what can you do"),
    C("chat", "ugh mondays"),
    C("chat", "bye"),
    C("chat", "👍"),
    C("chat", "i need a holiday"),
    C("chat", "im so tired today"),
    C("chat", "nice"),

    # dangerous vague messages: nothing changes
    C("danger", "delete it", reply=(ASKS,)),
    C("danger", "delete everything", reply=(ASKS,)),
    C("danger", "clear my list", reply=(ASKS,)),
    C("danger", "wipe all my tasks", reply=(ASKS,)),
    C("danger", "remove all", reply=(ASKS,)),
    C("danger", "delete 3", reply=(ASKS,)),
    C("danger", "get rid of them", reply=(ASKS,)),
    C("danger", "mark everything as done", reply=(ASKS,)),
    C("danger", "cancel all", reply=(ASKS,)),
    C("danger", "delete", reply=(ASKS,)),
    C("danger", "yes"),
    C("danger", "yes do it"),
    C("danger", "delete the one", reply=(ASKS,)),
    C("danger", "complete all", reply=(ASKS,)),
    C("danger", "nuke the whole list", reply=(ASKS,)),
    C("danger", "finish them all", reply=(ASKS,)),
    C("danger", "remove the b"),
    C("danger", "delete my tasks", reply=(ASKS,)),

    # proposals and the answer to them
    C("confirm", "yes", gone(BOOKS), before=("delete the library books task",)),
    C("confirm", "yep go ahead", gone(GYM), before=("get rid of the gym membership one",)),
    C("confirm", "sure", cancelled(PARTY), before=("cancel the dinner party shopping",)),
    C("confirm", "yes please", cancelled(VET), before=("drop the vet thing",)),
    C("confirm", "no", before=("delete the bike task",)),
    C("confirm", "wait no, finish it instead", done(BIKE), before=("delete the bike task",)),
    C("confirm", "ok", gone(VET), before=("remove the vet task",)),
    C("confirm", "yes", done(VET), done(BOOKS),
      before=("finish the vet and the library books",)),
    C("confirm", "yes", gone(PRESENT), gone(TABLE), before=("delete both emma tasks",)),
    C("confirm", "yes", gone(VET), before=("delete the vet task", "yes")),
    C("confirm", "yes", before=("delete the vet task", "thanks")),
    C("confirm", "yes", *(done(title) for title in OPEN),
      before=("mark all my tasks as done",)),
    C("confirm", "nah leave it", before=("delete the library books task",)),
    C("confirm", "yes", gone(ROOM), before=("delete all the done ones",)),
    C("confirm", "finished the vet and started the bike", reply=(ASKS,)),
    C("confirm", "yes", done(VET), started(BIKE),
      before=("finished the vet and started the bike",)),
    C("confirm", "delete the bike task", reply=(ASKS,)),
    C("confirm", "cancel the gym membership", reply=(ASKS,)),
    C("confirm", "yes", gone(BIKE), before=("delete the vet task", "delete the bike task instead")),
)
