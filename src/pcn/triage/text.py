"""Reading a patient's message: normalise spelling and text-speak, split clauses, and decide
whether each mention is asserted now, negated, historical or hypothetical.

The approach is NegEx-like (Chapman et al., J Biomed Inform 2001): trigger words open a scope that
runs to the end of the clause. Everything is plain regular expressions so it is fast, offline and
gives the same answer every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache

# Text-speak and common contractions, applied word by word after lower-casing. Apostrophes are
# dropped first, so "can't" and "cant" read the same.
_WORD_MAP: dict[str, str] = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "im": "i am",
    "ive": "i have",
    "id": "i had",
    "hes": "he is",
    "shes": "she is",
    "its": "it is",
    "thats": "that is",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "wasnt": "was not",
    "arent": "are not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "wont": "will not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "aint": "is not",
    "cant": "cannot",
    "carnt": "cannot",
    "cnt": "cannot",
    "couldnt": "cannot",
    "kant": "cannot",
    "dnt": "do not",
    "wnt": "will not",
    "b4": "before",
    "2day": "today",
    "2nite": "tonight",
    "2moro": "tomorrow",
    "tmrw": "tomorrow",
    "2morrow": "tomorrow",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "bc": "because",
    "cos": "because",
    "coz": "because",
    "cuz": "because",
    "n": "and",
    "wiv": "with",
    "w": "with",
    "hav": "have",
    "av": "have",
    "wat": "what",
    "wot": "what",
    "bk": "back",
    "nite": "night",
    "tho": "though",
    "thru": "through",
    "abt": "about",
    "mins": "minutes",
    "min": "minutes",
    "hrs": "hours",
    "hr": "hour",
    "wks": "weeks",
    "wk": "week",
    "yrs": "years",
    "yr": "years",
    "yo": "year old",
    "yro": "year old",
    "mnth": "month",
    "mths": "months",
    "mnths": "months",
    "mo": "month",
    "dr": "doctor",
    "drs": "doctors",
    "gp": "gp",
    "docs": "doctor",
    "doc": "doctor",
    "meds": "medication",
    "med": "medication",
    "medicine": "medication",
    "medicines": "medication",
    "tabs": "tablets",
    "prescrip": "prescription",
    "preg": "pregnant",
    "tummy": "stomach",
    "belly": "stomach",
    "poo": "stool",
    "pooh": "stool",
    "temp": "temperature",
    "bleedin": "bleeding",
    "breathin": "breathing",
    "hurtin": "hurting",
    "feelin": "feeling",
    "nothin": "nothing",
    "somethin": "something",
    "goin": "going",
    "gettin": "getting",
    "throwin": "throwing",
    "comin": "coming",
    "tryin": "trying",
    "sum": "some",
    "sumthing": "something",
    "sumthin": "something",
    "v": "very",
    "rly": "really",
    "realy": "really",
    "jus": "just",
    "mum": "mum",
    "mam": "mum",
    "ma": "mum",
    "mom": "mum",
    "da": "dad",
    "grandad": "grandfather",
    "grandpa": "grandfather",
    "granddad": "grandfather",
    "nan": "grandmother",
    "nana": "grandmother",
    "gran": "grandmother",
    "granny": "grandmother",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "hubby": "husband",
    "pt": "patient",
    "a&e": "a and e",
    "ae": "a and e",
    "sob": "short of breath",
    "sorethroat": "sore throat",
    "chestpain": "chest pain",
    "headache": "headache",
    "tummyache": "stomach ache",
    "stomachache": "stomach ache",
    "earache": "ear ache",
    "toothache": "tooth ache",
    "backpain": "back pain",
    "ok": "okay",
    "k": "okay",
    "bcoz": "because",
    "ppl": "people",
}

# Misspellings seen in free text that fuzzy matching alone would not fix safely.
_SPELLING: dict[str, str] = {
    "brethe": "breathe",
    "breth": "breathe",
    "breeth": "breathe",
    "breathe": "breathe",
    "brething": "breathing",
    "breating": "breathing",
    "stomache": "stomach",
    "stomack": "stomach",
    "stomac": "stomach",
    "hed": "head",
    "hedache": "headache",
    "headake": "headache",
    "hedake": "headache",
    "alergic": "allergic",
    "allergic": "allergic",
    "alergy": "allergy",
    "swolen": "swollen",
    "sweling": "swelling",
    "swolled": "swollen",
    "throte": "throat",
    "throa": "throat",
    "vomitting": "vomiting",
    "vommiting": "vomiting",
    "vomiting": "vomiting",
    "vommit": "vomit",
    "vomitted": "vomited",
    "diarrea": "diarrhoea",
    "diarhoea": "diarrhoea",
    "diarrhea": "diarrhoea",
    "diahrrea": "diarrhoea",
    "diarreah": "diarrhoea",
    "unconcious": "unconscious",
    "concious": "conscious",
    "siezure": "seizure",
    "seizure": "seizure",
    "seziure": "seizure",
    "temprature": "temperature",
    "tempreture": "temperature",
    "temperture": "temperature",
    "sucide": "suicide",
    "suicidle": "suicidal",
    "sucidal": "suicidal",
    "suicdal": "suicidal",
    "perscription": "prescription",
    "presciption": "prescription",
    "prescripton": "prescription",
    "apointment": "appointment",
    "appointmant": "appointment",
    "blod": "blood",
    "bleading": "bleeding",
    "numbe": "numb",
    "nummness": "numbness",
    "numbess": "numbness",
    "dizy": "dizzy",
    "dizzey": "dizzy",
    "feaver": "fever",
    "fevour": "fever",
    "feva": "fever",
    "cought": "cough",
    "coff": "cough",
    "coughin": "coughing",
    "rashe": "rash",
    "soar": "sore",
    "anaphalaxis": "anaphylaxis",
    "anafalaxis": "anaphylaxis",
    "anaphylatic": "anaphylactic",
    "epi-pen": "epipen",
    "infektion": "infection",
    "infecion": "infection",
    "uti's": "utis",
    "shingels": "shingles",
    "impetego": "impetigo",
    "impetigo": "impetigo",
    "sinusitus": "sinusitis",
    "sinus's": "sinuses",
    "tonsilitis": "tonsillitis",
    "tonsillitis": "tonsillitis",
    "pregant": "pregnant",
    "pregnent": "pregnant",
    "prenant": "pregnant",
    "stiches": "stitches",
    "anxeity": "anxiety",
    "anxity": "anxiety",
    "depresion": "depression",
    "depressed": "depressed",
    "lonley": "lonely",
    "lonly": "lonely",
    "physio": "physio",
    "knee's": "knees",
    "sholder": "shoulder",
    "shoulda": "shoulder",
    "chst": "chest",
    "cheat": "cheat",
    "hart": "heart",
    "attak": "attack",
    "atack": "attack",
    "strok": "stroke",
    "faceis": "face is",
    "slured": "slurred",
    "slurring": "slurred",
    "drooping": "drooping",
    "droopy": "drooping",
    "dropping": "dropping",
    "wheezy": "wheezy",
    "weezing": "wheezing",
    "wheazing": "wheezing",
    "puffer": "inhaler",
    "inhailer": "inhaler",
    "floppey": "floppy",
    "nappys": "nappies",
    "nappies": "nappies",
    "teeth": "teeth",
    "tooths": "teeth",
    "abcess": "abscess",
    "absess": "abscess",
    "abscess": "abscess",
}

# Words never "corrected" by fuzzy matching, because they are real words near a medical term.
_FUZZY_STOP = frozenset(
    {
        "breeding",
        "reading",
        "feeding",
        "heading",
        "leading",
        "needing",
        "bleeds",
        "chess",
        "chase",
        "cheese",
        "string",
        "strong",
        "strike",
        "stoke",
        "stokes",
        "passed",
        "pasted",
        "worst",
        "worse",
        "worth",
        "month",
        "mouth",
        "moth",
        "bottom",
        "button",
        "better",
        "bitter",
        "sting",
        "stings",
        "stinging",
        "fitting",
        "sitting",
        "getting",
        "hitting",
        "feeling",
        "falling",
        "calling",
        "filling",
        "killing",
        "swelling",
        "dwelling",
        "selling",
        "telling",
        "spelling",
        "yelling",
        "shouting",
        "showing",
        "throwing",
        "through",
        "thought",
        "though",
        "brought",
        "bought",
        "taught",
        "caught",
        "fought",
        "weight",
        "height",
        "eight",
        "right",
        "night",
        "light",
        "sight",
        "tight",
        "fight",
        "might",
        "slight",
        "flight",
        "bright",
        "weak",
        "week",
        "cheek",
        "check",
        "chest",
        "neck",
        "back",
        "black",
        "blank",
        "burning",
        "turning",
        "learning",
        "morning",
        "warning",
        "mourning",
        "evening",
        "opening",
        "drinking",
        "thinking",
        "sinking",
        "linking",
        "shrinking",
        "blinking",
        "stinking",
        "travel",
        "gravel",
        "school",
        "stool",
        "stools",
        "tools",
        "cool",
        "pool",
        "wool",
        "fool",
    }
)

_APOSTROPHES = re.compile(r"[’'`´]")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.][0-9]+)?|[^\sa-z0-9]")
# Clause breaks: sentence punctuation, contrastive conjunctions, and "and" followed by a new
# subject (so "no fever and my chest hurts" does not negate the chest).
_CLAUSE_BREAK = re.compile(
    r"[.;!?\n]+(?:\s|$)|\s[-–—]\s|\b(?:but|however|although|though|whereas|except|apart from|"
    r"aside from|now|today|tonight|this morning|this evening|since then|then)\b|"
    r",?\s\band(?=\s+(?:now|today|then|i|im|my|he|she|his|her|it|they|their|the|this|also|"
    r"still|suddenly|recently|is|was|has|had|keeps|kept|seems|looks|looked|cannot|unable|"
    r"feels|felt|gets|got|started|becoming|become|became)\b)|"
    r",\s*(?=(?:i|he|she|it|they|my|his|her|just|only)\s)|"
    r",\s*(?=(?:sudden|suddenly|now|today|tonight|this morning|new|acute|acutely|currently|"
    r"started|presents|presenting|complaining|collapsed)\b)"
)

_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|never|without|denies|deny|denied|none|nor|neither|negative for|free of|"
    r"absence of|ruled out|no sign of|no signs of|no longer|nothing like|zero|nil)\b"
)
_NEGATION_AFTER = re.compile(
    r"^\W*(?:has |have |is |was |were |are )?(?:gone|resolved|settled|ruled out|cleared up|"
    r"went away|stopped|absent|negative|nil|not present|not seen|not found)\b"
)
# Phrases that look like negation but assert something.
_PSEUDO_NEGATION = re.compile(
    r"\b(?:not sure|no idea|not only|not just|no improvement|no let up|no change in|"
    r"not been (?:to work|able|sleeping|eating)|(?:have not|did not|could not) (?:slept|sleep)|"
    r"(?:have not|did not) taken? anything for|will not wake|no longer able|not able|"
    r"never (?:had|felt|been|"
    r"seen|known) (?:\w+ ){0,3}(?:this|that|so|as) (?:bad|ill|poorly|unwell|severe|painful)|"
    r"never been this|never felt this|never had (?:one|it|pain|a headache) like|no better|"
    r"not better|not improving|not getting better|not going away|not gone|not stopping|"
    r"not stop|not settling|not helping|no help|"
    r"not working|nothing helps|nothing is helping|not eating|not drinking|not responding|not "
    r"waking|not breathing|not passed|no feeling|no sensation|no control|no strength|"
    r"not stop|no urine|not peed|not able|cannot|unable|not feeding|"
    r"not moving|not making sense|not fading|not fade|no response|not responsive|"
    r"not himself|not herself|not myself|not right|not normal|not any better|no relief|not "
    r"had a wee|no wet)\b"
)
_HISTORICAL = re.compile(
    r"\b(?:(?:\d+|a|an|one|two|three|four|five|six|several|many|few|couple of|some) )?"
    r"(?:years?|decades?) ago\b|\b(?:\d+|several|many|few|six|five|four|three|two) months ago\b|"
    r"\blast year\b|"
    r"\b(?:in |since |from |back in )?(?:19|20)\d\d\b(?! (?:mg|ml|kg|steps|calories))|"
    r"\bresidual\b|\bpast medical history\b|\bmedical history\b|"
    r"\bas a (?:child|kid|baby|teenager)\b|\bwhen i was (?:young|little|"
    r"a kid|a child|younger|a teenager|pregnant)\b|\bhistory of\b|\bhx of\b|\bused to\b|"
    r"\bfamily history\b|\bruns in (?:the|my|our) family\b|\bdied (?:of|from|after)\b|"
    r"\bpassed away\b|\bpreviously\b|\bin the past\b|"
    r"\bback in (?:(?:19|20)\d\d|the day|the (?:70|80|90)s)\b|\bhad one before\b"
)
_FAMILY = re.compile(
    r"\b(?:dad|father|mum|mother|parents?|grandfather|grandmother|grandparents?|brother|sister|"
    r"uncle|aunt|auntie|aunty|cousin|family|friend|neighbour|colleague)s?\b"
)
# Simple past about a relative is family history ("my dad had a stroke"); the present perfect
# is news ("my mother has had a fall") and stays current.
_FAMILY_PAST = re.compile(
    r"(?<!has )(?<!have )(?<!has just )(?<!just )\b(?:had|suffered|died|passed|was diagnosed|"
    r"was (?:in hospital|admitted|ill|poorly|very ill|rushed to hospital))\b"
)
_RECENT = re.compile(
    r"\b(?:now|right now|just|currently|today|tonight|this morning|this afternoon|this evening|"
    r"since|at the moment|minutes? ago|an hour ago|hours? ago|is having|keeps|still|suddenly|"
    r"started|happening|ongoing|unable to|will not|cannot|is not|isnt|keeps|lying|stuck)\b"
)
_TREATED = re.compile(
    # a person discharged from hospital, not a device that discharged ("ICD discharged x1")
    r"\b(?:(?:was|been|got|being|recently|just|since) discharged|discharged (?:home|from|after|"
    r"following|\d)|discharge summary|following (?:an? |his |her |my |their )?admission|"
    r"after (?:his|her|my|their|an?) (?:operation|surgery|op|admission|stay in hospital))\b"
)
#: A message that is a hospital's letter about care already given: its admissions are history.
_CORRESPONDENCE = re.compile(
    r"\b(?:discharge (?:summary|letter|notification)|discharge\s*:|(?:clinic|outpatient|"
    r"hospital|consultant|ed|a and e|tia clinic|cardiology|specialist) letter|letter from (?:the )?"
    r"(?:hospital|consultant|clinic))"
)
_ADMITTED = re.compile(
    r"\b(?:admitted|was in hospital|inpatient stay|treated (?:in hospital )?for)\b"
)
_AGO = re.compile(r"\b(?:\d+|a|one|two|three|four|five|six|few|couple of) (?:days?|weeks?|months?) "
                  r"ago\b|\b\d+ ?/ ?(?:7|52|12) ago\b|\blast (?:week|month)\b")
_AGAIN = re.compile(r"\b(?:again|back|returned|recurr\w*|worse|worsening|new)\b")
_HYPOTHETICAL = re.compile(
    r"\b(?:what if|in case|if (?:i|he|she|they|we|you|my \w+|someone|somebody) (?:ever |were to |"
    r"was to )?(?:get|gets|got|develop|develops|had|has|have|start|starts|was|were|is)\b|"
    r"what are the (?:signs|symptoms)|how (?:do|would|can) (?:i|you) (?:know|tell|spot)|signs of|"
    r"what (?:signs|symptoms) (?:should|do|would|to)|(?:look|watch) out for|"
    r"symptoms of|risk of|at risk|chance of|to prevent|prevention|prevent|information (?:about|on)|"
    r"leaflet|worried about getting|scared of getting|afraid of getting|reduce (?:my|the) risk|"
    r"screening for|test for|tested for|check for|checked for|safety ?net\w*|"
    r"(?:call|ring|phone|contact|return|come back|seek (?:help|advice)|go to (?:a and e|hospital))"
    r" (?:999 |111 |us |back |the surgery |the practice )?if)\b"
)

_TEMPERATURE = re.compile(
    r"\b(3[4-9]|4[0-3])(?:[.,](\d))?\s*(?:°|o|degrees?|deg|c\b|celsius)?|"
    r"\b(9[5-9]|10[0-9])(?:[.](\d))?\s*(?:°|degrees?)?\s*f\b"
)
_TEMP_CONTEXT = re.compile(
    r"(?:temperature|fever|temp|thermometer|degrees|°|hot|high of|warm|checked|armpit|"
    r"under (?:his|her|the|my|their) arm|forehead|in (?:his|her|the|my) ear)"
)
_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
}
_SUBJECT_AGE = re.compile(
    r"\b(?:my|our|the|his|her|their)?\s*(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|a|an)[\s-]*(day|week|wk|month|year)s?[\s-]*olds?\b|"
    r"\b(?:aged?|age)\s*(\d{1,2})\b|"
    r"\b(?:son|daughter|child|kid|boy|girl|toddler|grandson|granddaughter)\s*(?:\(|,|is )\s*"
    r"(?:aged?\s*)?(\d{1,2})\b(?!\s*(?:weeks?|months?|days?|times?|hours?|minutes?|kg|%))|"
    r"\b(?:baby|son|daughter|child|boy|girl|newborn|he|she) is (\d{1,2}) (day|week|month)s?\b"
)
_BABY = re.compile(r"\b(?:newborn|new born|new-born)\b")
_INFANT = re.compile(r"\b(?:baby|babies|infant)\b")
# Possessives lose their apostrophe ("my daughter's rash" reads "my daughters rash").
_CHILD_WORDS = re.compile(
    r"\b(?:my|our|the)\s+(?:son|daughter|child|kid|boy|girl|toddler|little one|baby|grandson|"
    r"granddaughter|children|kids|twins)\b(?!s)|"
    # "my daughters rash" (a possessive) is about the child; "my daughters furniture" is not
    r"\b(?:my|our|the)\s+(?:sons|daughters|boys|girls|babys|childs|kids|toddlers|grandsons|"
    r"granddaughters)\s+(?:\w+\s+)?(?:rash|temperature|temp|fever|cough|ears?|eyes?|head|arms?|"
    r"legs?|chest|breathing|skin|stomach|throat|nappy|stool|wee|face|lips|hands?|foot|feet|knee|"
    r"back|neck|bottom|mouth|tongue|teeth|tooth|spots|bruises?|lump|nose|cold|asthma|eczema|"
    r"weight|sick|vomit\w*|diarrhoea|pain|swelling|swollen|bites?|burns?|cut|wound|heart|"
    r"tummy|belly|behaviour|mood|sleep|feeding|feeds)\b"
)


@dataclass(frozen=True)
class Clause:
    text: str
    start: int  # offset in the normalised message
    negation_spans: tuple[tuple[int, int], ...]
    historical: bool
    hypothetical: bool


@dataclass(frozen=True)
class Reading:
    """A normalised message, split into clauses, with numeric facts pulled out."""

    text: str
    clauses: tuple[Clause, ...]
    max_temperature_c: float | None
    subject_age: float | None  # age stated in the text ("my 6 month old"), in years
    about_child: bool
    about_infant: bool  # "baby", "newborn", "infant"


@lru_cache(maxsize=4096)
def _fuzzy(token: str, vocabulary: frozenset[str], known: frozenset[str] = frozenset()) -> str:
    if (len(token) < 6 or token in vocabulary or token in _FUZZY_STOP or token in known
            or token.isdigit()):
        return token
    match = get_close_matches(token, vocabulary, n=1, cutoff=0.87)
    return match[0] if match else token


# Clinician shorthand, read before the lay-text rules. Durations in the "n/7" (days), "n/52"
# (weeks) and "n/12" (months) notation; "a 3-day history of" is a current complaint, not a past
# one, so it loses the word "history" (which otherwise marks a clause as past).
_SHORTHAND: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(?<![0-9/])(\d{1,2})\s*/\s*7(?![0-9/])", r" \1 days "),
        (r"(?<![0-9/])(\d{1,2})\s*/\s*52(?![0-9/])", r" \1 weeks "),
        (r"(?<![0-9/])(\d{1,2})\s*/\s*12(?![0-9/])", r" \1 months "),
        (r"(?<![0-9/])(\d{1,2})\+\d/40\b", r" \1 weeks pregnant "),
        (r"(?<![0-9/])(\d{1,2})/40\b", r" \1 weeks pregnant "),
        (r"\bc\s*/\s*o\b", " complaining of "),
        (r"\bo\s*/\s*e\b", " on examination "),
        (r"\bd\s*&\s*v\b|\bd\s*\+\s*v\b", " diarrhoea and vomiting "),
        (r"\bn\s*&\s*v\b|\bn\s*\+\s*v\b", " nausea and vomiting "),
        (r"\bpmh\b|\bpmhx\b", " past medical history "),
        (r"\bfhx?\b", " family history "),
        (r"\bsoboe\b", " short of breath on exertion "),
        (r"\bcp\b", " chest pain "),
        (r"\bpr (?:bleed(?:ing)?|blood)\b", " rectal bleeding "),
        (r"\bpv (?:bleed(?:ing)?|blood|spotting)\b", " vaginal bleeding "),
        (r"\bpmb\b", " postmenopausal bleeding "),
        (r"\blmp\b", " last period "),
        (r"\bupt\b", " pregnancy test "),
        (r"\+\s*ve\b", " positive "),
        (r"(?<![a-z0-9])-\s*ve\b", " negative "),
        (r"\babdo\b", " abdominal "),
        (r"\bloc\b", " loss of consciousness "),
        (r"\bt[12]dm\b|\biddm\b|\bniddm\b", " diabetes "),
        (r"\bhtn\b", " hypertension "),
        (r"\bcva\b", " stroke "),
        (r"\bihd\b", " ischaemic heart disease "),
        (r"\bsx\b", " symptoms "),
        (r"(?<=[a-z0-9 ])#(?=\s|$)|\b#\s*(?=[a-z])", " fracture "),
        (r"\b(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)[ -]"
         r"(hours?|days?|weeks?|months?|hr|hrs|h|d|wk|wks)[ -]hx\b", r" \1 \2 of "),
        (r"\b(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)[ -]"
         r"(hours?|days?|weeks?|months?|hr|hrs|h|d|wk|wks)[ -]history(?: of)?\b", r" \1 \2 of "),
        (r"\b(\d+)\s*(days|weeks|months)\s+(?:hx|history)(?: of)?\b", r" \1 \2 of "),
    )
)


_SIDES = {"r": "right", "l": "left", "rt": "right", "lt": "left"}
_SIDED_PARTS = frozenset(
    {
        "leg", "legs", "arm", "arms", "eye", "eyes", "ear", "ears", "knee", "hip", "ankle",
        "foot", "hand", "wrist", "elbow", "shoulder", "side", "chest", "calf", "thigh",
        "breast", "testicle", "testis", "flank", "loin", "kidney", "lung", "face", "cheek",
        "jaw", "sided",
    }
)
_WORD_HYPHEN = re.compile(r"(?<=[a-z0-9])-(?=[a-z])")


# Acronyms that are also ordinary words, told apart by their capitals in the raw message: "FIT
# requested" is a faecal immunochemical test, not a seizure; "50mg OD" is once daily.
_ACRONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:q ?FIT|FIT)\b"), "faecal immunochemical test"),
    (re.compile(r"(?<=\d)\s*(?:mg|mcg|g|ml|units?)?\s+(?:OD|od)\b|\bOD (?=dose|daily|regime)"),
     " once daily"),
)


def _expand_acronyms(message: str) -> str:
    for pattern, replacement in _ACRONYMS:
        message = pattern.sub(replacement, message)
    return message


def _expand_shorthand(text: str) -> str:
    for pattern, replacement in _SHORTHAND:
        text = pattern.sub(replacement, text)
    return text


_PRONOUN_WILL = re.compile(r"\b(he|she|they|we|you|i|it|that)\s*['’`]\s*ll\b")
_PRONOUN_HAD = re.compile(r"\b(he|she|they|we|you)\s*['’`]\s*d\s+(?=(?:been|had|taken|gone|done|"
                          r"got|said|told|left|seen|eaten|drunk|fallen|\w+ed)\b)")
_PRONOUN_WOULD = re.compile(r"\b(he|she|they|we|you)\s*['’`]\s*d\b")


def normalise(message: str, vocabulary: frozenset[str] = frozenset(),
              known: frozenset[str] = frozenset()) -> str:
    """Lower-case, drop apostrophes, expand text-speak and fix common misspellings.

    ``vocabulary`` is the set of words the rules use; a longer unknown word one edit away from
    one of them is corrected to it (so "breathng" reads as "breathing").
    """
    # "he'll" would become "hell" once apostrophes go: pronoun contractions first
    lowered = _PRONOUN_WILL.sub(r"\1 will", _expand_acronyms(message).lower())
    lowered = _PRONOUN_HAD.sub(r"\1 had ", lowered)
    lowered = _PRONOUN_WOULD.sub(r"\1 would", lowered)
    text = _expand_shorthand(_APOSTROPHES.sub("", lowered))
    # "not drinking more than usual" says drinking is as usual, not that it has stopped
    text = re.sub(
        r"\b(?:is not|isnt|not|has not been|hasnt been|not been) (eating|drinking|weeing|peeing)"
        r" (?:any )?more than (?:usual|normal|before)\b",
        r"\1 as usual",
        text,
    )
    # A hyphen inside a word joins it ("non-blanching", "high-pitched", "pre-eclampsia"): read
    # as two words, never as a dash that ends a clause.
    text = _WORD_HYPHEN.sub(" ", text)
    text = text.replace("&", " and ").replace("/", " / ")
    words = []
    tokens = re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?|[^\sa-z0-9]", text)
    for i, token in enumerate(tokens):
        if token in _SIDES and i + 1 < len(tokens) and tokens[i + 1] in _SIDED_PARTS:
            token = _SIDES[token]  # clinician's "R leg", "L eye": a side, not text-speak
        elif token in _WORD_MAP:
            token = _WORD_MAP[token]
        elif token in _SPELLING:
            token = _SPELLING[token]
        elif vocabulary:
            token = _fuzzy(token, vocabulary, known)
        words.append(token)
    text = " ".join(words)
    text = re.sub(r"\s+([.,;!?])", r"\1", text)
    # Repeated letters used for emphasis ("sooooo", "helppp") collapse to two.
    text = re.sub(r"\b(?!aaa\b)(\w*?)([a-z])\2{2,}", r"\1\2\2", text)
    # Inability phrasings all read as "unable to" so negation never swallows them.
    text = re.sub(
        r"\b(?:cannot|can not|could not|can hardly|could hardly|can barely|could barely|"
        r"cannot even|can not even|could not even|cannot really|cannot properly|"
        r"barely able to|not able to|am not able to|struggling to|struggle to|"
        r"finding it hard to|finding it difficult to|hard to|difficult to|trouble)\s+"
        r"(?=breath|breathe|breathing|pee|wee|urine|talk|speak|swallow|move|walk|stand|lift|"
        r"feel|see|wake|stay awake|get (?:up|out|my breath|his breath|her breath|a breath)|"
        r"urinate|pass (?:any |much |enough )?(?:urine|water)|stop|catch|keep|focus|"
        r"think|eat|drink|sleep|cope|control|hold|open|bend|put weight|bear weight|wiggle|wriggle)",
        "unable to ",
        text,
    )
    text = re.sub(r"\bunable to breath\b", "unable to breathe", text)
    return re.sub(r"\s+", " ", text).strip()


def _clauses(text: str) -> tuple[Clause, ...]:
    clauses = []
    start = 0
    bounds = [m.start() for m in _CLAUSE_BREAK.finditer(text)] + [len(text)]
    correspondence = bool(_CORRESPONDENCE.search(text[:80]))
    for end in bounds:
        if end > start:
            piece = text[start:end]
            clauses.append(_scope(piece, start, correspondence))
        start = end
    return tuple(c for c in clauses if c.text.strip(" .,;!?"))


def _scope(piece: str, offset: int, correspondence: bool = False) -> Clause:
    masked = _PSEUDO_NEGATION.sub(lambda m: "_" * len(m.group()), piece)
    negations = tuple((m.start(), len(piece)) for m in _NEGATION_BEFORE.finditer(masked))
    historical = bool(_HISTORICAL.search(piece))
    if not historical and _FAMILY.search(piece) and _FAMILY_PAST.search(piece):
        historical = not _RECENT.search(piece)
    # What a hospital has already treated ("discharged after a hip fracture", and in a discharge
    # summary or clinic letter "admitted with urosepsis") is history, unless the same clause
    # says it is happening now.
    if not historical and (_TREATED.search(piece)
                           or (correspondence and (_ADMITTED.search(piece)
                                                   or _AGO.search(piece)))):
        historical = not _RECENT.search(piece) and not _AGAIN.search(piece)
    return Clause(
        text=piece,
        start=offset,
        negation_spans=negations,
        historical=historical,
        hypothetical=bool(_HYPOTHETICAL.search(piece)),
    )


_SCOPE_END = re.compile(r"\band\b|\bthen\b")


def _ends_scope(between: str, after: str) -> bool:
    """Whether the words between a negation and a mention end its reach: "and" or "then"
    always do; a comma does unless the mention is a short list item ("no fever, cough or chest
    pain", "No CP, SOB, palpitations") rather than the start of a new statement."""
    if _SCOPE_END.search(between):
        return True
    if "," not in between:
        return False
    item = after.split(",", 1)[0]
    return len(re.findall(r"[a-z]+", item)) > 3


def is_negated(clause: Clause, start: int, end: int) -> bool:
    """Whether a mention at [start, end) of the clause sits in a negation scope."""
    for neg_start, neg_end in clause.negation_spans:
        # A negation trigger reaches forward at most six words and never past "and" (safer to
        # read "no cough and lips gone blue" as blue lips than to miss them).
        between = clause.text[neg_start:start]
        if (neg_start < start <= neg_end and len(between.split()) <= 6
                and not _ends_scope(between, clause.text[start:])):
            return True
    return bool(_NEGATION_AFTER.match(clause.text[end:]))


def _temperature(text: str) -> float | None:
    best: float | None = None
    for m in _TEMPERATURE.finditer(text):
        window = text[max(0, m.start() - 40) : m.end() + 15]
        if not _TEMP_CONTEXT.search(window):
            continue
        if m.group(1):
            value = float(f"{m.group(1)}.{m.group(2) or 0}")
        else:
            value = (float(f"{m.group(3)}.{m.group(4) or 0}") - 32) * 5 / 9
        best = value if best is None else max(best, value)
    return best


def _subject_age(text: str) -> float | None:
    for m in _SUBJECT_AGE.finditer(text):
        if m.group(3):
            return float(m.group(3))
        if m.group(4):
            return float(m.group(4))
        if m.group(5):
            divisor = {"day": 365.0, "week": 52.0, "month": 12.0}[m.group(6)]
            return float(m.group(5)) / divisor
        raw, unit = m.group(1), m.group(2)
        number = float(_WORD_NUMBERS.get(raw, 0) if not raw.isdigit() else raw)
        if number <= 0:
            continue
        return number / {"day": 365.0, "week": 52.0, "wk": 52.0, "month": 12.0}.get(unit, 1.0)
    if _BABY.search(text):
        return 0.05
    return None


def read(message: str, vocabulary: frozenset[str] = frozenset(),
         known: frozenset[str] = frozenset()) -> Reading:
    """Normalise and split ``message``. ``known``: real words never "corrected" to a rule word
    ("regular" is not a typo of "irregular")."""
    text = normalise(message, vocabulary, known)
    about_child = bool(_CHILD_WORDS.search(text) or _INFANT.search(text) or _BABY.search(text))
    return Reading(
        text=text,
        clauses=_clauses(text),
        max_temperature_c=_temperature(text),
        subject_age=_subject_age(text),
        about_child=about_child,
        about_infant=bool(_INFANT.search(text) or _BABY.search(text)),
    )
