#!/usr/bin/env bash
# Checks every relative Markdown link in README.md, CHANGELOG.md and docs/*.md: the file it
# names must exist and, for `#anchor`, hold a heading with that GitHub slug (lowercase,
# punctuation other than '-' and '_' dropped, spaces to '-', -1, -2... for repeats).
# External links (http:, https:, mailto:...) are not fetched. Exits 1 listing the broken
# ones. Usage: bash scripts/check-links.sh [FILE.md...]   (default: the files above)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$#" -eq 0 ]; then
    set -- README.md CHANGELOG.md docs/*.md
fi
exec python3 - "$@" <<'PY'
import os, re, sys, unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); text may hold one level of brackets.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ID = re.compile(r"<a\s[^>]*(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)


def lines_outside_fences(text):
    """(line number, line) of every line that is not inside a fenced code block."""
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield n, line


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)   # links keep their text
    text = re.sub(r"<[^>]+>", "", text)                       # inline HTML
    text = text.replace("\\", "")
    text = text.strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_" or ch == " " or cat[0] in "LN" or cat == "Mn":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        seen, found, prev = {}, set(), None
        for _, line in lines_outside_fences(text):
            title = None
            m = ATX.match(line)
            if m:
                title = m.group(2) or ""
            elif prev is not None and prev.strip() and SETEXT.match(line) \
                    and not ATX.match(prev) and not prev.lstrip().startswith(("|", "-", "*", ">")):
                title = prev.strip()
            if title is not None:
                base = slug(title)
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(HTML_ID.findall(line))
            prev = line
        cache[path] = found
    return cache[path]


def links(text):
    for n, line in lines_outside_fences(text):
        bare = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        for m in INLINE.finditer(bare):
            yield n, m.group(1)
        m = REFDEF.match(bare)
        if m:
            yield n, m.group(1)


broken = []
checked = 0
for md in sys.argv[1:]:
    if not os.path.isfile(md):
        broken.append(f"{md}: no such file to check")
        continue
    with open(md, encoding="utf-8") as f:
        text = f.read()
    for n, target in links(text):
        target = target.strip("<>").strip()
        if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
            continue  # external (http:, https:, mailto:...) or empty
        checked += 1
        path, _, anchor = target.partition("#")
        path = unquote(path.split("?", 1)[0])
        dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        if not os.path.exists(dest):
            broken.append(f"{md}:{n}: {target}: no file {dest}")
            continue
        if anchor:
            if os.path.isdir(dest) or not dest.lower().endswith((".md", ".markdown")):
                broken.append(f"{md}:{n}: {target}: an anchor into {dest}, which is not Markdown")
            elif unquote(anchor) not in anchors(dest):
                broken.append(f"{md}:{n}: {target}: no heading #{anchor} in {dest}")

if broken:
    print(f"check-links: {len(broken)} broken link(s) of {checked} relative:", file=sys.stderr)
    for b in broken:
        print(f"  {b}", file=sys.stderr)
    sys.exit(1)
print(f"check-links: {checked} relative links in {len(sys.argv) - 1} files, all resolve")
PY
