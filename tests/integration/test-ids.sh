#!/usr/bin/env bash
# ids: inside, `id -u`/`id -g` equal the running user's ids outside; with --map-root
# both are 0. Files the command creates are owned on the host by the running user
# (with and without --map-root). In the 'user' run the same holds for portwrap-nosub,
# a user without /etc/subuid entries (portwrap's single-id-map fallback), and for
# portwrap-test when its /etc/subuid and /etc/subgid entries name it by uid.
source "$(dirname "$0")/lib.sh"
PW_NEEDS_NOSUB=1
pw_init

# _summarize_map INSIDE OUTER < MAP: 'own=<INSIDE OUTER 1 present?> sub=<first-last or none>'
# where sub is the outer range covered by all other lines (which must be contiguous).
_summarize_map() {
    awk -v in_id="$1" -v out_id="$2" '
        NF == 3 {
            if ($1 == in_id && $2 == out_id && $3 == 1) { own++; next }
            if (lo == "" || $2 < lo) lo = $2
            if (hi == "" || $2 + $3 - 1 > hi) hi = $2 + $3 - 1
            total += $3
        }
        END {
            sub_range = (total == 0) ? "none" : (total == hi - lo + 1 ? lo "-" hi : "gappy:" lo "-" hi "/" total)
            printf "own=%d sub=%s\n", own, sub_range
        }'
}

# _expected_map INSIDE OUTER SUB(start:count or empty)
_expected_map() {
    if [[ -n $3 ]]; then
        echo "own=1 sub=${3%%:*}-$((${3%%:*} + ${3##*:} - 1))"
    else
        echo "own=1 sub=none"
    fi
}

# check_ids USER: runs the checks with portwrap run as USER.
check_ids() {
    local user=$1 uid gid dir
    uid=$(id -u "$user")
    gid=$(id -g "$user")
    dir=$PW_TMP/files-$user
    mkdir -m 0755 "$dir"
    chown "$user:" "$dir"

    PW_AS_USER=$user pw_run -p "$(free_port)" -P 8080 -- sh -c 'echo "$(id -u) $(id -g)"'
    expect_status "[$user] id inside" 0
    expect_eq "[$user] 'id -u' 'id -g' inside (outside: $uid $gid)" "$uid $gid" "$(cat "$PW_OUT")"

    PW_AS_USER=$user pw_run --map-root -p "$(free_port)" -P 8080 -- sh -c 'echo "$(id -u) $(id -g)"'
    expect_status "[$user] id inside with --map-root" 0
    expect_eq "[$user] 'id -u' 'id -g' inside with --map-root" "0 0" "$(cat "$PW_OUT")"

    PW_AS_USER=$user pw_run -p "$(free_port)" -P 8080 -- sh -c 'touch "$1/file" && mkdir "$1/subdir"' sh "$dir"
    expect_status "[$user] creating files inside" 0
    expect_eq "[$user] owner on the host of a file created inside" "$uid:$gid" "$(stat -c %u:%g "$dir/file" 2>&1)"
    expect_eq "[$user] owner on the host of a directory created inside" "$uid:$gid" "$(stat -c %u:%g "$dir/subdir" 2>&1)"

    PW_AS_USER=$user pw_run --map-root -p "$(free_port)" -P 8080 -- sh -c 'touch "$1/rootfile" && ls -ln "$1/rootfile"' sh "$dir"
    expect_status "[$user] creating files inside with --map-root" 0
    expect_eq "[$user] owner on the host of a file created by uid 0 inside (--map-root)" "$uid:$gid" "$(stat -c %u:%g "$dir/rootfile" 2>&1)"
    expect_eq "[$user] owner inside of that file (--map-root)" "0 0" "$(awk '{print $3, $4}' "$PW_OUT")"

    # The id maps: the user's own id, plus all its subordinate ids if it has some.
    local sub inside mode flag=()
    for mode in plain map-root; do
        flag=() inside=0
        [[ $mode == map-root ]] && flag=(--map-root)
        PW_AS_USER=$user pw_run "${flag[@]}" -p "$(free_port)" -P 8080 -- sh -c 'cat /proc/self/uid_map; echo; cat /proc/self/gid_map'
        expect_status "[$user] reading the id maps ${flag[*]}" 0
        for kind in uid gid; do
            local outer=$uid map
            [[ $kind == gid ]] && outer=$gid
            [[ $mode == plain ]] && inside=$outer
            if [[ $kind == uid ]]; then map=$(sed -n '1,/^$/p' "$PW_OUT"); else map=$(sed -n '/^$/,$p' "$PW_OUT"); fi
            sub=$(grep -E "^($user|$outer):" "/etc/sub$kind" | head -n 1 | cut -d: -f2,3)
            expect_eq "[$user] /proc/self/${kind}_map inside ${flag[*]}" \
                "$(_expected_map "$inside" "$outer" "$sub")" "$(_summarize_map "$inside" "$outer" <<<"$map")"
        done
    done

    # A file the user owns on the host is the command's own inside: it can write it.
    echo before >"$dir/mine"
    chown "$user:" "$dir/mine"
    PW_AS_USER=$user pw_run -p "$(free_port)" -P 8080 -- sh -c 'echo after >"$1/mine" && stat -c "%u:%g" "$1/mine"' sh "$dir"
    expect_status "[$user] writing the user's own file inside" 0
    expect_eq "[$user] owner inside of a file the user owns outside" "$uid:$gid" "$(cat "$PW_OUT")"
    expect_eq "[$user] content written inside" after "$(cat "$dir/mine")"
}

check_ids "$PW_USER"
if [[ $PW_AS == user ]]; then
    check_ids "$PW_NOSUB_USER"

    # /etc/subuid and /etc/subgid entries may name the user by uid instead of by name
    # (seen through a private mount namespace, so the real files stay as they are).
    for kind in uid gid; do
        sed -E "s/^$PW_TEST_USER:/$(id -u "$PW_TEST_USER"):/" "/etc/sub$kind" >"$PW_TMP/sub$kind"
        chmod 0644 "$PW_TMP/sub$kind"
    done
    PW_OUTER=(unshare --mount --propagation private sh -c \
        'mount --bind "$0/subuid" /etc/subuid && mount --bind "$0/subgid" /etc/subgid && exec "$@"' "$PW_TMP")
    pw_run -p "$(free_port)" -P 8080 -- sh -c 'echo "$(id -u) $(id -g)"; cat /proc/self/uid_map; echo; cat /proc/self/gid_map'
    PW_OUTER=()
    expect_status "[subuid entries by uid] portwrap runs" 0
    expect_eq "[subuid entries by uid] 'id -u' 'id -g' inside" "$PW_UID $PW_GID" "$(head -n 1 "$PW_OUT")"
    sub=$(grep -E "^$PW_TEST_USER:" /etc/subuid | head -n 1 | cut -d: -f2,3)
    expect_eq "[subuid entries by uid] uid map inside" "$(_expected_map "$PW_UID" "$PW_UID" "$sub")" \
        "$(sed -n '2,/^$/p' "$PW_OUT" | _summarize_map "$PW_UID" "$PW_UID")"
    sub=$(grep -E "^$PW_TEST_USER:" /etc/subgid | head -n 1 | cut -d: -f2,3)
    expect_eq "[subgid entries by uid] gid map inside" "$(_expected_map "$PW_GID" "$PW_GID" "$sub")" \
        "$(sed -n '/^$/,$p' "$PW_OUT" | _summarize_map "$PW_GID" "$PW_GID")"
else
    log "(portwrap-nosub's fallback map is checked in the 'user' run)"
fi

pw_finish
