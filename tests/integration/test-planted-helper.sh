#!/usr/bin/env bash
# planted helper (issue 11, item 6): portwrap takes newuidmap/newgidmap only from
# /usr/bin, /bin, /usr/sbin and /sbin, never from PATH. An executable `newuidmap` (and
# `newgidmap`) planted in a directory of the user's that comes first in PATH — the
# way a file dropped into ~/bin would — never runs: it would leave a marker file. The
# launch still maps the user's subordinate ids, through the real helpers.
source "$(dirname "$0")/lib.sh"
pw_init

plant=$PW_WORK/home-bin
marker=$PW_WORK/planted-helper-ran
mkdir -m 0755 "$plant"
for helper in newuidmap newgidmap; do
    real=$(command -v "$helper") || skip "$helper is not installed"
    # It does what the real one does, so a launch would not even notice it.
    printf '#!/bin/sh\necho "%s $*" >>%s\nexec %s "$@"\n' "$helper" "$marker" "$real" >"$plant/$helper"
    chmod 0755 "$plant/$helper"
done
chown -R "$PW_USER:" "$plant"
export PW_PATH=$plant:$PW_STD_PATH

# Positive control: PATH lookup as the user finds the planted one first.
expect_eq "the user's PATH finds the planted newuidmap first" "$plant/newuidmap" \
    "$(as_user "$PW_USER" env "PATH=$PW_PATH" sh -c 'command -v newuidmap')"

sub=$(grep -E "^($PW_USER|$PW_UID):" /etc/subuid | head -n 1 | cut -d: -f2,3)
PW_DEADLINE=30 pw_run -p "$(free_port)" -P 8080 -- cat /proc/self/uid_map
expect_status "a launch with the planted helpers first in PATH" 0
check "the planted newuidmap/newgidmap never ran (no $marker)" test ! -e "$marker"
[[ -e $marker ]] && show_file "marker" "$marker"
if [[ -n $sub ]]; then
    # The real newuidmap ran: the subordinate range is mapped, in the lines other
    # than the own uid's (it is split around that one).
    if awk -v s="${sub%%:*}" -v n="${sub##*:}" -v own="$PW_UID" '
        $2 != own { total += $3; if (lo == "" || $2 < lo) lo = $2 }
        END { exit !(lo == s && total == n) }' "$PW_OUT"; then
        pass "uid_map inside maps the subordinate range $sub of $PW_USER"
    else
        fail_later "uid_map inside does not map the subordinate range $sub of $PW_USER"
        show_file "uid_map inside" "$PW_OUT"
    fi
else
    log "($PW_USER has no subordinate uids: only the single-id map is checked)"
    expect_eq "uid_map inside: the own uid" "1" "$(awk 'END { print NR }' "$PW_OUT")"
fi

# --check names the helpers it found, not the planted ones.
PW_DEADLINE=60 pw_run --check
check "--check names /usr/bin/newuidmap (or another system directory)" \
    grep -qE '^ok +newuidmap: /(usr/)?s?bin/newuidmap ' "$PW_OUT"
check "--check does not mention the planted copy" eval "! grep -qF '$plant' '$PW_OUT'"
check "--check did not run the planted helpers either" test ! -e "$marker"
pw_finish
