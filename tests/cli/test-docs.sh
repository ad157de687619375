#!/bin/bash
# The man page doc/gpupass.1 and the bash completion doc/gpupass.bash-completion
# against the binary: the page renders without warnings; its commands are the
# commands of `gpupass --help`, in order; every option each command's --help
# shows is in that command's part of the page; the completion offers the
# commands, each command's options, and the GPU addresses of the --root host.
# Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree).
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
man=$top/doc/gpupass.1
comp=$top/doc/gpupass.bash-completion
host=$HOSTS/pve8-intel-1gpu
export NO_COLOR=1 LC_ALL=C.UTF-8
n=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'; fail=1; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
words() { tr '\n' ' ' | sed 's/ *$//'; }

# The options a text shows: --long and -x, one a line, sorted.
opts_of() {
    grep -oE -- '(^|[^[:alnum:]_-])(--[a-z][a-z0-9-]*|-[a-zA-Z])([^[:alnum:]_]|$)' |
        sed -E 's/^[^-]*//; s/[^[:alnum:]]+$//' | sort -u
}
# The options of the "Options:" table of a --help text.
table_opts() { sed -n '/^Options:/,/^$/p' | grep -E '^ +-' | opts_of; }
# Short and long spellings of one option count as one.
canon() {
    sed -E 's/^-a$/--all/; s/^-j$/--json/; s/^-q$/--quiet/; s/^-h$/--help/; s/^-o$/--output/; s/^-f$/--force/;
            s/^-V$/--version/' | sort -u
}

# The roff source of one part of the page as plain text: the section that
# starts with the line $1 (.SH NAME or .SS name) up to the next .SH or .SS.
roff_part() {
    awk -v head="$1" '
        $0 == head { on = 1; next }
        on && /^\.S[HS] / { exit }
        on' "$man" |
        sed -E 's/\\f[BIRP]//g; s/\\-/-/g; s/\\&//g; s/\\\(em/--/g'
}

# ---- the man page renders ----

if command -v groff >/dev/null; then
    groff -man -ww -z -Tutf8 "$man" >"$tmp/warn" 2>&1
    if [ -s "$tmp/warn" ]; then notok "man page renders without warnings (groff -man -ww)" "$(cat "$tmp/warn")"
    else ok "man page renders without warnings (groff -man -ww)"; fi
else
    skip "man page renders without warnings" "groff is not installed (groff-base)"
fi
if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$man" >"$tmp/man.txt" 2>"$tmp/warn"
    if [ -s "$tmp/warn" ] || ! grep -q 'EXIT STATUS' "$tmp/man.txt"; then
        notok "man -l --warnings renders it" "$(cat "$tmp/warn")"
    else ok "man -l --warnings renders it"; fi
else
    skip "man -l --warnings renders it" "man is not installed (man-db)"
fi

# ---- the commands: the page's COMMANDS subsections = gpupass --help ----

"$GPUPASS" --help >"$tmp/help"
cmds=$(sed -n '/^Commands:/,/^$/p' "$tmp/help" | awk 'NR > 1 && NF { print $1 }' | words)
page_cmds=$(awk '/^\.SH /{ on = ($2 == "COMMANDS") } on && /^\.SS /{ print $2 }' "$man" | words)
if [ -n "$cmds" ] && [ "$cmds" = "$page_cmds" ]; then ok "man COMMANDS = the commands of gpupass --help ($(wc -w <<<"$cmds") commands)"
else notok "man COMMANDS = the commands of gpupass --help" "help: $cmds" "man:  $page_cmds"; fi

# ---- the global options, exit status, environment, files ----

missing=""
for o in $(opts_of <"$tmp/help"); do
    roff_part ".SH OPTIONS" | grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|$)" || missing+=" $o"
done
if [ -z "$missing" ]; then ok "man OPTIONS has the global options of gpupass --help"
else notok "man OPTIONS has the global options of gpupass --help" "missing:$missing"; fi

missing=""
for s in 0 1 2 3; do roff_part ".SH EXIT STATUS" | grep -qx "\.B $s" || missing+=" $s"; done
for v in GPUPASS_ROOT NO_COLOR; do roff_part ".SH ENVIRONMENT" | grep -qx "\.B $v" || missing+=" $v"; done
for f in /var/lib/gpupass/journal /etc/pve/ /usr/share/kvm/ /etc/udev/rules.d/70-gpupass-sriov- \
    /etc/systemd/system/gpupass-mig- /run/gpupass/bind; do
    roff_part ".SH FILES" | grep -qF -- "$f" || missing+=" $f"
done
if [ -z "$missing" ]; then ok "man EXIT STATUS, ENVIRONMENT and FILES are complete"
else notok "man EXIT STATUS, ENVIRONMENT and FILES are complete" "missing:$missing"; fi

# ---- every option of every command's --help is in its part of the page ----
# Commands that print the same help (bind, unbind, status) share their parts.

for c in $cmds; do "$GPUPASS" "$c" --help >"$tmp/help.$c" 2>&1; done
"$GPUPASS" bench llm --help >"$tmp/help.bench-llm" 2>&1
"$GPUPASS" bench compare --help >"$tmp/help.bench-compare" 2>&1
for c in $cmds; do
    : >"$tmp/part.$c"
    for d in $cmds; do
        if cmp -s "$tmp/help.$c" "$tmp/help.$d"; then roff_part ".SS $d" >>"$tmp/part.$c"; fi
    done
    cat "$tmp/help.$c" >"$tmp/h"
    [ "$c" = bench ] && cat "$tmp/help.bench-llm" "$tmp/help.bench-compare" >>"$tmp/h"
    missing=""
    for o in $(opts_of <"$tmp/h"); do
        case $o in -h | --help) continue ;; esac   # in OPTIONS, for every command
        grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|$)" "$tmp/part.$c" || missing+=" $o"
    done
    if [ -n "$missing" ]; then notok "man: the options of gpupass $c --help" "missing:$missing"
    elif [ ! -s "$tmp/part.$c" ]; then notok "man: no part for $c"
    else ok "man: the options of gpupass $c --help ($(opts_of <"$tmp/h" | wc -l | tr -d ' ') shown)"; fi
done

# ---- bash completion ----

# complete WORD...: what the completion offers for the last word, one a
# line, computed in a fresh bash that has sourced only the script. Words are
# split the way bash splits them (at ':' and '=', COMP_WORDBREAKS).
complete_words() {
    bash --norc --noprofile -c '
        comp=$1; shift
        source "$comp" || exit 3
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _gpupass || exit 3
        [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$GPUPASS" "$@"
}
check_comp() {   # check_comp NAME EXPECTED WORD...
    local name=$1 want=$2 got; shift 2
    got=$(complete_words "$@" | words)
    if [ "$got" = "$want" ]; then ok "completion: $name"
    else notok "completion: $name" "gpupass $* <TAB>" "want: $want" "got:  $got"; fi
}

if ! bash --norc --noprofile -c "source '$comp' && complete -p gpupass" >"$tmp/spec" 2>&1; then
    notok "completion: the script sources and registers gpupass" "$(cat "$tmp/spec")"
else
    ok "completion: the script sources and registers gpupass ($(cat "$tmp/spec"))"
fi

check_comp "gpupass <TAB> gives the commands" "$cmds" ""
check_comp "gpupass s<TAB>" "$(tr ' ' '\n' <<<"$cmds" | grep '^s' | words)" s

# gpupass CMD [SUB] -<TAB>: every option of the help's table is offered, and
# nothing that the help does not show. bind, unbind and status print one
# help: its table must be offered by the three together.
subs_of() {
    case $1 in
        vm | lxc | map) echo lint ;;
        rom) echo info dump ;;
        mig) echo plan apply status ;;
        bench) echo llm compare ;;
    esac
}
for c in $cmds; do
    { complete_words "$c" -; for s in $(subs_of "$c"); do complete_words "$c" "$s" -; done; } | canon >"$tmp/offered.$c"
done
for c in $cmds; do
    for d in $cmds; do
        if cmp -s "$tmp/help.$c" "$tmp/help.$d"; then cat "$tmp/offered.$d"; fi
    done | sort -u >"$tmp/offered.shared"
    cat "$tmp/help.$c" >"$tmp/h"
    [ "$c" = bench ] && cat "$tmp/help.bench-llm" "$tmp/help.bench-compare" >>"$tmp/h"
    table_opts <"$tmp/h" | canon >"$tmp/table"
    opts_of <"$tmp/h" | canon >"$tmp/shown"
    cp "$tmp/offered.$c" "$tmp/offered"
    lacking=$(comm -23 "$tmp/table" "$tmp/offered.shared" | words)
    extra=$(comm -13 "$tmp/shown" "$tmp/offered" | words)
    if [ -z "$lacking" ] && [ -z "$extra" ] && [ -s "$tmp/offered" ]; then
        ok "completion: gpupass $c -<TAB> offers the options of its --help"
    else
        notok "completion: gpupass $c -<TAB> offers the options of its --help" "not offered: $lacking" \
            "not in --help: $extra"
    fi
done

vm_long=$(table_opts <"$tmp/help.vm" | grep -- '^--' | grep -vx -- --help | sort | words)
got=$(complete_words vm -- | grep -vxE -- '--(help|libvirt|guest-bus)' | sort | words)
if [ -n "$vm_long" ] && [ "$got" = "$vm_long" ]; then ok "completion: gpupass vm --<TAB> gives vm's options"
else notok "completion: gpupass vm --<TAB> gives vm's options" "want: $vm_long" "got:  $got"; fi

# GPU arguments: the GPU addresses of `gpupass list` on the --root host.
gpus=$("$GPUPASS" --root "$host" list | grep -oE '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]' | words)
case " $gpus " in
    *" 0000:01:00.0 "*) ok "fixture: pve8-intel-1gpu has GPU 0000:01:00.0 ($gpus)" ;;
    *) notok "fixture: pve8-intel-1gpu has GPU 0000:01:00.0" "gpupass list: $gpus" ;;
esac
check_comp "gpupass --root HOST bind <TAB> gives the host's GPUs" "$gpus" --root "$host" bind ""
check_comp "gpupass --root=HOST setup <TAB>" "$gpus" --root = "$host" setup ""
check_comp "gpupass bind --root HOST <TAB> (--root after the command)" "$gpus" bind --root "$host" ""
check_comp "gpupass vm 100 --gpu 0000:01<TAB> (bash splits at ':')" "01:00.0" --root "$host" vm 100 --gpu 0000 : 01
check_comp "gpupass vm 100 --gpu=<TAB>" "$gpus" --root "$host" vm 100 --gpu =
check_comp "gpupass bind GPU <TAB> takes no second GPU" "" --root "$host" bind 0000 : 01 : 00.0 ""
got=$(GPUPASS_ROOT=$host complete_words status "" | words)
if [ "$got" = "$gpus" ]; then ok "completion: GPUPASS_ROOT=HOST gpupass status <TAB>"
else notok "completion: GPUPASS_ROOT=HOST gpupass status <TAB>" "want: $gpus" "got:  $got"; fi
big=$("$GPUPASS" --root "$HOSTS/large-8gpu" list | grep -oE '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]' | words)
check_comp "gpupass --root OTHER check <TAB> follows --root" "$big" --root "$HOSTS/large-8gpu" check ""

# Values and guests.
vmids=$(for f in "$host"/etc/pve/qemu-server/*.conf; do f=${f##*/}; echo "${f%.conf}"; done | words)
check_comp "gpupass --root HOST vm <TAB> gives lint and the VMIDs" "lint $vmids" --root "$host" vm ""
check_comp "gpupass setup GPU --method <TAB>" "ids per-device" setup 01:00.0 --method ""
check_comp "gpupass rom <TAB>" "info dump" rom ""
check_comp "gpupass mig <TAB>" "plan apply status" mig ""
check_comp "gpupass help l<TAB>" "list lint lxc" help l

echo "1..$n"
exit $fail
