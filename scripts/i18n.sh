#!/bin/sh
# Refresh the translation catalogues after changing user-visible text (templates/, audit/**.py).
#
#   scripts/i18n.sh              extract → update → compile (the usual run)
#   scripts/i18n.sh extract      only write audit/translations/messages.pot from the sources
#   scripts/i18n.sh update       only merge messages.pot into every language's messages.po
#   scripts/i18n.sh compile      only compile every messages.po into messages.mo
#   scripts/i18n.sh init LANG    start the catalogue of a new language (e.g. de)
#
# After the usual run, translate the new and the fuzzy entries in audit/translations/sv/LC_MESSAGES/messages.po
# (remove the "#, fuzzy" flag once a translation is checked), then run `scripts/i18n.sh compile` and commit both
# the .po and the .mo files: the app reads the compiled .mo files and has no build step.
# tests/test_i18n.py fails while a source string is missing, empty or fuzzy in the Swedish catalogue, or while a
# .mo file is older than its .po.
set -eu

cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
DIR=audit/translations
POT="$DIR/messages.pot"

extract() {
    "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k N_ \
        --project="Trygga hus" --copyright-holder="Trygga hus contributors" \
        -o "$POT" .
}

update() {
    "$PYBABEL" update -i "$POT" -d "$DIR" --ignore-obsolete
}

compile() {
    "$PYBABEL" compile -d "$DIR" --statistics
}

case "${1:-all}" in
    all) extract; update; compile ;;
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    init)
        [ $# -eq 2 ] || { echo "usage: $0 init LANG" >&2; exit 2; }
        "$PYBABEL" init -i "$POT" -d "$DIR" -l "$2"
        ;;
    *) echo "usage: $0 [all|extract|update|compile|init LANG]" >&2; exit 2 ;;
esac
