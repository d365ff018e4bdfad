#!/usr/bin/env bash
# The man pages (man/manN/) kept in step with the programs: every option a program's
# --help lists is documented in its page, and every option the page documents is in
# --help (for qtfs-fuse also the -o mount options). Every page formats without a warning
# from groff or man, and each page names the sections a reader looks for.
source "$(dirname "$0")/lib.sh"
MAN=$REPO/man
export COLUMNS=1000 MANWIDTH=80 MANPAGER=cat LC_ALL=C.UTF-8   # --help without wrapped lines

# compare_options PROGRAM PAGE HELP_FILE: prints one line per option in one but not the other.
compare_options() {
    python3 - "$@" <<'PY'
import re, sys
program, page, help_file = sys.argv[1], sys.argv[2], sys.argv[3]
OPT = r'--?[A-Za-z0-9][\w-]*'
LEADING = re.compile(rf'{OPT}(?:,\s*{OPT})*')   # "-s, --server HOST": -s and --server

def dashed(definition):
    m = LEADING.match(definition)
    return set(re.findall(OPT, m.group(0))) if m else set()
WORD = re.compile(r'^(x-\*|[a-z_][a-z0-9_]*=?)')

def mount_words(text):
    """qtfs-fuse -o option names ('server=', 'proc') in a comma/blank separated list."""
    return {m.group(1) for w in re.split(r'[,\s]+', text) if (m := WORD.match(w))}

def from_help(text):
    opts, in_o = set(), False
    for line in text.splitlines():
        for m in re.finditer(r'\[(--?)([A-Za-z][\w-]*)', line):   # usage: [-f] [-sfnv] [--count <n>]
            dash, name = m.groups()
            opts |= {'-' + c for c in name} if dash == '-' else {'--' + name}
        in_o = line.startswith('Options (-o') or (in_o and line.strip() != '')
        head = re.match(r'  (\S.*?)(?:\s{2,}|$)', line)   # a definition: exactly two blanks in
        if head and head.group(1).startswith('-'):
            opts |= dashed(head.group(1))
        elif head and in_o:
            opts |= mount_words(head.group(1))
    return opts

def unroff(tag):
    """A tag line as printed: .B and .I join their arguments with blanks, .BR, .BI, ...
    alternate fonts and join them with nothing."""
    macro, _, rest = tag.partition(' ')
    args = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', rest)]
    text = (' ' if macro in ('.B', '.I') else '').join(args)
    return re.sub(r'\\f[BIRP]|\\%|\\&', '', text).replace('\\-', '-')

def from_page(text):
    opts, section, subsection, tag_next = set(), '', '', False
    for line in text.splitlines():
        if line.startswith('.SH'): section, subsection = line[3:].strip(' "'), ''
        elif line.startswith('.SS'): subsection = line[3:].strip(' "')
        elif tag_next and section == 'OPTIONS':
            tag = unroff(line)
            opts |= mount_words(tag) if subsection == 'Mount options' else dashed(tag)
        tag_next = line.startswith('.TP')
    return opts

in_help, in_page = from_help(open(help_file).read()), from_page(open(page).read())
for o in sorted(in_help - in_page):
    print(f"{o} is in --help but not in {page}")
for o in sorted(in_page - in_help):
    print(f"{o} is in {page} but not in --help")
PY
}

# help_text PROGRAM: its --help, with qtinfo's subcommands' too.
help_text() {
    "$BIN/$1" --help
    if [ "$1" = qtinfo ]; then "$BIN/qtinfo" ping --help; "$BIN/qtinfo" kmod --help; fi
}

problems=()
for entry in qtfs-server:man8/qtfs-server.8 qtfs-fuse:man8/qtfs-fuse.8 qtinfo:man8/qtinfo.8 \
             qtfs-rexec:man1/qtfs-rexec.1 qtfs-run:man8/qtfs-run.8; do
    program=${entry%%:*} page=${entry#*:}
    log "$program --help against $page"
    help_text "$program" >"$WORK/$program.help" || fail "$program --help failed"
    [ -s "$WORK/$program.help" ] || fail "$program --help printed nothing"
    while IFS= read -r p; do problems+=("$program: $p"); done < <(cd "$MAN" && compare_options "$program" "$page" "$WORK/$program.help")
done

# has_sections PAGE SECTION...: the page has each .SH heading.
has_sections() {
    local page=$1 s; shift
    for s in "$@"; do grep -qE "^\.SH \"?$s\"?$" "$MAN/$page" || problems+=("$page has no $s section"); done
}

log "every page formats without warnings (groff -ww, man -l)"
pages=0
for page in $(cd "$MAN" && ls man*/*.[158]); do
    pages=$((pages + 1))
    # .so links name their target relative to man/, as man(1) resolves them when installed.
    warnings=$(cd "$MAN" && { groff -man -Tutf8 -ww -z "$page"; man --warnings=w -l "$page" >/dev/null; } 2>&1)
    [ -z "$warnings" ] || problems+=("$page: $warnings")
    (cd "$MAN" && man -l "$page" 2>/dev/null) | has NAME || problems+=("$page: man -l shows no NAME")
    head -1 "$MAN/$page" | grep -q '^\.so ' && continue
    has_sections "$page" NAME DESCRIPTION FILES EXAMPLES "SEE ALSO"
    case $page in man5/*) ;; *) has_sections "$page" SYNOPSIS OPTIONS "EXIT STATUS" ;; esac
    # Every qtfs page it refers to exists.
    for ref in $(grep -oE '^\.BR (\\%)?(qtfs-[a-z.-]+|qtinfo|mount\.qtfs) \([158]\)' "$MAN/$page" | sed -E 's/^\.BR (\\%)?([^ ]+) \(([158])\)/\3\/\2/'); do
        [ -e "$MAN/man${ref%%/*}/${ref#*/}.${ref%%/*}" ] || problems+=("$page refers to ${ref#*/}(${ref%%/*}), which has no page")
    done
done
[ "$pages" -ge 10 ] || problems+=("only $pages pages in man/")

if [ ${#problems[@]} -gt 0 ]; then
    printf '  %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problems with the man pages (above)"
fi
log "PASS: $pages pages, options in step with --help"
