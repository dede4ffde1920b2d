"""Fill the empty msgstr entries of a .po file from other translation sources.

Each engineer writes the Spanish of their strings to a fragment (``locale/es/LC_MESSAGES/parts/*.po``) so
that parallel branches do not conflict on django.po; after ``makemessages`` the fragments are poured in:

    python scripts/po_fill.py locale/es/LC_MESSAGES/django.po locale/es/LC_MESSAGES/parts/*.po

Sources may be .po fragments or JSON objects (msgid -> msgstr). Prints the msgids still untranslated, so
nothing is missed silently."""

import json
import re
import sys
from pathlib import Path


def _unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _entries(lines: list[str]):
    """Yield (msgid lines, msgstr lines) of each entry, with the raw lines in between as (None, line)."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("msgid "):
            msgid = [lines[i][6:]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                msgid.append(lines[i])
                i += 1
            msgstr = []
            if i < len(lines) and lines[i].startswith("msgstr "):
                msgstr = [lines[i][7:]]
                i += 1
                while i < len(lines) and lines[i].startswith('"'):
                    msgstr.append(lines[i])
                    i += 1
            yield msgid, msgstr
        else:
            yield None, lines[i]
            i += 1


def read_translations(path: Path) -> dict[str, str]:
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    found = {}
    for msgid, msgstr in _entries(path.read_text(encoding="utf-8").split("\n")):
        if msgid is not None and msgstr:
            key, value = _unquote(msgid), _unquote(msgstr)
            if key and value:
                found[key] = value
    return found


def fill(po_path: Path, translations: dict[str, str]) -> list[str]:
    out, missing = [], []
    for msgid, msgstr in _entries(po_path.read_text(encoding="utf-8").split("\n")):
        if msgid is None:
            out.append(msgstr)
            continue
        out.append("msgid " + msgid[0])
        out.extend(msgid[1:])
        key = _unquote(msgid)
        if key and msgstr and not _unquote(msgstr):
            if key in translations:
                out.append("msgstr " + _quote(translations[key]))
                continue
            missing.append(key)
        if msgstr:
            out.append("msgstr " + msgstr[0])
            out.extend(msgstr[1:])
    text = "\n".join(out)
    # An entry filled here is no longer fuzzy.
    text = re.sub(r"#, fuzzy\n(?=(#.*\n)*msgid \"[^\"])", "", text)
    po_path.write_text(text, encoding="utf-8")
    return missing


if __name__ == "__main__":
    translations: dict[str, str] = {}
    for source in sys.argv[2:]:
        translations.update(read_translations(Path(source)))
    for key in fill(Path(sys.argv[1]), translations):
        print("untranslated:", key)
