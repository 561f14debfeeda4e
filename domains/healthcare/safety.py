"""Safety layer of the patient assistant: emergencies first, no diagnosis, no dosing.

Recognition is rule-based on purpose: it must work without a model, be auditable and never be talked out of
an emergency by a small LLM. Patterns cover symptom descriptions in everyday words, not only fixed phrases;
a negation cue that directly governs a match ("no chest pain", "I'm not suicidal", "denies any chest pain")
or a remote past ("chest pain two years ago") cancels it, a second clause after "but" is judged on its own.
A negation said of something else in the same clause ("my wife isn't well with chest pain", "I couldn't sleep
with chest pain") does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from domains.healthcare import MEDICAL_NOTICE

SafetyKind = Literal["emergency", "dosing", "diagnosis", "none"]

_W = r"(?:\W+\w+){0,4}?\W+"  # up to four words in between
# Someone who can collapse or stop responding: "the cabinet collapsed" and "her rash is not responding" are not.
_PERSON = (
    r"\b(?:i|he|she|they|someone|somebody|baby|child|kid|toddler|son|daughter|husband|wife|partner|boyfriend|"
    r"girlfriend|mum|mom|mother|dad|father|brother|sister|uncle|aunt|gran\w*|grandpa|grandad|nan|friend|person|"
    r"patient|man|woman|boy|girl|neighbou?r|colleague|flatmate|roommate|housemate|teacher|coworker|co-worker|boss|"
    r"step\w+|nephew|niece|cousin|mate|fianc\w*|(?:year|month|week)s? old|found (?:him|her|them))\b"
    r"(?:\W+(?:s|is|was|has|have|had|just|still|now|suddenly|completely|totally|been|and|then)){0,3}?\W+"
)
# A child, for medicine taken: "N year old" only up to 12 ("my 40 year old husband took two tablets" is no child).
_CHILD = (
    r"\b(?:baby|toddler|child|children|kids?|son|daughter|grandson|granddaughter|boy|girl|twins|little one|"
    r"(?:[0-9]|1[0-2]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[- ]?(?:years?[- ]old|yo)|"
    r"\d{1,2}[- ]?(?:months?|weeks?|days?)[- ]old)\W+(?:\w+\W+){0,2}?"
)
# Medicine as generic words ("a child took two pills" sounds like getting into them), and with the named drugs
# most often taken in overdose or swallowed by children by accident (painkillers, opioids, sedatives,
# antidepressants, antihistamines, melatonin), which a child is also given in normal doses ("took one calpol").
_GENERIC_MEDICINE = (
    r"(?:pills?|tablets?|capsules?|medicines?|medication|meds)\b(?! (?:computer|device|screen|case|charger)s?\b)"
)
# Medicines no child is given: any amount a child takes is an emergency ("my 2 year old took a diazepam").
_ADULT_MEDICINE = (
    r"(?:aspirin|co-?codamol|codeine|tramadol|morphine|oxycodone|diazepam|sleeping pills?|antidepressants?|"
    r"sertraline|amitriptyline)\b"
)
_MEDICINE = (
    r"(?:pills?|tablets?|capsules?|medicines?|medication|meds|paracetamol|acetaminophen|tylenol|calpol|"
    r"ibuprofen|nurofen|advil|motrin|aspirin|co-?codamol|codeine|tramadol|morphine|oxycodone|diazepam|"
    r"sleeping pills?|antidepressants?|sertraline|amitriptyline|antihistamines?|melatonin)\b"
    r"(?! (?:computer|device|screen|case|charger)s?\b)"
)
# Things that collapse without an emergency (teeth, crowns, arches, veins, furniture, deals ...): "my crown
# collapsed", "a collapsed arch", "they collapsed the tent". Anyone else collapsing is an emergency, whoever
# they are ("Tom collapsed", "my husband, who is 70, collapsed"), so the rule excludes things, not lists people.
_COLLAPSING_THING = (
    r"(?:crowns?|fillings?|teeth|tooth|bites?|arch(?:es)?|dis[ck]s?|veins?|implants?|bridges?|gums?|knees?|legs?|"
    r"ankles?|roofs?|ceilings?|walls?|shel(?:f|ves)|cabinets?|tents?|chairs?|tables?|beds?|sofas?|ladders?|"
    r"fences?|buildings?|houses?|sheds?|scaffolding|cakes?|souffl\w*|deals?|markets?|plans?|talks|negotiations|"
    r"prices?|economy|compan(?:y|ies)|business(?:es)?|stacks?|piles?|towers?|floors?|boxes|box|umbrellas?|prams?|"
    r"buggy|buggies|strollers?)"
)
_COLLAPSE_FILLER = r"(?:has|had|have|is|was|were|been|just|suddenly|then|now|also|again|completely)"
# The word right before "collapsed" (fillers aside, and a filler is never that word) may not be a thing, an
# article ("a collapsed arch"), a negation ("he never collapsed", "I haven't collapsed") or nobody.
_NOT_A_COLLAPSER = (
    rf"(?:{_COLLAPSING_THING}|{_COLLAPSE_FILLER}|a|an|the|my|our|his|her|their|your|its|not|never|t|nearly|almost|"
    r"nobody|none|no|noone)"
)
# "collapsed" done to a thing or said of one: "they collapsed the tent", "I had collapsed veins"; time phrases
# ("collapsed this morning", "collapsed an hour ago") are no object.
_NOT_COLLAPSING = rf"(?!\s+(?:(?:the|a|an|it|them|my|our|his|her|their|your)\s+)?{_COLLAPSING_THING}\b)"

EMERGENCY_PATTERNS: dict[str, tuple[str, ...]] = {
    "chest pain": (
        rf"\bchest{_W}(?:pain|pains|tight\w*|pressure|hurts?|hurting|ach\w*|crush\w*|squeez\w*|heavy|heaviness)",
        r"\bmy chest(?: is|'s) killing me\b",
        rf"\b(?:pain|tightness|pressure|crushing|squeezing|heaviness)\b{_W}(?:chest|left arm|jaw)\b",
        r"\bheart attack\b",
        # the commonest wording in Spanish, French and German (an emergency reply in English beats none); the
        # English negation handling does not reach these, so each carries its own "no/pas de/keine"
        r"(?<!no tengo )(?<!sin )\bdolor (?:en el |de |del )?pecho\b|(?<!no )\bme duele (?:mucho )?el pecho\b|"
        r"(?<!pas de )(?<!sans )\bdouleurs? (?:à la |dans la |thoracique)(?:poitrine)?\b|(?<!pas )\bmal (?:à|a) la poitrine\b|"
        r"(?<!keine )(?<!kein )(?<!keinen )\bbrustschmerz\w*|\bschmerzen in der brust\b|\btut (?:mir )?die brust weh\b",
    ),
    "stroke signs": (
        rf"\bface{_W}?(?:droop\w*|numb|lopsided|uneven)|\bdroop\w*{_W}?(?:face|mouth|eyelid)",
        r"\bslurr\w*|\b(?:can ?not|can't|cannot|unable to|trouble|difficulty) (?:speak|speaking|talk|talking|get (?:my|the) words out)",
        r"\b(?:arm|leg|side)\b(?:\W+\w+){0,3}?\W+(?:weak|numb|limp|paraly\w*|dead)\b|\bcan'?t (?:lift|raise|move) (?:my|his|her|their) (?:arm|leg)",
        r"\bsudden\w*\W+(?:\w+\W+){0,2}?(?:numbness|weakness|confusion|blindness|loss of (?:vision|balance))",
        r"\b(?:having|had|has) a stroke\b|\bworst headache\b",
        r"\bsudden\w*\W+(?:\w+\W+){0,2}?(?:can'?t|cannot|can not|unable to) see\b|\bcan'?t see out of (?:one|my|his|her|the|their) (?:left |right )?eye\b",
        r"\b(?:lost|losing|loss of) (?:the )?(?:vision|sight) in (?:one|my|his|her|their|the) (?:left |right )?eye\b",
    ),
    "severe bleeding": (
        r"\bbleed\w*\W+(?:\w+\W+){0,3}?(?:heavily|badly|a lot|profusely|everywhere|won'?t stop|will not stop|not stopping|doesn'?t stop)",
        r"\b(?:heavy|severe|uncontroll\w*|massive|serious) bleeding\b|\bblood\W+(?:\w+\W+){0,2}?(?:spurting|pouring|gushing)",
        r"\b(?:coughing|vomiting|throwing) up blood\b|\blot of blood\b",
        r"\b(?:can'?t|cannot|can not|unable to|won'?t|will not|doesn'?t|does not) stop (?:the )?bleeding\b",
    ),
    "breathing difficulty": (
        r"\b(?:can'?t|cannot|can not|unable to|struggling to|hard to|barely) (?:breathe|breath|(?:catch|get) (?:my|his|her|their) breath)",
        r"\b(?:difficulty|trouble|problems?) breathing\b|\bshort(?:ness)? of breath\b|\bgasping\b|\bchoking\b",
        r"\b(?:lips|face) (?:are |is )?(?:turning )?blue\b|"
        r"\b(?:not|isn'?t|aren'?t|wasn'?t|stopped|has stopped) breathing\b(?! (?:exercises?|techniques?|practice))",
        # Spanish, French, German; a blocked nose or laughing too hard is no emergency
        r"(?:\bno (?:puedo|puede|podemos) respirar\b|\bno respira\b|\bne (?:peux|peut|peuvent) (?:pas|plus) respirer\b|"
        r"\bn'arrive (?:pas|plus) (?:à|a) respirer\b|\bne respire (?:pas|plus)\b|\bkann nicht (?:mehr )?atmen\b|"
        r"\batmet nicht\b|\b(?:bekomme?|kriege?) keine luft\b)"
        r"(?!\s+(?:(?:bien|gut|richtig)\s+)?(?:por la nariz|par le nez|durch die nase|de la risa|de rire|vor lachen))",
    ),
    "suicidal thoughts or self-harm": (
        r"\bkill(?:ing)? myself\b|\bend(?:ing)? (?:my|it all|my own) ?(?:life)?\b(?!\w)|\bsuicid\w*",
        r"\btake my (?:own )?life\b|\b(?:want|wanna|going) to die\b|\bbetter off dead\b|\bno reason to live\b",
        r"\b(?:don'?t|do not) want to (?:live|be alive|wake up)\b",
        r"\b(?:want to|wanna|going to|feel like|thinking (?:of|about)) end(?:ing)? it\b",
        r"\b(?:hurt|hurting|harm|harming|cut|cutting) myself\b|\bself[- ]?harm\w*",
        r"\bwish (?:i|i'd) (?:was|were|had been) (?:dead|never born)\b|\bwish (?:i|i'd) could (?:die|disappear forever)\b",
        r"\b(?:better off|happier) without me\b|\b(?:no|don'?t see (?:the|any)) point (?:in|of) (?:living|life|going on)\b",
    ),
    "severe allergic reaction": (
        r"\banaphyla\w*",
        r"\b(?:throat|tongue|lips?|face|mouth)\W+(?:\w+\W+){0,2}?(?:swell\w*|swollen|closing|tight\w*)",
        r"\ballergic reaction\b.{0,60}\b(?:breath\w*|swell\w*|throat|hives)",
        r"\bepi-?pen\b",
    ),
    "overdose or poisoning": (
        r"\boverdos\w*",
        r"\b(?:took|taken|swallowed|ate|drank)\W+(?:\w+\W+){0,3}?(?:too many|too much|a whole|the whole|whole bottle|all (?:of )?(?:my|the))\b",
        r"\b(?:swallowed|drank|ate)\W+(?:\w+\W+){0,2}?(?:bleach|poison|detergent|antifreeze|batter(?:y|ies))",
        r"\bpoison(?:ed|ing)\b",
        # swallowing them after carrying them somewhere ("took 30 paracetamol home ... and swallowed them all")
        rf"{_MEDICINE}\b[^.?!]{{0,80}}?\bswallowed (?:them|it|the lot|all of them)\b",
        rf"\bswallowed\W+(?:(?:like|about|around|maybe|nearly|almost|over|at least)\W+)?(?:[1-9]\d+|ten|eleven|twelve|"
        rf"\w+teen|twenty|thirty|forty|fifty|dozens?|a dozen)\W+(?:\w+\W+){{0,2}}?{_MEDICINE}",
        rf"\bhad\W+(?:a handful|handfuls|a whole (?:bottle|box|packet|strip|pack)|the whole (?:bottle|box|packet|strip|"
        rf"pack))\W+of\W+(?:\w+\W+){{0,2}}?{_MEDICINE}"
        r"(?!\W+(?:\w+\W+){0,3}?(?:delivered|prescribed|in (?:my|the|his|her|our) \w+|left|at home)\b)",
        # ten or more tablets at once, by anyone ("I took like 20 paracetamol", "16 ibuprofen tablets"); a dose
        # in units ("10 mg of melatonin", "20 units of insulin"), a course or a supply ("18 months of sertraline",
        # "30 tablets this month as prescribed", "10 pills a day") is not
        rf"\b(?:took|taken|swallowed|ate|eaten)\W+(?:(?:like|about|around|maybe|nearly|almost|over|at least)\W+)?"
        rf"(?:[1-9]\d+|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|dozens?|a dozen)\b"
        rf"(?!\s?(?:mg|mcg|µg|g|ml|milligrams?|micrograms?|grams?|units?|iu)\b)\W+"
        rf"(?:of (?:my|his|her|their|the|your)\W+)?(?:(?!(?:months?|weeks?|days?|years?|hours?|of)\b)\w+\W+)?"
        rf"{_MEDICINE}(?!\W+(?:\w+\W+){{0,3}}?(?:a day|per day|daily|a week|per week|over|since|this (?:month|week|year)|"
        r"as prescribed|left|to collect|back|home|with (?:me|us|him|her|them)|to (?:the|my|his|her|a|their)|out of|"
        r"for disposal)\b)",
        rf"\b(?:took|taken|swallowed|ate|eaten)\W+(?:\w+\W+){{0,2}}?(?:a (?:whole )?(?:bottle|handful|packet|box|"
        rf"strip|pack|jar|tub)|handfuls?) of\W+(?:\w+\W+){{0,2}}?{_MEDICINE}"
        r"(?!\W+(?:\w+\W+){0,3}?(?:back|home|with (?:me|us|him|her|them)|to (?:the|my|his|her|a|their)|out of)\b)",
        rf"\b(?:took|taken|had|used|injected|swallowed)\W+(?:\w+\W+){{0,2}}?(?:more|extra)\W+(?:\w+\W+){{0,2}}?"
        rf"(?:insulin|{_MEDICINE})\W+(?:\w+\W+){{0,1}}?than (?:prescribed|recommended|the (?:dose|doctor said)|"
        r"(?:i|he|she|they|we|you)(?:'m| am| was| were| are| is)? (?:should|supposed|allowed|meant|prescribed)\b)",
        # a child getting into medicine is an emergency whatever the amount; "my son took his tablets" is not
        rf"{_CHILD}(?:swallowed|got into|got hold of)\W+(?:\w+\W+){{0,4}}?{_MEDICINE}",
        # eating medicine is no way of taking a dose ("my toddler ate paracetamol"); eating one's own is
        rf"{_CHILD}(?:ate|eaten)\W+(?:(?!(?:his|her|their|with|after|before|then|and|during|without)\b)\w+\W+){{0,2}}?"
        rf"(?!(?:his|her|their)\b){_MEDICINE}(?!\W+(?:gumm(?:y|ies)|chewables?)\b)",
        # a lot, or someone else's, of any medicine; a few of unnamed pills ("took two pills") but not a child's
        # dose of a named one ("took 2 ibuprofen for his fever", "some calpol")
        rf"{_CHILD}(?:took|taken|ate|eaten|drank)\W+(?:\w+\W+){{0,2}}?(?:a handful|handful|several|lots|loads|all|"
        rf"a bottle|a packet|a box|a strip|a load|a bunch|a lot|half|my|our|your|\w+'s)\W+"
        rf"(?:\w+\W+){{0,3}}?{_MEDICINE}",
        rf"{_CHILD}(?:took|taken|ate|eaten|drank)\W+(?:\w+\W+){{0,2}}?(?:some|a few|a couple|two|three|four|five|\d+)\W+"
        rf"(?:\w+\W+){{0,3}}?{_GENERIC_MEDICINE}",
        # three or more of any medicine, any amount of an adult one, or drinking it from the bottle
        rf"{_CHILD}(?:took|taken|ate|eaten|drank|had)\W+(?:\w+\W+){{0,2}}?(?:three|four|five|six|seven|eight|nine|ten|"
        rf"[3-9]|\d{{2,}})\W+(?:\w+\W+){{0,2}}?{_MEDICINE}",
        rf"{_CHILD}(?:took|taken|ate|eaten|drank|swallowed)\W+(?!(?:his|her|their)\b)(?:\w+\W+){{0,3}}?{_ADULT_MEDICINE}",
        rf"{_CHILD}(?:drank|drunk)\W+(?:\w+\W+){{0,4}}?(?:straight )?(?:from|out of) the bottle\b",
        # "a" / "one" must name the medicine (one adjective allowed): "took a tablet computer / a photo" is not
        rf"{_CHILD}(?:took|taken|ate|eaten|drank)\W+(?:a|an|one)\W+(?:\w+\W+)?{_GENERIC_MEDICINE}"
        r"(?! of (?:his|her|their) )",
    ),
    # Red flags in babies and children (NICE NG143): any fever under 3 months, floppiness, a rash that does not
    # fade under a glass (meningitis).
    "seriously ill baby or child": (
        r"\b(?:newborn|(?:[1-3]|one|two|three)[- ]?months?[- ]old|\d{1,2}[- ]?(?:days?|weeks?)[- ]old)\b"
        r"(?:\W+(?!(?:no|not|never|without|doesn|don|didn|hasn|hadn|isn|wasn)\b)\w+){0,8}?\W+"  # "has no fever"
        r"(?:fever|temperature|hot to (?:the )?touch)\b",
        rf"{_CHILD}(?:\w+\W+){{0,3}}?(?:floppy|limp)\b|\b(?:floppy|limp) (?:baby|child|toddler|infant)\b",
        r"\brash\b(?:\W+\w+){0,3}?\W+(?:doesn'?t|does not|won'?t|will not|didn'?t|did not) fade\b"
        r"|\bnon[- ]?blanching\b",
    ),
    "loss of consciousness or seizure": (
        r"\bunconscious\b|\bunresponsive\b|\bwon'?t wake(?: up)?\b|\bpassed out\b|\bfainted\b|\bbewusstlos\b|"
        r"\b(?:está|esta|quedó|se quedó) inconsciente\b|\b(?:est|reste) inconsciente?\b(?! de| des| du)",
        rf"(?<![\w'])(?<!\bno )(?!{_NOT_A_COLLAPSER}\b)\w+(?:'(?:ve|d|s|re))?(?:\W+{_COLLAPSE_FILLER}\b)*+\W+"
        rf"collapsed\b{_NOT_COLLAPSING}",
        r"^(?:suddenly |just )?collapsed\b(?=\W*$|\W+(?:at|in|on|while|during|after|and|twice|again|today|"
        r"yesterday|this|last|earlier|outside|from|playing|when)\b)",
        r"\bcollapsed lungs?\b|\blungs? (?:has |had |have )?collapsed\b",
        # "not responding to the cream / to my texts" is said of a treatment or a message, "to me" is not
        rf"{_PERSON}(?:not|isn'?t|aren'?t|wasn'?t|stopped) (?:responding|waking up)\b"
        r"(?! to (?!(?:me|us|anyone|anybody|anything|(?:my|our|his|her|their) (?:voice|name)|voices?|touch|pain|shaking)\b))",
        r"\bseizures?\b|\bconvuls\w*|\bfitting\b|\b(?:having|had|has|having another) a fit\b",
    ),
}

EMERGENCY_ACTIONS: dict[str, str] = {
    "chest pain": "Chew an aspirin only if a clinician has told you it is safe for you; stay still and unlock the door.",
    "stroke signs": "Note the time the symptoms started (FAST: Face, Arms, Speech, Time) and do not eat or drink.",
    "severe bleeding": "Press firmly on the wound with a clean cloth and keep pressing until help arrives.",
    "breathing difficulty": "Sit upright, loosen tight clothing and use a prescribed reliever inhaler if you have one.",
    "suicidal thoughts or self-harm": (
        "You deserve support right now: call or text 988 (Suicide & Crisis Lifeline, US), call 116 123 "
        "(Samaritans, UK/IE) or your local crisis line, and if you might act on these thoughts, call emergency "
        "services or go to the nearest emergency department. If you can, stay with someone you trust."
    ),
    "severe allergic reaction": "Use an adrenaline auto-injector (EpiPen) if one is prescribed, then lie down with legs raised.",
    "overdose or poisoning": "Call poison control as well if you can, keep the packaging, and do not make the person vomit.",
    "seriously ill baby or child": "Keep the child with you, note their temperature and when it started, and bring any medicines they have had.",
    "loss of consciousness or seizure": "Place the person on their side, keep them safe from injury and do not put anything in their mouth.",
}

EMERGENCY_FIRST_LINE = (
    "This could be a medical emergency. Call your local emergency number now (911 in the US and Canada, "
    "112 in the EU, 999 in the UK) or go to the nearest emergency department."
)

# A negation cue cancels a match only when it ends right before it, or at most _GOVERNED_GAP filler words before
# it ("no chest pain", "not having any chest pain"); a content word in between ("isn't well with chest pain",
# "never felt chest pain this bad", "couldn't sleep with chest pain") means the cue is said of something else.
_NEGATION = re.compile(
    r"(?:\b(?:no|not|never|without|denies|deny|denied|free of|none|nor|neither|"
    r"(?:do|does|did)n'?t (?:have|get)|(?:do|does|did) not (?:have|get)|(?:have|has)n'?t (?:had|got)|"
    r"(?:have|has) not (?:had|got))|n't)$"
)
_GOVERNED_FILLER = frozenset({
    "any", "a", "an", "the", "my", "his", "her", "their", "more", "further", "new", "other", "real", "actual",
    "signs", "sign", "of", "having", "experiencing", "getting", "got", "get",
})  # fmt: skip
_GOVERNED_GAP = 2
_REMOTE_PAST = re.compile(
    r"\b(?:(?:\w+ )?(?:years?|months?|weeks?) ago|last (?:year|month|week|summer|winter)|in the past|"
    r"used to|history of|as a child|when i was)\b"
)
# A missed emergency costs far more than a false alarm: clauses are cut short (every comma, "and", "so"), so a
# negation or a "years ago" only reaches the symptom it is said of.
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n]|\b(?:but|and|so|then|however|although|though|because)\b")
# Negation words that say nothing about the symptom that follows ("no one is home and my chest hurts").
_NOT_A_NEGATION = re.compile(
    r"\b(?:no one|no-one|nobody|no idea|not sure|(?:do|does|did)n'?t know|(?:do|does|did) not know|"
    r"(?:is|are|was)n'?t (?:responding|breathing|waking|moving|answering)|not (?:responding|breathing|waking))\b"
)

_MEDICINE = (
    r"(?:\d+|pills?|tablets?|capsules?|medicines?|medications?|meds|drugs?|insulin|antibiotics?|advil|tylenol|motrin|"
    r"aleve|ibuprofen|paracetamol|acetaminophen|aspirin|naproxen|codeine|calpol|warfarin|antihistamines?)"
)
_CONDITION = (
    r"(?:\w+(?:itis|osis|oma|emia|aemia|pathy)|cancer|a tumou?r|serious|malignant|an infection|infected|diabetes|"
    r"covid|(?:the )?flu|a heart problem|a stroke|contagious|shingles|eczema|psoriasis|ringworm|scabies|measles|"
    r"chicken ?pox|lyme(?: disease)?|sepsis|strep(?: throat)?|an allergy|allergic|a virus|viral|bacterial|"
    r"a (?:fracture|broken bone)|an ulcer|a hernia|an std|an sti)"
)

DOSING_PATTERNS = (
    r"\bhow (?:much|many)\b.{0,40}\b(?:take|give|have|use|mg|milligrams?|ml|tablets?|pills?|capsules?|puffs?)\b",
    r"\b(?:dose|doses|dosage|dosing|overdose limit|maximum daily)\b",
    r"\b\d+\s?(?:mg|mcg|ml|milligrams?)\b",
    r"\bhow often (?:can|should|do) (?:i|you|we|he|she) (?:take|give|use)\b",
    r"\b(?:double|increase|decrease|reduce|halve|skip|stop|up) (?:my|the|his|her) (?:dose|medication|meds|tablets|pills|insulin)\b",
    r"\bcan i (?:take|mix|combine)\b.{0,40}\b(?:with|and|together|while)\b",
    r"\bstop taking (?:my|the)\b",
    rf"\bis it (?:ok|okay|safe|fine|alright|all right) (?:to|if i|for (?:me|him|her|my \w+) to) "
    rf"(?:take|give|have|use|mix|combine)\b.{{0,40}}?\b{_MEDICINE}\b",
    r"\bshould (?:i|he|she|we|they|my \w+) (?:take|give|use|have|inject) (?:more|less|fewer|extra|another|an extra|a second|\d+)\b",
)

DIAGNOSIS_PATTERNS = (
    r"\b(?:do|could|might|would|may) (?:i|he|she|my \w+) (?:have|be having|be suffering from)\b",
    r"\bdiagnos\w*",
    r"\bwhat(?:'s| is) wrong with (?:me|my|him|her)\b",
    r"\bwhat (?:disease|illness|condition|infection|sickness) (?:do|does|is|could)\b",
    rf"\bis (?:it|this|that|my \w+)(?: \w+)? {_CONDITION}\b",
    rf"\b(?:could|might|can|would) (?:it|this|that|my \w+)(?: \w+)? be {_CONDITION}\b",
    r"\b(?:is|are) (?:my|his|her|their) (?:\w+ )?(?:arm|leg|wrist|ankle|foot|toe|finger|hand|rib|nose|elbow|knee|"
    r"shoulder|collarbone|jaw|bone)s? (?:broken|fractured)\b",
    r"\b(?:do|does|will|would) (?:i|he|she|my \w+) need (?:a |an |some )?"
    r"(?:antibiotics?|antivirals?|steroids?|treatment|medication|medicine|surgery|an operation)\b",
    r"\bam i (?:sick|ill|pregnant|diabetic|dying|having)\b",
    r"\bdo you think (?:it'?s|i have|this is|i'm)\b",
    r"\b(?:tell|give) me what (?:i have|it is)\b",
)


@dataclass(frozen=True)
class SafetyAssessment:
    kind: SafetyKind
    categories: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()  # the text spans that triggered the assessment, for review


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\bi ?m\b", "i'm", text)
    text = re.sub(r"\bcant\b", "can't", text)
    text = re.sub(r"\bwont\b", "won't", text)
    text = re.sub(r"\bdont\b", "don't", text)
    return re.sub(r"\s+", " ", text)


def _clause_before(text: str, position: int) -> str:
    """The part of the clause that precedes ``position``."""
    starts = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, position)]
    return text[(starts[-1] if starts else 0) : position]


def _clause_around(text: str, start: int, end: int) -> str:
    following = _CLAUSE_BREAK.search(text, end)
    return _clause_before(text, start) + text[start : following.start() if following else len(text)]


def _governs(words: list[str]) -> bool:
    """True when the words before a match end in a negation cue followed by at most a few filler words."""
    for gap in range(min(_GOVERNED_GAP, len(words)) + 1):
        if gap and words[-gap] not in _GOVERNED_FILLER:
            return False
        if _NEGATION.search(" ".join(words[: len(words) - gap])):
            return True
    return False


def _is_negated(text: str, match: re.Match[str]) -> bool:
    # "I can't breathe" carries its own negation inside the match, so only cues before it count.
    before = _NOT_A_NEGATION.sub(" ", _clause_before(text, match.start()))
    if _governs(re.findall(r"[\w']+", before)):
        return True
    return bool(_REMOTE_PAST.search(_clause_around(text, match.start(), match.end())))


def _first_live_match(text: str, patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            if not _is_negated(text, match):
                return match.group(0)
    return None


# PUBLIC API


def assess(message: str) -> SafetyAssessment:
    """Classify a patient message: emergency (with categories), dosing or diagnosis request, or none.

    Emergencies win over everything else: "how many pills for an overdose" is an emergency, not a dosing
    question.
    """
    text = _normalise(message)
    categories, matched = [], []
    for category, patterns in EMERGENCY_PATTERNS.items():
        span = _first_live_match(text, patterns)
        if span is not None:
            categories.append(category)
            matched.append(span)
    if categories:
        return SafetyAssessment("emergency", tuple(categories), tuple(matched))
    for kind, patterns in (("dosing", DOSING_PATTERNS), ("diagnosis", DIAGNOSIS_PATTERNS)):
        span = _first_live_match(text, patterns)
        if span is not None:
            return SafetyAssessment(kind, (), (span,))  # type: ignore[arg-type]
    return SafetyAssessment("none")


def emergency_reply(assessment: SafetyAssessment) -> str:
    """The instruction to call emergency services first, then one practical step per recognised category."""
    lines = [EMERGENCY_FIRST_LINE]
    lines += [EMERGENCY_ACTIONS[category] for category in assessment.categories]
    lines.append("Do not wait for an appointment or an online answer. " + MEDICAL_NOTICE)
    return "\n\n".join(lines)


def refusal_reply(assessment: SafetyAssessment) -> str:
    """A polite refusal for dosing or diagnosis requests that says what to do instead."""
    if assessment.kind == "dosing":
        body = (
            "I can't advise on medicine doses or combinations, because the safe amount depends on your health, "
            "weight and other medicines. Please check the patient leaflet and ask your pharmacist or the "
            "clinician who prescribed it; if you think you have taken too much, call poison control or "
            "emergency services now."
        )
    else:
        body = (
            "I can't diagnose conditions: that needs a clinician who can examine you and ask follow-up "
            "questions. I can explain general health information from our patient leaflets and help you book "
            "an appointment with the right clinician; if symptoms are severe or getting worse quickly, seek "
            "urgent care."
        )
    return f"{body}\n\n{MEDICAL_NOTICE}"
