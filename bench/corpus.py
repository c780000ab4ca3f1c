"""Write a synthetic dump of N stories in the sample's format, with a share of each variant.

    python -m bench.corpus 10000 > dump.txt

Stories are about 12 paragraphs and 6,000 characters, like real wire copy; the text is synthetic, so
headlines are unique and the same N and seed always give the same bytes.
"""

import random
import sys

WORDS = (
    "government minister officials said on Monday Tuesday the country military talks security forces president "
    "election agency reported according to statement week capital border region economic sanctions ceasefire "
    "negotiations parliament opposition protesters police village attack humanitarian aid United Nations "
    "spokesman announced crisis oil prices markets investors central bank inflation drought harvest refugees "
    "deadline coalition alliance summit delegation envoy treaty court ruling investigation journalists"
).split()
ARABIC = "قال مسؤولون إن الحكومة أعلنت اليوم عن خطة جديدة لدعم الاقتصاد وتعزيز الأمن في المنطقة الحدودية".split()
PLACES = ["Niger", "Mali", "Moscow", "Kyiv", "Tehran", "Gaza", "Beirut", "Cairo", "Paris", "Beijing", "Nairobi"]
CREDITS = ["Reuters", "AFP", "AP Photo/Sam Mednick", "Ramil Sitdikov/Pool Photo via AP", "EPA", "Getty Images"]


def sentence(rng, words, n):
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[0].upper() + text[1:] + "."


def story(rng, n):
    variant = rng.random()
    rtl = variant < 0.05
    words = ARABIC if rtl else WORDS
    place = rng.choice(PLACES)
    headline = f"{sentence(rng, words, 7)[:-1]} in {place} ({n})"
    caption = f"{sentence(rng, words, 14)} ({rng.choice(CREDITS)})"
    paragraphs = [" ".join(sentence(rng, words, 15) for _ in range(4)) for _ in range(12)]
    if 0.05 <= variant < 0.15:  # no photo: the headline twice, no caption, no TT
        header = [headline, "", headline, ""]
    elif 0.15 <= variant < 0.30:  # caption given once
        header = [headline, "", caption, "TT", "", headline, "", caption, ""]
    else:
        header = [headline, "", caption, caption, "TT", "", headline, "", caption, caption, ""]
    lines = header + "\n\n".join(paragraphs).split("\n")
    newline = "\r\n" if 0.30 <= variant < 0.45 else "\n"  # CRLF stories
    return newline.join(lines) + newline


def write(out, count, seed=1):
    rng = random.Random(seed)
    for n in range(count):
        out.write(story(rng, n))
        out.write("\n\n\n")


if __name__ == "__main__":
    write(sys.stdout, int(sys.argv[1]))
