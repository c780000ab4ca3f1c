"""Write a synthetic dump of N stories in the sample's format, with a share of each variant.

    python -m bench.corpus 10000 > dump.txt

Stories are about 12 paragraphs and 6,000 characters, like real wire copy; the text is synthetic, so
headlines are unique and the same N and seed always give the same bytes.

Word frequencies follow Zipf's law, as in real text: a word's share of the running text falls with its rank
(`weight()`). The vocabulary is a core of real news words in rough order of frequency ("the", "said",
"government", ... "ceasefire"), then word-like tokens made up from syllables, with rarer real words spread
among them ("curfew", "cholera", "Kathmandu"), 60,000 words in all. So, as in a real archive, "the" and
"said" are in every English story, "government" in most, "ceasefire" in a quarter, "curfew" in 8%,
"cholera" in 1% and "Kathmandu" in a few hundred of 100,000 stories.
Each story is also about a few topic words, which its headline carries and its body repeats, and a place.
"""

import itertools
import random
import sys

VERSION = 2  # bump when the text changes: bench/run.py keeps dumps by version

# Real words, most frequent first; a few collocations ("prime minister") count as one word, so that
# searching for both words finds them together, as in real copy.
CORE = (
    "the of to and a in said that for on is was with by as at he it from has his have be an are "
    "they not its will but had were been who after their more would also one which or this than "
    "two about over up new told all last against year she people other could when some officials "
    "her into there government first three years we out week percent since no president minister "
    "police country state because security military killed city including military forces told "
    "while some united_states on_Monday on_Tuesday on_Wednesday on_Thursday on_Friday on_Saturday "
    "on_Sunday during before between under where four month statement spokesman prime_minister "
    "foreign minister reported according group attack talks region party leader national public "
    "capital forces war court official says million billion end did may any most made them our "
    "told reporters several former local agency international further support plan help well only "
    "what if can so do our such many where second part called added take made called order long "
    "world health economic economy market markets prices oil bank central_bank interest_rates "
    "inflation growth trade deal agreement election elections vote opposition parliament law "
    "rights human_rights protest protesters demonstrators army troops soldiers border fighting "
    "violence crisis aid humanitarian_aid food water emergency disaster flood floods storm rain "
    "fire fires earthquake victims dead injured wounded hospital doctors medical case cases "
    "investigation investigators charged arrested prison sentence judge ruling trial lawyer "
    "company companies business investors shares stock_exchange energy gas nuclear power_plant "
    "workers strike union jobs unemployment budget tax spending debt loan fund funding finance "
    "ministry defense defence interior cabinet coalition alliance summit meeting visit delegation "
    "envoy ambassador embassy diplomats diplomatic sanctions negotiations treaty accord peace "
    "ceasefire truce hostages prisoners refugees migrants asylum camp camps displaced village "
    "villages town towns province district area areas north south east west northern southern "
    "eastern western coast sea river island islands airport port ship ships vessel aircraft "
    "plane flight missile missiles drone drones rocket rockets bomb explosion blast weapons "
    "militants rebels insurgents fighters junta coup regime authorities residents witnesses "
    "journalists media television newspaper report reports data survey study analysts experts "
    "farmers harvest drought crops wheat rice grain famine hunger poverty school schools "
    "students children women families community church mosque religious leaders ethnic tribal "
    "climate change emissions carbon pollution environment forest wildlife energy transition "
    "technology internet social_media phone online cyber hackers election_commission ballot "
    "campaign candidate candidates president's minister's country's deadline mission operation "
    "security_forces United_Nations European_Union World_Bank Red_Cross Security_Council"
).split()
MID = (
    "curfew pipeline blockade evacuation shelling airstrike airstrikes militia kidnapping ransom smugglers "
    "corruption lawmakers senate governor mayor verdict appeal acquitted custody detention torture "
    "amnesty pardon bailout recession currency exports imports subsidies pension outbreak epidemic "
    "pandemic vaccination vaccine cyclone hurricane tsunami eruption volcano rainfall reservoir dam "
    "irrigation livestock cattle fertiliser diamonds gold mining miners shipyard railway highway bridge "
    "tunnel stadium festival museum heritage football tournament athletes olympic referee coach "
    "scientists researchers telescope satellite astronauts laboratory genome archaeology "
    "refinery tanker shipping container freight smartphone startup billionaire merger lawsuit patent"
).split()
RARE = (
    "cholera locusts tugboat monsoon glacier typhoon avalanche landslide mudslide sandstorm heatwave "
    "wildfire smuggling counterfeit bribery embezzlement extradition impeachment referendum filibuster "
    "austerity devaluation remittances tariff quarantine measles malaria dengue ebola polio "
    "antiquities archaeologists mosaic manuscript shipwreck lighthouse ferry trawler fishermen "
    "saffron cocoa coffee vanilla cashew lithium cobalt uranium copper bauxite phosphate "
    "orchestra cathedral marathon chess falconry camels pilgrims pilgrimage lantern fireworks "
    "Valparaiso Timbuktu Mombasa Zanzibar Tbilisi Ulaanbaatar Kathmandu Dushanbe Nouakchott Asmara"
).split()
PLACES = (
    "Gaza Kyiv Moscow Washington Beijing Tehran Beirut Jerusalem Cairo Damascus Baghdad Paris London "
    "Brussels Berlin Ankara Istanbul Riyadh Dubai Doha Khartoum Niger Mali Nairobi Lagos Addis_Ababa "
    "Kabul Islamabad New_Delhi Dhaka Tokyo Seoul Manila Jakarta Bangkok Caracas Bogota Mexico_City "
    "Havana Brasilia Lima Santiago Geneva Vienna Rome Madrid Warsaw Minsk Tripoli Tunis Algiers Rabat "
    "Sanaa Aden Amman Kinshasa Juba Mogadishu Harare Pretoria Dakar Bamako Niamey Ouagadougou"
).split()
CORE = [word.replace("_", " ") for word in CORE]  # "prime_minister": a collocation, drawn as one word
PLACES = [place.replace("_", " ") for place in PLACES]
ARABIC_CORE = (
    "في من على إلى أن قال التي الذي عن مع هذا بعد كان وقال اليوم الحكومة وزير رئيس المتحدة الأمن "
    "مسؤولون الدولة البلاد القوات الشرطة المنطقة الحدودية خطة جديدة لدعم الاقتصاد وتعزيز أعلنت "
    "الأمم الرئيس الوزراء المفاوضات وقف إطلاق النار اللاجئين المساعدات الإنسانية الانتخابات البرلمان "
    "المعارضة النفط الأسعار البنك المركزي التضخم الجفاف المحصول القمح المياه الفيضانات الزلزال "
    "المستشفى الضحايا الجيش الحرب السلام المحكمة القاضي الصحفيين التلفزيون الطلاب المدارس الأطفال"
).split()
CREDITS = ["Reuters", "AFP", "AP Photo/Sam Mednick", "Ramil Sitdikov/Pool Photo via AP", "EPA", "Getty Images"]

VOCABULARY = 60_000
ARABIC_VOCABULARY = 6_000
ONSETS = "b c d f g h k l m n p r s t v w z b d k l m n p r s t br ch dr fr gr pl pr sh st tr".split()
VOWELS = "a e i o u a e i o a e i o u ai au ea ee io ou".split()
CODAS = ["", "", "", "", "", "", "n", "r", "l", "s", "t", "m", "nd", "st"]
ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def weight(rank):
    # Zipf-Mandelbrot, the usual fit for word frequencies in English text (s = 1, q = 2.7).
    return 1 / (rank + 2.7)


def made_up_words(rng, letters, count, known):
    """`count` distinct word-like tokens, none of them in `known`."""
    words = []
    seen = set(known)
    while len(words) < count:
        word = letters(rng)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def latin_word(rng):
    syllables = rng.choice((1, 2, 2, 2, 3))
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))


def arabic_word(rng):
    return "".join(rng.choice(ARABIC_LETTERS) for _ in range(rng.randint(3, 7)))


def vocabulary(rng, core, mid, rare, letters, size):
    """Words in rank order: the core, then made-up words, among which the less common real words are spread
    over ranks 1,000 to 6,000 and the rare ones over ranks 6,000 to 60,000 (for a size of 60,000)."""
    core = list(dict.fromkeys(core))
    mid = [word for word in dict.fromkeys(mid) if word not in core]
    words = core + made_up_words(rng, letters, size - len(core) - len(mid) - len(rare), core + mid + rare)
    for real, first, last in [(rare, size // 10, size), (mid, size // 60, size // 10)]:
        step = (last - first) // (len(real) + 1)
        for n, word in enumerate(real, start=1):
            words[first + n * step : first + n * step] = [word]
    return words


class Language:
    # Words are drawn uniformly from a table in which each word fills slots in proportion to its weight
    # (at least one): much faster than weighted choices, and exact enough with a million slots.
    SLOTS = 1 << 20

    def __init__(self, words):
        self.words = words
        self.table = self.slots(words, range(len(words)))
        # Topic words are drawn among the less common words, most often the commoner of them (1/rank again).
        self.topic_table = self.slots(words[150:], range(150, len(words)))

    def slots(self, words, ranks):
        weights = [weight(rank) for rank in ranks]
        scale = self.SLOTS / sum(weights)
        table = []
        for word, share in zip(words, weights, strict=True):
            table.extend([word] * max(1, round(share * scale)))
        return table

    def draw(self, rng, k):
        return rng.choices(self.table, k=k)

    def topics(self, rng, k):
        return rng.choices(self.topic_table, k=k)


PLACE_WEIGHTS = list(itertools.accumulate(weight(rank) for rank in range(len(PLACES))))


def build(seed):
    rng = random.Random(f"vocabulary {seed}")
    english = Language(vocabulary(rng, CORE, MID, RARE, latin_word, VOCABULARY))
    arabic = Language(vocabulary(rng, ARABIC_CORE, [], [], arabic_word, ARABIC_VOCABULARY))
    return english, arabic


def sentences(words, lengths):
    """Cut a run of words into sentences of the given lengths."""
    out = []
    start = 0
    for length in lengths:
        text = " ".join(words[start : start + length])
        start += length
        out.append(text[0].upper() + text[1:] + ".")
    return out


SENTENCE_LENGTHS = [14, 22, 18, 27, 11, 20, 24, 16, 19, 25, 13, 21]  # a cycle, so no draw per sentence
PARAGRAPHS = 12
PER_PARAGRAPH = 4
CAPTION_WORDS = 13


def story(rng, n, english, arabic):
    variant = rng.random()
    rtl = variant < 0.05
    language = arabic if rtl else english
    place = rng.choices(PLACES, cum_weights=PLACE_WEIGHTS)[0]
    topics = language.topics(rng, 3)
    offset = rng.randrange(len(SENTENCE_LENGTHS))
    lengths = [SENTENCE_LENGTHS[(offset + i) % len(SENTENCE_LENGTHS)] for i in range(PARAGRAPHS * PER_PARAGRAPH)]
    words = language.draw(rng, CAPTION_WORDS + sum(lengths))
    # The story is about its topics: each comes back every few sentences, and the headline carries them.
    for position in rng.sample(range(len(words)), 12):
        words[position] = topics[position % 3]
    headline = " ".join([topics[0], *words[:3], topics[1], topics[2]])
    headline = f"{headline[0].upper()}{headline[1:]} in {place} ({n})"
    caption = f"{sentences([place, *words[:CAPTION_WORDS]], [CAPTION_WORDS + 1])[0]} ({rng.choice(CREDITS)})"
    body = sentences(words[CAPTION_WORDS:], lengths)
    paragraphs = [" ".join(body[i : i + PER_PARAGRAPH]) for i in range(0, len(body), PER_PARAGRAPH)]
    if 0.05 <= variant < 0.15:  # no photo: the headline twice, no caption, no TT
        header = [headline, "", headline, ""]
    elif 0.15 <= variant < 0.30:  # caption given once
        header = [headline, "", caption, "TT", "", headline, "", caption, ""]
    else:
        header = [headline, "", caption, caption, "TT", "", headline, "", caption, caption, ""]
    lines = header + "\n\n".join(paragraphs).split("\n")
    newline = "\r\n" if 0.30 <= variant < 0.45 else "\n"  # CRLF stories
    return newline.join(lines) + newline


def write(out, count, seed=1, first=0):
    """Write stories first .. first + count - 1: a dump of stories not in an earlier one of the same seed."""
    english, arabic = build(seed)
    rng = random.Random(seed)
    for n in range(first):  # the same draws, so story n is the same whichever dump it is in
        story(rng, n, english, arabic)
    for n in range(first, first + count):
        out.write(story(rng, n, english, arabic))
        out.write("\n\n\n")


if __name__ == "__main__":
    write(sys.stdout, int(sys.argv[1]))
