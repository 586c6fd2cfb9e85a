"""The offline agent's understanding of a message: the tool calls a model would make for it.

`plan` reads an everyday request ("mark the report as done", "add pick up kids and buy
flowers", "what's left on the taxes?") as calls of the chat's tools, with the argument names
the tools declare, or answers directly when no tool is needed (a greeting, help, or words
it does not understand). Pure: no I/O.

The message is normalized first (`phrasing_rules.normalize`: politeness and filler gone,
shorthand spelled out, typos of command words corrected). The rules are then a table of
(pattern, builder), tried in order; the first pattern that matches the whole message and
whose builder accepts the match wins. More specific rules come first ("complete step 1 of
task 2" before "complete <task>", "delete all" before "delete <task>"). What the builders
make is in `phrasing_build`; the words the patterns are made of in `phrasing_rules` (`w`).
Nothing here decides whether a change is safe: the agent asks before deletes, cancels and
changes to several tasks, whatever the words.
"""

from __future__ import annotations

import re
from typing import Final

from domain.assistant import phrasing_build as b
from domain.assistant import phrasing_rules as w
from domain.assistant.phrasing_build import (
    GREETING,
    HELP,
    NOT_UNDERSTOOD,
    SHORT_HELP,
    THANKS,
    Plan,
    ToolCall,
)

__all__ = ["GREETING", "HELP", "NOT_UNDERSTOOD", "SHORT_HELP", "THANKS", "Plan", "ToolCall",
           "plan"]


def plan(message: str, previous: str | None = None) -> Plan:
    """The tool calls for `message`, or a direct reply. `previous`: the user's message
    before it, for "and the present too" (the same change, to another task).

    Two requests joined by "and" ("finished the vet and started the bike") are planned each
    on its own when both parts are changes to tasks; a message no rule reads whole is read
    by its first clause when that is such a change and the rest a remark ("checked the
    forecast, looks sunny")."""
    text = w.normalize(message)
    if (joined := _joined(text)) is not None:
        return joined
    whole = _planned(text)
    if whole.calls or whole.text != NOT_UNDERSTOOD:
        return whole
    if previous and (again := _again(text, previous)) is not None:
        return again
    head = _CLAUSE.split(text, maxsplit=1)[0]
    first = _planned(w.normalize(head)) if head != text else whole
    if first.calls and all(call.name in _CHANGES | _READS | _PROPOSED for call in first.calls):
        return first
    if not first.calls and first.text != NOT_UNDERSTOOD:  # "thanks, that's all"
        return first
    return whole


def _planned(text: str) -> Plan:
    for pattern, build in _RULES:
        if (match := pattern.fullmatch(text)) and (planned := build(match)) is not None:
            return planned
    return Plan(text=NOT_UNDERSTOOD)


# Changes to existing tasks: what a clause or each side of "and" may be read as alone.
_CHANGES: Final = frozenset({"check_off", "set_status", "reopen_task", "complete_step",
                             "complete_task"})
_READS: Final = frozenset({"list_tasks", "show_task", "task_progress", "count_tasks"})
# Removals, read by their first clause too ("remove the market one, it's over"): they are
# only proposed, so a misread remark costs a question, never data.
_PROPOSED: Final = frozenset({"delete_task", "remove_step", "change_tasks"})
_CLAUSE = re.compile(r" ?[,;] | - |(?<![!?.])[!?.]++ ")  # one try per run of marks: linear
_AND_THEN = re.compile(r",? and (?:then |also )?|, then ", re.I)


_TOO = re.compile(r"(?:and |also )?(?:(?:the )?same (?:for|with) (?P<same>.+)|(?P<task>.+?)"
                  r" (?:too|as well|also))", re.I)


def _again(text: str, previous: str) -> Plan | None:
    """"and X too" after a change of one task: the same change, to X."""
    said = _TOO.fullmatch(text)
    ref = w.task_ref(said["same"] or said["task"]) if said else None
    if ref is None:
        return None
    before = _planned(w.normalize(previous))
    if len(before.calls) != 1 or before.calls[0].name not in _CHANGES:
        return None
    call = before.calls[0]
    key = "what" if "what" in call.arguments else "task"
    return Plan(calls=(ToolCall(call.name, {**call.arguments, key: ref}),))


def _joined(text: str) -> Plan | None:
    """Both sides of one "and", when each alone is a change of a task's status."""
    parts = _AND_THEN.split(text)
    if len(parts) != 2:
        return None
    plans = [_planned(w.normalize(part)) for part in parts]
    if all(p.calls and all(c.name in _CHANGES for c in p.calls) for p in plans) and any(
            _status_verb(part) for part in parts[1:]):
        return Plan(calls=plans[0].calls + plans[1].calls)
    return None


def _status_verb(part: str) -> bool:
    """Whether a part starts with its own verb ("started the bike"), not only a name."""
    return bool(_STATUS_START.match(part))




_DONE_WORDS = r"(?:done|complete|completed|finished|over|sorted|ticked off|checked off|crossed off)"
_PAST = (r"(?:called|bought|got|made|sent|paid|wrote|took|picked up|posted|booked|booked in"
         r"|emailed|texted|rang|fixed|cleaned|washed|returned|renewed|ordered|filed|submitted"
         r"|drafted|collected|gathered|filled in|filled out|finished off|sorted out|handed in"
         r"|replied to|answered|packed|cooked|printed|signed|tidied|vacuumed|mopped|watered"
         r"|fed|walked|read|cleared|emptied|scheduled|cancelled|canceled)")
# "The gas bill is paid": what these say of a task or step is that it is done. A list, not
# any "-ed" word: "the report is delayed" must not complete it.
_DONE_PARTICIPLE = (r"(?:paid|booked|sent|posted|bought|fixed|cleaned|sorted|sorted out|handled"
                    r"|submitted|filed|written|washed|returned|renewed|ordered|signed|delivered"
                    r"|collected|called|emailed|cooked|packed|printed|tidied|finished|done"
                    r"|complete|completed|ticked off|checked off|crossed off|taken care of"
                    r"|dealt with|out of the way|over with)")
_ALL = (r"(?:all|everything|every task|all (?:of )?(?:my |the )?(?:tasks|todos|items|things)"
        r"|all of (?:it|them)|them all|the lot|the (?:whole|entire) list"
        r"|my (?:whole |entire )?list|my (?:tasks|todos))")
_BULK_VERB = (r"(?P<verb>complete|finish|check off|tick off|close|delete|remove|erase|clear"
              r"|trash|get rid of|wipe|nuke|cancel|drop|abandon|start|reopen|pause)")
_CLOSED = r"finished|done|completed|complete|cancelled|canceled"
_ABOUT = r"(?:about|with|mentioning|related to|to do with|for|on|matching|containing|called)"
_SHOW = r"(?:show|view|display|open|see|read|pull up|bring up|check)"
_STEP_WORDS = r"(?:the )?(?P<words>.+?) (?:step|item|bit)"
_ORD_STEP = rf"(?:the )?{w.ORDINAL} (?:step|item|one)"
_ON_TASK = rf"(?:on|in|for|of|with) {w.TASK}"
_REMOVE = r"(?:remove|delete|drop|erase|cut|get rid of)"

_TABLE: tuple[tuple[str, b.Builder], ...] = (
    # Talk: no tool needed.
    (r"help(?: me)?|\?+|what can you do|what (?:else )?can (?:i|you) (?:say|ask|do)"
     r"|what do you do|how does this work|how do i use (?:this|you)|commands", b.reply(HELP)),
    (r"(?:hi|hello|hey|hiya|howdy|heya|yo|greetings|good (?:morning|afternoon|evening|day))"
     r"(?: (?:there|again|you|friend|all|everyone))?(?:,? how are you(?: doing)?)?"
     r"|how are you(?: doing)?|how's it going", b.reply(GREETING)),
    (r"(?:thanks|thank you|thx|cheers|great|perfect|awesome|cool|nice|ok|okay|got it)"
     r"(?: (?:so much|very much|a lot|again|cool|thanks|great))?|that's (?:all|it)(?: for now)?"
     r"|that is all|all good|nothing else", b.reply(THANKS)),
    (r"(?:yes|yeah|yep|yup|sure|confirm|go ahead|do it)(?: please| go ahead| do it)?",
     b.reply(b.NOTHING_WAITING)),
    (r"(?:no|nope|nah|never ?mind|don't|stop)(?: thanks| thank you)?",
     b.reply(b.LEFT_ALONE)),
    (r"(?:delete|remove|complete|finish|done|start|cancel|mark|reopen|rename|check off"
     r"|tick off|finished|it's done|it is done)", b.reply(b.WHICH)),
    # A request missing what it needs: asked for, never guessed.
    (r"(?:(?:add|create|make|new)(?: me)?(?: a| an| another| one more)?(?: new)?"
     r"(?: (?:task|todo|to-?do|reminder|item|one))?|remind me|new (?:task|todo|reminder))",
     b.reply(b.WHAT_TASK)),
    # Questions answered from the data.
    (r"how many (?:open |pending |active )?(?:tasks?|things|todos|items)(?: (?:do|have) i(?: got)?"
     r"(?: (?P<left>left|to do|remaining|open))?| are there| are on my list| (?:do|have) i have"
     r"| i have| have i got)?(?: in total| altogether| on my list)?", b.counted),
    (r"how many (?:tasks|things|todos|items) (?:are |do i have )?(?P<left>left|remaining|open"
     r"|still open|to do|outstanding)(?: (?:on|in) (?:my|the) list| to do)?", b.counted),
    (r"how many (?:tasks |things |todos |items |of them )?(?:have i|did i|have we|are)"
     r" (?:(?P<done>completed|finished|done|complete|ticked off|checked off))(?: so far)?",
     b.counted),
    (rf"how many (?:{w.LIST_STATUS} )(?:tasks|things|todos|items)(?: do i have| are there)?",
     b.counted),
    (r"how many (?:tasks?|things|todos|items) (?:i(?:'ve| have)(?: got)?|have i got|do i have)"
     r" (?P<left>left|open|remaining|to do|outstanding)", b.counted),
    (r"how many steps (?:are |do i have )?(?:left |remaining |to go |still open )?"
     rf"{_ON_TASK}", b.asked("task_progress")),
    (r"(?:what's|what is|what are|whats) (?:left|remaining|still (?:left|open|to do)|outstanding"
     rf"|to do|the progress|the status) {_ON_TASK}",
     b.asked("task_progress")),
    (r"what steps (?:are |do i have )?(?:still )?(?:left|remaining|open|to do|outstanding)"
     rf" {_ON_TASK}", b.asked("task_progress")),
    (r"what (?:do|else do) i (?:still )?(?:need|have)(?: to (?:do|get|buy))? (?:for|on|in)"
     rf" {w.TASK}", b.asked("task_progress")),
    (rf"what(?:'s| is) (?:the )?next(?: step| thing)? (?:on|for|in|with|of) {w.TASK}",
     b.asked("task_progress")),
    (rf"what steps (?:does|do) {w.TASK_FIRST} have", b.each("show_task")),
    (r"(?:(?:is|are) there )?(?:still )?(?:anything|something|much|stuff) (?:still )?(?:left"
     r"|remaining|still to do|to do)"
     rf" {_ON_TASK}", b.asked("task_progress")),
    (r"how far (?:along )?(?:am i|are we|is it|have i got)? ?(?:with|on|in) "
     rf"{w.TASK}", b.asked("task_progress")),
    (r"(?:how's|how is|how are|where am i (?:with|on)|where are we (?:with|on)) "
     rf"{w.TASK_FIRST}(?: going| coming along| doing| looking)?", b.asked("task_progress")),
    (r"(?:did|have|had) (?:i|we|you) (?:already |actually |finally |ever )?(?:\w+)"
     rf"(?: off| in| out| up)? {w.TASK_FIRST}(?: done| off)?(?: yet| already| or not)?",
     b.asked("task_progress", asking_done=True)),
    (rf"(?:is|are) {w.TASK_FIRST} (?:already |all |now |actually )?(?:{_DONE_WORDS}|\w+ed"
     r"|written|paid|sent|bought|taken|done and dusted)(?: yet| already| now)?",
     b.asked("task_progress", asking_done=True)),
    (r"which (?:task|one|thing) (?:should|shall|do) (?:i|we) (?:do|work on|start|start with"
     r"|tackle|focus on|pick|begin with)(?: first| next| now| today)?", b.asked("suggest_next")),
    (r"what (?:should|shall|do|can) (?:i|we) (?:do|work on|start|start with|tackle|focus on"
     r"|pick|begin with)(?: first| next| now| today)?|what(?:'s| is) next|where (?:should|do)"
     r" i (?:start|begin)|what first|what should i do with my (?:day|time)",
     b.asked("suggest_next")),
    (r"(?:do|have) i (?:have|got) (?:anything|something|any tasks?) (?:in progress|started"
     r"|on the go|going on)|what(?:'s| is| am i| are) (?:in progress|i(?:'m| am) working on"
     r"|i(?:'ve| have) started)|what am i (?:doing|working on)", b.listed(status="in_progress")),
    # Lists, pages, searches.
    (r"(?:(?:show|see|list|give|display)(?: me)? )?(?:the )?(?:more|next|rest)"
     r"(?: (?:page|one|ones|tasks|items|of them|of my tasks))?|(?:next|more) page"
     r"|continue|keep going|go on", b.listed(more=True)),
    (r"(?:list|show|view|display|see|give)(?: me)? (?:everything|it all|all of (?:it|them)"
     r"|the lot)(?: (?:including|incl\.?|with|even) .+)?", b.listed(status="all")),
    (rf"(?:list|show|view|display|see|give)(?: me)?"
     rf"(?: {w.ALL}(?:(?:my|the) )?(?:{w.LIST_STATUS}(?: {w.NOUN})?|{w.NOUN}))?", b.listed()),
    (rf"what(?: are|'re| r)? {w.ALL}(?:my|the) (?:{w.LIST_STATUS} )?{w.NOUN}", b.listed()),
    (rf"(?:what|which) (?:{w.LIST_STATUS} )?(?:tasks|todos|to-?dos) (?:do i (?:still )?have"
     r"|have i got|are there|are left|are open|remain|are on my list)", b.listed()),
    (rf"{w.WHATS} (?:on|in) (?:my|the) (?:task |to-?do |todo )?(?:list|plate|agenda)(?: today)?"
     rf"|what do i (?:still )?(?:have|need) to do(?: today)?|{w.WHATS} (?:left|remaining)"
     r"(?: to do)?|what(?: else)? is there to do|what(?:'s| is) on (?:for )?today",
     b.listed()),
    (w.LIST_BARE.pattern, b.listed()),
    (r"what (?:did|have) (?:i|we) (?:cancel|cancelled|canceled|drop|dropped|abandon"
     r"|abandoned|scrap|scrapped)", b.listed(status="cancelled")),
    (rf"how many (?:tasks |things |todos |items |of them )?(?:are |do i have |have i got )?"
     rf"{w.LIST_STATUS}", b.counted),
    (rf"what about {w.TASK}", b.asked("task_progress")),
    (rf"(?:check|see|tell me) (?:if|whether) {w.TASK_FIRST} (?:is|are|has been) (?:already )?"
     rf"{w.DONE}(?: yet)?", b.asked("task_progress", asking_done=True)),
    # "Anything I cancelled?", "which ones are done": the list of that status.
    (r"(?:anything|any tasks|which ones|which tasks|what tasks|which|what)(?: (?:have |did )?"
     r"i(?:'ve| have)?)? (?P<status>cancelled|canceled|finished|completed|done|started"
     r"|abandoned)", b.listed()),
    (rf"(?:which|what)(?: ones| tasks| things| todos)? (?:are|have been|were) (?:already )?"
     rf"{w.LIST_STATUS}", b.listed()),
    (r"what (?:have|did) (?:i|we) (?:already )?(?:finish|finished|complete|completed|do|done"
     r"|get done|got done|accomplish|accomplished|check off|checked off)"
     rf"(?: so far| today| already| yet)?|{w.WHATS} (?:been )?{w.DONE}(?: so far)?"
     rf"|(?:show|list)(?: me)? what i(?:'ve| have)? {w.DONE}", b.listed(status="completed")),
    (rf"(?:search|find|look(?: for| up)?) (?:(?:in|through) )?{w.ALL}(?:(?:my|the) )?"
     rf"(?:{w.LIST_STATUS} )?(?:(?:tasks?|todos|items) )?(?:(?:for|about|with|containing"
     r"|matching|mentioning|called|named|titled) )?(?P<query>.+)", b.search),
    (r"(?:(?:is|are) there |do i have |have i got )?(?:anything|something|any tasks?)"
     r" (?:about|on|for|with|mentioning|to do with) (?P<query>.+?)(?: on there| in there"
     r"| on (?:my|the) list)?", b.search),
    # Changes to many tasks: before the one-task rules whose verbs they share.
    # "mark everything in progress as done": all the tasks of one status, to another.
    (rf"(?:mark|set|make|move|put) (?:everything|every task|all(?: of)?(?: my| the)?)"
     rf" {w.LIST_STATUS}(?: tasks| ones| items| todos)? (?:as |to |in )?(?P<to>done|complete"
     r"|completed|finished|cancelled|in progress|started|not started|pending|open)", b.bulk),
    (rf"(?:mark|set|make|move|put) {_ALL} (?:as |to |in )?(?P<to>done|complete|completed"
     r"|finished|cancelled|in progress|not started|pending|open)", b.bulk),
    (rf"{_BULK_VERB} {_ALL} (?:{_ABOUT}) (?P<about>.+)", b.bulk),
    (rf"{_BULK_VERB} (?:both|the two)(?: of)?(?: the| my)? (?P<about>.+?) (?:tasks|ones|todos"
     r"|items|things)", b.bulk),
    (r"(?:mark|set) (?:both|the two)(?: of)?(?: the| my)? (?P<about>.+?) (?:tasks|ones|todos"
     r"|items|things) (?:as )?(?P<to>done|complete|completed|finished|cancelled|in progress"
     r"|not started|pending|open)", b.bulk),
    (rf"{_BULK_VERB}(?: out)? (?:everything|all(?: the)?(?: tasks| ones)?)(?: that's| that is"
     rf"| that are| which are)? (?P<status>{_CLOSED}) (?:or|and) (?P<other>{_CLOSED})"
     r"(?: tasks| ones| items)?",
     b.bulk_two),
    (rf"{_BULK_VERB} {_ALL}(?: (?:{w.LIST_STATUS}) (?:tasks|ones|items))?(?: on my list)?",
     b.bulk),
    (rf"{_BULK_VERB} (?:all|every) (?:my |the )?{w.LIST_STATUS} (?:tasks|ones|items)", b.bulk),
    (rf"(?P<verb>complete|finish|delete|remove|cancel|start|reopen) every(?:thing| task)"
     rf" {_ABOUT} (?P<about>.+)", b.bulk),
    # Steps, before the task rules whose verbs they share.
    (r"(?:add|put) (?:a |an |another |the )?(?:new )?(?:\d+ |two |three |some )?"
     rf"(?P<kind>steps?|things|items) (?:to|for|in|on) {w.TASK_FIRST} ?[:\-] (?P<content>.+)",
     b.add_step),
    # A note or description after a colon, before "add to X: ..." reads it as a step.
    (r"(?:add|put|write|leave|stick|set) (?:a |the )?(?:note|notes|description|details) (?:on|to"
     rf"|for) {w.TASK_FIRST} ?(?::| -) ?(?P<description>.+)", b.update("description")),
    (rf"add to {w.TASK_FIRST}(?:'s|s')? (?:note|notes|description|details) ?: ?"
     r"(?P<description>.+)", b.update("description")),
    (rf"add to {w.TASK_FIRST} ?: (?P<content>.+)", b.add_step),
    (rf"for {w.TASK_FIRST},? (?:add|put) (?:a |an |another )?(?:new )?(?P<kind>steps?) ?[:\-]"
     r" (?P<content>.+)", b.add_step),
    (rf"for {w.TASK_FIRST},? (?:i|we) (?:also |still )?(?:need|have|must|should|gotta|want)"
     r"(?: to)? (?P<content>.+)", b.add_steps),
    (r"(?:mark|check off|tick off|tick|check|cross off|complete|done with|did|finished|got)"
     rf" (?:the )?first (?P<count>\d|two|three|four|five)(?: steps| items| things| ones)?"
     rf" {w.OF} {w.TASK}", b.first_steps),
    (rf"{w.TASK_FIRST} (?:also |still )?needs? (?:a |an |another |one more )?(?:new )?step"
     r" ?:? (?P<content>.+)", b.add_step),
    (r"add (?:a |an |another |the )?(?:new )?(?P<kind>steps?)(?: called| named| saying)?:? "
     rf"(?P<content>.+) (?:to|for|in|on) {w.TASK}", b.add_step),
    (r"add (?P<content>.+) as (?:a |an |another )?(?:new )?(?P<kind>steps?) "
     rf"(?:to|for|in|on|of) {w.TASK}", b.add_step),
    (r"(?:(?:i|we)(?:'ve| have)?(?: just)? )?(?:complete|completed|finish|finished|check"
     r"(?: off)?|checked(?: off)?|tick(?: off)?|ticked(?: off)?|cross(?: off)?|mark"
     rf"|done(?: with)?|did|do) (?:the )?{w.STEPS} {w.OF} {w.TASK_FIRST}(?: off)?"
     rf"(?: (?:as )?{w.DONE})?", b.step("complete_step")),
    (r"(?:complete|finish|check(?: off)?|tick(?: off)?|cross(?: off)?|mark) (?:the )?"
     rf"{w.ORD_STEPS} {w.OF} {w.TASK_FIRST}(?: off)?(?: (?:as )?{w.DONE})?",
     b.step("complete_step")),
    (r"(?:(?:i|we)(?:'ve| have)?(?: just)? )?(?:complete|completed|finish|finished|check"
     r"(?: off)?|checked(?: off)?|tick(?: off)?|ticked(?: off)?|cross(?: off)?|mark"
     rf"|done(?: with)?|did|do) {_ORD_STEP} {w.OF} {w.TASK_FIRST}(?: off)?"
     rf"(?: (?:as )?{w.DONE})?", b.step("complete_step")),
    (rf"(?:the )?{w.STEPS} {w.OF} {w.TASK_FIRST} (?:is |are )?(?:now )?{w.DONE}",
     b.step("complete_step")),
    (rf"{_ORD_STEP} {w.OF} {w.TASK_FIRST} (?:is |are )?(?:now )?{w.DONE}",
     b.step("complete_step")),
    (rf"(?:uncheck|untick|unmark|reopen) (?:the )?{w.STEPS} {w.OF} {w.TASK_FIRST}",
     b.step("complete_step", done=False)),
    (rf"{_REMOVE} (?:the )?{w.STEPS} {w.OF} {w.TASK}",
     b.step("remove_step", last_first=True)),
    (rf"{_REMOVE} {_ORD_STEP} {w.OF} {w.TASK}",
     b.step("remove_step")),
    (rf"(?:remove|delete|drop|erase|cut|get rid of|take) {_STEP_WORDS} (?:off |out )?"
     rf"(?:from|of|in|on|off) {w.TASK}", b.step("remove_step")),
    (r"(?:delete|remove|erase|trash|get rid of|take)"
     rf" {w.TASK_FIRST} (?:from|off|out of) (?:my |the )?(?:task |to-?do |todo )?(?:list|tasks"
     r"|todos)", b.each("delete_task")),
    # A step named without its task: the one open step those words match (asked first).
    (rf"(?:remove|delete|drop|erase|take|cross|strike) {_STEP_WORDS}(?: off| out)?",
     b.lone_step("remove_step")),
    (r"(?:remove|delete|take|cross|strike|drop|erase) (?:the )?(?P<words>.+?) (?:off|from|out of)"
     rf" {w.TASK}", b.step("remove_step")),
    (r"(?:mark|check off|tick off|tick|check|cross off|complete|finish|done with) "
     rf"{_STEP_WORDS} (?:of|in|on|for) {w.TASK_FIRST}(?: (?:as )?{w.DONE})?",
     b.step("complete_step")),
    (rf"(?:mark|check off|tick off|tick|check|cross off|complete|finish) {_STEP_WORDS}"
     rf"(?: (?:as )?{w.DONE})?", lambda m: b.check_off()(_as_task(m, "words"))),
    (r"(?:uncheck|untick|unmark|untick) (?P<task>.+)", b.check_off(done=False)),
    # New tasks.
    (r"(?:break(?: it)? down|breakdown|split up|plan out)(?: ?[:\-] ?| )(?P<title>.+)",
     b.break_down),
    (r"(?:(?:add|create|make|set up)(?: me)?(?: a| an| another| one more| some| \d+| two"
     r"| three| four| five)?(?: new)?|new|start (?:a )?new) (?P<kind>tasks?|todos?|to-dos?"
     r"|to dos?|items?|reminders?|things|one)"
     r"(?: (?:called|named|titled|saying|to|for|about))?(?: ?[:\-] ?| )(?P<title>.+)",
     b.create),
    (r"(?:add|create|new|reminder|new reminder) ?: ?(?P<title>.+)", b.create),
    (r"remind me (?:to |about |that (?:i (?:need|have) to )?)?(?P<title>.+)", b.create),
    (r"(?:add|adding|put|putting|write|jot|note|stick|pop|chuck|throw)(?: down)? (?P<title>.+)"
     r" (?:to|on|onto|in)"
     r" (?:my |the )?(?:task |to-?do |todo |to do )?(?:list|tasks|todos)", b.create),
    (r"(?:add|put|stick) (?P<content>\"[^\"]+\"|'[^']+') (?:to|on|onto|in|into|under)"
     rf" {w.TASK}", b.add_step),
    (r"(?:add|put|stick) (?P<rest>.+) (?:task|one|to-?do)", b.add_step_to_named),
    # Titles and descriptions.
    (rf"(?:change|set|update|edit|replace|modify|add)(?: the| a)? (?:description|details"
     rf"|notes?|desc) (?:of|for|on|to) {w.TASK_FIRST}(?: to| as| with|:) (?P<description>.+)",
     b.update("description")),
    (rf"(?:change|set|update|edit|modify) {w.TASK_FIRST}(?:'s|s')? (?:description|details"
     r"|notes?|desc)(?: to| as| with|:)? (?P<description>.+)", b.update("description")),
    (rf"describe {w.TASK_FIRST} as (?P<description>.+)", b.update("description")),
    (rf"(?:the )?(?:description|details|notes?|desc) (?:for|of|on) {w.TASK_FIRST} ?(?::| -)"
     r" ?(?P<description>.+)", b.update("description")),
    (rf"(?:add|put|write|leave|stick) (?:a )?(?:note|description) (?:on|to|for) {w.TASK_FIRST}"
     r" (?:saying|that says|to say) (?P<description>.+)", b.update("description")),
    (rf"{w.TASK_FIRST} ?(?:-|:) (?:add |put |write )?(?:a )?(?:note|description) ?: ?"
     r"(?P<description>.+)", b.update("description")),
    (rf"{w.TASK_FIRST} (?:also )?needs? (?:a )?(?:note|description) ?: ?(?P<description>.+)",
     b.update("description")),
    (rf"(?:change|set|update|edit|modify)(?: the)? (?:title|name) (?:of|for) {w.TASK_FIRST}"
     r"(?: to| as|:) (?P<title>.+)", b.update("title")),
    (rf"(?:change|set|update|edit|modify) {w.TASK_FIRST}(?:'s|s')? (?:title|name)(?: to| as|:)?"
     r" (?P<title>.+)", b.update("title")),
    (rf"(?:rename|retitle) {w.TASK_FIRST}(?: to| as|:) (?P<title>.+)", b.update("title")),
    (r"(?:rename|retitle)(?: (?P<task>.+))?", b.reply(b.WHAT_TITLE)),
    # "call it X" of the task just named; "call it a day" and the like are no title.
    (r"(?:call|name|title) (?P<task>it|that|this|that one|this one) (?!(?:a day|a night|quits"
     r"|even|done)$)(?P<title>.+)", b.update("title")),
    (rf"(?:call|name|title) {w.TASK_FIRST} (?P<title>\"[^\"]+\"|'[^']+')", b.update("title")),
    (rf"{w.TASK_FIRST} (?:task|one) should (?:be )?(?:called|named|renamed(?: to)?|say)"
     r" (?P<title>.+)", b.update("title")),
    (rf"{w.TASK_FIRST} should (?:be )?(?:called|named|renamed(?: to)?|say)"
     r" (?P<title>\"[^\"]+\"|'[^']+')", b.update("title")),
    # Statuses.
    (rf"(?:mark|set|change|move|put|switch|update|make) (?:the )?(?:status of )?{w.TASK_FIRST}"
     rf"(?:'s status| status)?(?: back)?(?: as| to| in| into| on|:)? {w.SET_STATUS}",
     b.set_status),
    (rf"(?:check|tick|cross|mark) {w.TASK_FIRST} off(?: (?:my |the )?(?:task |to-?do )?list)?",
     b.check_off()),
    (rf"(?:mark|set) {w.TASK_FIRST} (?:as )?{_DONE_PARTICIPLE}", b.check_off()),
    (rf"{w.TASK_FIRST} ?(?:-|:|=) ?{_DONE_PARTICIPLE}", b.check_off()),
    (rf"(?P<task>it)'?s (?:all |now )?{_DONE_PARTICIPLE}", b.check_off()),
    (rf"{w.TASK_FIRST} (?:is|are) back on(?: (?:my|the) list)?", b.each("reopen_task")),
    (rf"(?:bring|put) {w.TASK_FIRST} back(?: on (?:my|the) list)?", b.each("reopen_task")),
    (r"(?:complete|completed|finish|finished|done(?: with)?|close|check off|checked off"
     r"|tick off|ticked off|cross off|crossed off|mark off|accomplished|wrap up|wrapped up"
     r"|tick of|check of|cross of)"
     rf" ?:? {w.TASK}", b.check_off()),
    (r"(?:i|we)(?:'ve| have| just| already| finally)* (?:finished|completed|done|did"
     rf"|accomplished|wrapped up|checked off|ticked off|crossed off)(?: with)? {w.TASK}",
     b.check_off()),
    (rf"{w.IM}(?: all| now| finally)? (?:done|finished|through) with {w.TASK}", b.check_off()),
    (r"(?:reopen|re-open|uncomplete|un-complete|unfinish|unmark|restore|bring back)"
     rf" {w.TASK}", b.each("reopen_task")),
    (rf"open {w.TASK_FIRST} (?:up )?again", b.each("reopen_task")),
    (rf"{w.TASK_FIRST} (?:isn't|is not|aren't|are not|wasn't) (?:actually |really )?{w.DONE}"
     r"(?: yet| after all)?", b.each("reopen_task")),
    (r"(?:start|begin|resume|restart|continue|pick up|work on|get started on|get going on"
     r"|kick off|kicking off|starting|beginning)(?: working on| work on| on| with)?"
     rf" {w.TASK}", b.BY_STATUS["in_progress"]),
    (rf"{w.IM}(?: now| currently| still)? (?:working on|doing|starting(?: on)?|on|busy with"
     rf"|tackling|started(?: on)?|beginning) {w.TASK}", b.BY_STATUS["in_progress"]),
    (rf"(?:now )?working on {w.TASK}", b.BY_STATUS["in_progress"]),
    (r"(?:(?:i|we)(?:'ve| have| just)* )?(?:started|begun|began)(?: working on| on"
     rf"| with)? {w.TASK}", b.BY_STATUS["in_progress"]),
    (r"(?:cancel|abandon|scrap|drop|give up on|never mind|nevermind|forget about|forget"
     rf"|skip|ditch) {w.TASK}", b.BY_STATUS["cancelled"]),
    (rf"(?:{w.IM} )?(?:not|no longer) (?:doing|going to do) {w.TASK_FIRST}"
     r"(?: any ?more| after all)?", b.BY_STATUS["cancelled"]),
    (rf"(?:pause|stop working on|put off|postpone|defer|hold off on) {w.TASK}",
     b.BY_STATUS["pending"]),
    (rf"(?:update|change|edit|modify) {w.TASK_FIRST}(?: to say| so it says| ?:| to| into)"
     r" (?P<title>.+)", b.update("title")),
    (r"(?:delete|remove|erase|trash|get rid of|throw away|throw out|bin|discard|destroy)"
     rf" {w.TASK_FIRST}{w.OFF_LIST}", b.each("delete_task")),
    # Looking at one task.
    (rf"{_SHOW}(?: me)?(?: (?:the )?(?:details|steps|contents?) (?:of|for|in|on))? {w.TASK}",
     b.each("show_task")),
    (rf"(?:{w.WHATS} (?:in|inside|on|under|the status of)|what are the steps (?:of|in|for|on)"
     r"|tell me (?:more )?about|(?:the )?(?:details|steps) (?:of|for|on|in)"
     rf"|(?:more )?info(?:rmation)? (?:on|about)) {w.TASK}", b.each("show_task")),
    (r"(?:task ?#?|#)(?P<task>\d+)", b.each("show_task")),
    # "what's the labels task": the task a question names (and "it" after it).
    (rf"{w.WHATS} (?:the|my) (?!(?:next|first|last|current|latest|newest|oldest|top|best|most"
     rf"|easiest|hardest|biggest|quickest|main|only)\b){w.TASK_FIRST} (?:task|one|todo)",
     b.each("show_task")),
    # Last: rules that start with free text or a bare verb.
    (rf"{w.TASK_FIRST}(?: (?:is|are)|'s|'re)(?: now| already| finally| all)? {w.SET_STATUS}"
     r"(?: now| already| at last)?", b.set_status),
    (rf"(?:(?:i|we)(?:'ve| have| just| finally| already)* )?{_PAST} {w.TASK}", b.check_off()),
    (rf"{w.TASK_FIRST}(?: (?:is|are|has been|have been)|'s|'re)(?: now| already| finally| all)?"
     rf" {_DONE_PARTICIPLE}(?: now| already| at last)?", b.check_off()),
    # Any other past tense or participle completes only what it is the verb of: "checked
    # the forecast" is "Check the weather forecast", "the cables are adjusted" is "Adjust
    # the cables"; "the report is delayed" names nothing ("delay" is in no title).
    # ("wanted to X", "needed to X": an intention, not a thing done.)
    (r"(?:(?:i|we)(?:'ve| have| just| finally| already)* )?(?P<verb>[a-z]{3,}ed)"
     r" (?!to )(?P<task>.+)", b.check_off_with("verb")),
    (rf"{w.TASK_FIRST}(?: (?:is|are|has been|have been)|'s|'re)(?: now| already| finally| all)?"
     r" (?P<verb>[a-z]{3,}ed)", b.check_off_with("verb")),
    # "Biscuit went to the vet": the task that names both.
    (rf"{w.TASK_FIRST} (?:went|has been|have been|got) to (?P<verb>.+)",
     b.check_off_with("verb", as_verb=False)),
    (r"(?:(?:i|we) (?:need|have|must|should|gotta|got|ought) to|i(?:'ve| have) got to"
     r"|(?:i|we)(?:'ve)? gotta"
     r"|(?:i|we) (?:must|should)(?: really| probably| definitely)?|gotta|got to|have to|need to"
     r"|remember to|don't (?:let me )?forget to|(?:to-?do|to do|todo|note to self|task) ?:?)"
     r" ?:? ?(?P<title>.+)", b.create),
    (r"add (?P<rest>.+ (?:to|onto|into) .+)", b.add_to),
    (r"(?:add|create) (?!(?:a |an |another |new |the )*(?:tasks?|steps?|to)\b)(?P<title>.+)",
     b.create),
)


def _as_task(match: re.Match[str], group: str) -> re.Match[str]:
    """The match again, its `group` read as the `task` group (check_off reads `task`)."""
    again = re.fullmatch(r"(?P<task>.+)", match[group])
    assert again is not None  # `group` matched at least one character
    return again


_RULES: Final = tuple((re.compile(pattern, re.I), build) for pattern, build in _TABLE)
_STATUS_START = re.compile(
    r"(?:(?:i|we)(?:'ve| have| just)* )?(?:start|started|begin|began|begun|finish|finished"
    r"|complete|completed|done|did|reopen|reopened|cancel|cancelled|canceled|pause|paused"
    r"|mark|marked|check|checked|tick|ticked|[a-z]{3,}ed|" + _PAST[3:-1] + ") ", re.I)
