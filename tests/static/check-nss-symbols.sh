#!/usr/bin/env bash
# Fails when portwrap's own object files call a function that resolves names through
# NSS. In the static binary those functions load the host's NSS modules at run time,
# which crashes for users from LDAP/SSSD (docs/building.md). glib's own references
# (g_get_user_database_entry) are expected and are never reached from portwrap.
#
# usage: check-nss-symbols.sh OBJECT_DIR...   (searched for *.o)
set -euo pipefail

forbidden='^(getpw(uid|nam|ent)(_r)?|getgr(gid|nam|ent)(_r)?|getgrouplist|initgroups|getspnam(_r)?|getlogin(_r)?|getaddrinfo|gethostbyname2?(_r)?|gethostbyaddr(_r)?|getservbyname(_r)?|getservbyport(_r)?|getprotobyname(_r)?|getnetbyname|g_get_user_name|g_get_real_name|g_get_home_dir|g_get_host_name|cuserid)$'

mapfile -t objects < <(find "$@" -name '*.o' -type f | sort)
if ((${#objects[@]} == 0)); then
    echo "check-nss-symbols: FAIL: no object files under $*"
    exit 1
fi

found=0
for object in "${objects[@]}"; do
    while read -r symbol; do
        if [[ $symbol =~ $forbidden ]]; then
            echo "check-nss-symbols: FAIL: $(basename "$object") calls $symbol"
            found=1
        fi
    done < <(nm --undefined-only --format=just-symbols "$object")
done
if ((found)); then
    echo "check-nss-symbols: portwrap must not resolve names through NSS; see docs/building.md"
    exit 1
fi
echo "check-nss-symbols: ok: ${#objects[@]} object files, none calls an NSS lookup"
