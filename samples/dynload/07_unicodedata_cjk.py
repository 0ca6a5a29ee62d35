"""unicodedata and the CJK codecs (_multibytecodec, _codecs_jp, _codecs_cn, ...)."""
import json as _anchor
import os
import sys
import unicodedata

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


print(origin("unicodedata"), "unidata", unicodedata.unidata_version)
for ch in ["é", "Ω", "ｶ", "😀", "\u0301", "٣"]:
    print(f"U+{ord(ch):04X}", unicodedata.name(ch, "?"), unicodedata.category(ch),
          unicodedata.east_asian_width(ch), unicodedata.decimal(ch, None))
print(unicodedata.normalize("NFKC", "ﾊﾟﾝ ｱ①"), ascii(unicodedata.normalize("NFD", "é")))
text = "日本語のテキスト、漢字"
for codec in ["shift_jis", "euc_jp", "iso2022_jp", "gb18030", "big5", "cp949"]:
    try:
        encoded = text.encode(codec)
        print(codec, encoded.hex(), encoded.decode(codec) == text)
    except UnicodeEncodeError as exc:
        print(codec, "cannot encode", exc.start, exc.end)
for name in ["_multibytecodec", "_codecs_jp", "_codecs_cn", "_codecs_tw", "_codecs_kr", "_codecs_iso2022"]:
    print(origin(name))
