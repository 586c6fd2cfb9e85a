"""A sixth corpus in the format of `chat_corpus`, written blind (without reading the
assistant's code or the other corpora's messages) to measure how the offline assistant
generalises, as a held-back corpus would: another account (a one-person candle shop), other
phrasings, the same categories.

written blind on 2026-12-07; first run, on the assistant of commit 77ecfcc (branch assistant)
before any fix it leads to: 131/160 right (81.9%), 2 harmful ("add buy printer ink period"
made a task with the dictated "period" in its title; "add a stpe to the lables: ..." made a
task instead of adding a step). By category: create 14/15, status 11/15, steps 9/15, edit
10/14, question 13/14, typo 11/14, pronoun 9/14, number 15/15, confirm 10/15, ambiguous
14/14, nothing 15/15.

Run it with `CLARITY_CHAT_CORPUS=tests/graph/chat_corpus_sixth.py` (see
`tests/graph/test_chat_corpus.py`).

Expectations are a product owner's, written from what the user means: a delete, a cancel
and every change to more than one existing task is proposed (a question back, nothing
changed) and done only after a yes in the next message; a "no", "actually wait" or "nvm"
after a proposal changes nothing. A step removal is written with a "yes" after it, as asking
first and doing it at once are both reasonable for a step. Creating several tasks in one
message is done at once. "Reopen" and "back to pending" move a task to pending; "start",
"kick off", "working on it" move it to in progress. "Drop" and "scrap" a task mean cancel it
(status cancelled, kept), "delete", "remove" and "get rid of" mean delete it. When the
assistant cannot tell which task is meant (two tasks share the word "candle") it asks,
naming the candidates, and changes nothing. A message naming no task ("delete it", "do them
all", "yes" with nothing proposed) changes nothing. A reply is checked only for words any
good answer holds (a task's or step's name, a count); where no such word exists only the
data is checked.

The account, oldest first. The app's default list (all tasks, newest first) is therefore:
1 Call the bank about the loan, 2 Design new candle labels, 3 Renew the van insurance
(cancelled), 4 Reply to the Etsy messages, 5 Photograph the new candle range, 6 Book a stall
at the Christmas market (completed), 7 File the VAT return, 8 Send invoices to wholesale
clients, 9 Order more wax from the supplier, 10 Update the shop website; and "list my tasks"
(the open ones, newest first): 1 Call the bank about the loan, 2 Design new candle labels,
3 Reply to the Etsy messages, 4 Photograph the new candle range, 5 File the VAT return,
6 Send invoices to wholesale clients, 7 Order more wax from the supplier, 8 Update the shop
website. Open: 8; pending: 6 (wax, invoices, VAT, Etsy, labels, bank); in progress: 2
(website, photographs).
"""

from __future__ import annotations

from tests.graph.chat_corpus import (
    ASKS,
    C,
    Case,
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
    Seed("Update the shop website", "in_progress", (
        ("Pick a new theme", True), ("Write the about page", False),
        ("Upload product photos", False))),
    Seed("Order more wax from the supplier", steps=(
        ("Check stock levels", True), ("Get a quote", False), ("Place the order", False))),
    Seed("Send invoices to wholesale clients"),
    Seed("File the VAT return", steps=(
        ("Download bank statements", False), ("Email the accountant", False))),
    Seed("Book a stall at the Christmas market", "completed"),
    Seed("Photograph the new candle range", "in_progress", (
        ("Buy a backdrop", True), ("Set up the lighting", True), ("Edit the photos", False))),
    Seed("Reply to the Etsy messages"),
    Seed("Renew the van insurance", "cancelled"),
    Seed("Design new candle labels"),
    Seed("Call the bank about the loan"),
)

WEB = "Update the shop website"
WAX = "Order more wax from the supplier"
INV = "Send invoices to wholesale clients"
VAT = "File the VAT return"
MARKET = "Book a stall at the Christmas market"
PHOTO = "Photograph the new candle range"
ETSY = "Reply to the Etsy messages"
VAN = "Renew the van insurance"
LABELS = "Design new candle labels"
BANK = "Call the bank about the loan"
OPEN = (BANK, LABELS, ETSY, PHOTO, VAT, INV, WAX, WEB)
CANDLE = (PHOTO, LABELS)  # the shared word: name both, change nothing
LIST = ("list my tasks",)

INPROG = "in_progress"

CREATE = (
    C("create", "add buy printer ink period", new("Buy printer ink")),
    C("create", "remind me to chase the courier about the lost parcel",
      new("Chase the courier about the lost parcel")),
    C("create", "i need to restock the tealight tins", new("Restock the tealight tins")),
    C("create", "put order business cards on my list pls", new("Order business cards")),
    C("create", "gotta post the wholesale samples to Lisbon",
      new("Post the wholesale samples to Lisbon")),
    C("create", "ok so add three things: renew the domain name, buy bubble wrap and ring the "
      "landlord about the lease",
      new("Renew the domain name", "Buy bubble wrap", "Ring the landlord about the lease")),
    C("create", "new task write the holiday newsletter", new("Write the holiday newsletter")),
    C("create", "could you add 'sort out the stockroom' thx", new("Sort out the stockroom")),
    C("create", "um add a task to get the scales calibrated", new("Get the scales calibrated")),
    C("create", "need to buy wicks and pay the electricity bill",
      new("Buy wicks", "Pay the electricity bill")),
    C("create", "Add task - apply for the craft fair 🙂", new("Apply for the craft fair")),
    C("create", "dont let me forget to thank Priya for the referral",
      new("Thank Priya for the referral")),
    C("create", "add reorder the amber jars, also book a courier pickup",
      new("Reorder the amber jars", "Book a courier pickup")),
    C("create", "todo: trademark the shop name", new("Trademark the shop name")),
    C("create", "put fix the wobbly shelf on my to do list please", new("Fix the wobbly shelf")),
)

STATUS = (
    C("status", "started on the etsy messages", status(ETSY, INPROG)),
    C("status", "finished the invoices!!", done(INV)),
    C("status", "im done with the vat return thank god", done(VAT)),
    C("status", "drop the bank call, we sorted the loan elsewhere", reply=(ASKS,)),
    C("status", "yes", status(BANK, "cancelled"),
      before=("drop the bank call, we sorted the loan elsewhere",)),
    C("status", "reopen the christmas market one, they lost my booking",
      status(MARKET, "pending")),
    C("status", "put the van insurance back to pending", status(VAN, "pending")),
    C("status", "can you mark the labels as in progress", status(LABELS, INPROG)),
    C("status", "website's done 🎉", done(WEB)),
    C("status", "yep", status(WAX, "cancelled"), before=("scrap the wax order",)),
    C("status", "photos are all shot, mark the photograph task complete", done(PHOTO)),
    C("status", "pause the website, back to pending pls", status(WEB, "pending")),
    C("status", "the van insurance is back on, working on it now", status(VAN, INPROG)),
    C("status", "kick off the invoices", status(INV, INPROG)),
    C("status", "set the bank call to completed", done(BANK)),
)

STEPS = (
    C("steps", "tick off the second one on the website", step_done(WEB, "Write the about page")),
    C("steps", "got the quote for the wax", step_done(WAX, "Get a quote")),
    C("steps", "downloaded the bank statements for the vat",
      step_done(VAT, "Download bank statements")),
    C("steps", "add a step to the vat return: pay what we owe",
      step_added(VAT, "Pay what we owe")),
    C("steps", "emailed the accountant about the vat", step_done(VAT, "Email the accountant")),
    C("steps", "untick the lighting step on the photo task, the bulb blew",
      step_done(PHOTO, "Set up the lighting", False)),
    C("steps", "add steps to the invoices task: check the amounts, send the pdfs, chase late "
      "payers",
      step_added(INV, "Check the amounts", "Send the pdfs", "Chase late payers")),
    C("steps", "yes", step_gone(PHOTO, "Buy a backdrop"),
      before=("remove the backdrop step from the photograph one",)),
    C("steps", "mark step 3 of the wax order done", step_done(WAX, "Place the order")),
    C("steps", "uploaded the product photos to the website",
      step_done(WEB, "Upload product photos")),
    C("steps", "the theme step on the website isnt actually done, untick it",
      step_done(WEB, "Pick a new theme", False)),
    C("steps", "for the candle labels add a step: pick fonts", step_added(LABELS, "Pick fonts")),
    C("steps", "edited the photos for the candle range finally",
      step_done(PHOTO, "Edit the photos")),
    C("steps", "yes", step_gone(WAX, "Get a quote"),
      before=("get rid of the 'get a quote' step on the wax order, supplier has fixed prices",)),
    C("steps", "tick the first and second steps on the vat return",
      step_done(VAT, "Download bank statements"), step_done(VAT, "Email the accountant")),
)

EDIT = (
    C("edit", "rename the etsy one to Reply to Etsy and Instagram messages",
      renamed(ETSY, "Reply to Etsy and Instagram messages")),
    C("edit", "call the bank task 'Call the bank about the overdraft'",
      renamed(BANK, "Call the bank about the overdraft")),
    C("edit", "change send invoices to wholesale clients to Send invoices to shops",
      renamed(INV, "Send invoices to shops")),
    C("edit", "add a note to the vat return: deadline is the 7th",
      described(VAT, "deadline is the 7th")),
    C("edit", "note on the wax order - ask for the 10kg bags",
      described(WAX, "ask for the 10kg bags")),
    C("edit", "can you rename 'Design new candle labels' to Design the winter labels pls",
      renamed(LABELS, "Design the winter labels")),
    C("edit", "the website task should say Update the shop website and blog",
      renamed(WEB, "Update the shop website and blog")),
    C("edit", "put a description on the bank call: ask about the interest rate",
      described(BANK, "ask about the interest rate")),
    C("edit", "retitle the photograph task to Photograph the autumn range",
      renamed(PHOTO, "Photograph the autumn range")),
    C("edit", "add to the etsy task's notes: three customers waiting on tracking numbers",
      described(ETSY, "three customers waiting on tracking numbers")),
    C("edit", "change the name of the invoices one to Invoice the wholesale clients",
      renamed(INV, "Invoice the wholesale clients")),
    C("edit", "description for the labels: kraft paper, black ink",
      described(LABELS, "kraft paper, black ink")),
    C("edit", "add a note to the market stall: pitch number 14",
      described(MARKET, "pitch number 14")),
    C("edit", "call it Order soy wax from the supplier",
      renamed(WAX, "Order soy wax from the supplier"), before=("whats on the wax order",)),
)

QUESTION = (
    C("question", "how many tasks have i got left", reply=("8",)),
    C("question", "whats left on the website", reply=("about page", "product photos")),
    C("question", "is the vat return done?", reply=("VAT",)),
    C("question", "what should i do first"),
    C("question", "what's in progress at the moment", reply=(WEB, PHOTO)),
    C("question", "did i finish the christmas market booking", reply=("Christmas market",)),
    C("question", "how many steps are left on the wax order", reply=("2",)),
    C("question", "show me the photo task", reply=("Edit the photos",)),
    C("question", "what have i cancelled", reply=("van insurance",)),
    C("question", "anything about invoices on my list?", reply=("invoices",)),
    C("question", "what's done so far", reply=("Christmas market",)),
    C("question", "how many tasks are pending", reply=("6",)),
    C("question", "whats the next step for the vat return", reply=("Download bank statements",)),
    C("question", "list my tasks", reply=(BANK, WEB)),
)

TYPO = (
    C("typo", "mark the invocies done", done(INV)),
    C("typo", "strated the etsy mesages", status(ETSY, INPROG)),
    C("typo", "ad a task buy shipping boxes", new("Buy shipping boxes")),
    C("typo", "finnished the vat retrun", done(VAT)),
    C("typo", "tick of the quote step on the wax oder", step_done(WAX, "Get a quote")),
    C("typo", "renmae the bank one to Call the bank about the van loan",
      renamed(BANK, "Call the bank about the van loan")),
    C("typo", "whats left on the websiet", reply=("about page",)),
    C("typo", "complet the photgraph task", done(PHOTO)),
    C("typo", "remidn me to water the plants in the shop", new("Water the plants in the shop")),
    C("typo", "reopne the christmas markt stall", status(MARKET, "pending")),
    C("typo", "add a stpe to the lables: order sample sheets",
      step_added(LABELS, "Order sample sheets")),
    C("typo", "mark the lighitng step undone on the photo shoot",
      step_done(PHOTO, "Set up the lighting", False)),
    C("typo", "im doen with the wesbite", done(WEB)),
    C("typo", "yes", gone(VAN), before=("delte the van insurace",)),
)

PRONOUN = (
    C("pronoun", "ok tick off the quote one on it", step_done(WAX, "Get a quote"),
      before=("whats left on the wax order",)),
    C("pronoun", "mark it done", done(VAT), before=("show me the vat return",)),
    C("pronoun", "ok start it then", status(ETSY, INPROG), before=("is the etsy task done?",)),
    C("pronoun", "add a step to that one: post them online",
      step_added(PHOTO, "Post them online"), before=("whats in the photo task",)),
    C("pronoun", "put a note on it: net 30 terms", described(INV, "net 30 terms"),
      before=("tell me about the invoices task",)),
    C("pronoun", "call it Ring the bank about the loan",
      renamed(BANK, "Ring the bank about the loan"), before=("show the bank task",)),
    C("pronoun", "that one's finished", done(LABELS), before=("show me the labels task",)),
    C("pronoun", "reopen it pls", status(MARKET, "pending"),
      before=("show me the christmas market one",)),
    C("pronoun", "yes", gone(WAX), before=("how's the wax order looking", "delete it")),
    C("pronoun", "pause it, set it back to pending", status(PHOTO, "pending"),
      before=("what's the status of the photography task",)),
    C("pronoun", "rename it to Answer Etsy messages", renamed(ETSY, "Answer Etsy messages"),
      before=("check the etsy messages task",)),
    C("pronoun", "bring it back, i need it after all", status(VAN, "pending"),
      before=("tell me about the van insurance",)),
    C("pronoun", "tick the first step on it", step_done(VAT, "Download bank statements"),
      before=("show me the vat return",)),
    C("pronoun", "add a step to it: get printer quotes", step_added(LABELS, "Get printer quotes"),
      before=("whats the labels task",)),
)

NUMBER = (
    C("number", "done with 3", done(ETSY), before=LIST),
    C("number", "start number 2", status(LABELS, INPROG), before=LIST),
    C("number", "mark 6 as complete pls", done(INV), before=LIST),
    C("number", "the last one is finished", done(WEB), before=LIST),
    C("number", "delete 7", before=LIST, reply=(ASKS,)),
    C("number", "yes", gone(WAX), before=(*LIST, "delete 7")),
    C("number", "rename 1 to Call the bank about the overdraft",
      renamed(BANK, "Call the bank about the overdraft"), before=LIST),
    C("number", "whats left on 5", before=LIST, reply=("Download bank statements",)),
    C("number", "tick off step 2 on 8", step_done(WEB, "Write the about page"), before=LIST),
    C("number", "add a note to 4: shoot on the white backdrop",
      described(PHOTO, "shoot on the white backdrop"), before=LIST),
    C("number", "number 5 is done", done(VAT), before=LIST),
    C("number", "yes", status(ETSY, "cancelled"), before=(*LIST, "cancel 3")),
    C("number", "yep go ahead", done(LABELS), done(INV), before=(*LIST, "2 and 6 are done")),
    C("number", "add a step to 7: confirm delivery date",
      step_added(WAX, "Confirm delivery date"), before=LIST),
    C("number", "done with 12", before=LIST),
)

CONFIRM = (
    C("confirm", "yes", gone(VAN), before=("delete the van insurance task",)),
    C("confirm", "no", before=("delete the van insurance task",)),
    C("confirm", "yep go ahead", status(BANK, "cancelled"), before=("cancel the bank call",)),
    C("confirm", "actually wait", before=("cancel the bank call",)),
    C("confirm", "sure", done(WEB), done(PHOTO),
      before=("mark everything in progress as done",)),
    C("confirm", "nvm", before=("mark everything in progress as done",)),
    C("confirm", "yes please", gone(MARKET), before=("remove the christmas market one, its over",)),
    C("confirm", "go for it", gone(ETSY), gone(LABELS),
      before=("delete the etsy task and the labels task",)),
    C("confirm", "no leave them", before=("delete the etsy task and the labels task",)),
    C("confirm", "yes", gone(MARKET), gone(VAN),
      before=("clear out all the finished and cancelled tasks",)),
    C("confirm", "ok", status(INV, "cancelled"), before=("scrap the invoices task",)),
    C("confirm", "hmm no actually keep it", before=("get rid of the wax order",)),
    C("confirm", "yeah do it 👍", gone(VAT), before=("delete the vat return",)),
    C("confirm", "yes", *(status(t, INPROG) for t in (WAX, INV, VAT, ETSY, LABELS, BANK)),
      before=("mark all my pending tasks as started",)),
    C("confirm", "no wait, mark it done instead", done(PHOTO),
      before=("cancel the photo shoot",)),
)

AMBIGUOUS = (
    C("ambiguous", "mark the candle one done", reply=CANDLE),
    C("ambiguous", "start the candle task", reply=CANDLE),
    C("ambiguous", "delete the candle thing", reply=CANDLE),
    C("ambiguous", "rename the candle task to Candle stuff", reply=CANDLE),
    C("ambiguous", "add a note to the candle one: use recycled card", reply=CANDLE),
    C("ambiguous", "candle task is finished", reply=CANDLE),
    C("ambiguous", "the candles are done", reply=CANDLE),
    C("ambiguous", "cancel the new candle one", reply=CANDLE),
    C("ambiguous", "add a step to the candle task: check with Sam", reply=CANDLE),
    C("ambiguous", "tick off the photos step", reply=("Upload product photos", "Edit the photos")),
    C("ambiguous", "finished the candle stuff thx", reply=CANDLE),
    C("ambiguous", "scrap the candle task", reply=CANDLE),
    C("ambiguous", "done with the candle one", before=LIST, reply=CANDLE),
    C("ambiguous", "move the candle task to cancelled", reply=CANDLE),
)

NOTHING = (
    C("nothing", "hi"),
    C("nothing", "thanks!!"),
    C("nothing", "delete it"),
    C("nothing", "do them all"),
    C("nothing", "whats the weather like in manchester tomorrow"),
    C("nothing", "yes"),
    C("nothing", "mark it done"),
    C("nothing", "lol this app is great"),
    C("nothing", "how are you today"),
    C("nothing", "ugh long day 😩"),
    C("nothing", "can you recommend a good candle scent"),
    C("nothing", "undo"),
    C("nothing", "finish them"),
    C("nothing", "?"),
    C("nothing", "what time is it in new york"),
)

CORPUS: tuple[Case, ...] = (
    *CREATE, *STATUS, *STEPS, *EDIT, *QUESTION, *TYPO, *PRONOUN, *NUMBER, *CONFIRM, *AMBIGUOUS,
    *NOTHING,
)
