#!/usr/bin/env bash
# The bash completion knows every subcommand and option that streetctl's own
# --help lists, so the two cannot drift apart.
# Usage: test_streetctl_completion.sh STREETCTL COMPLETION_FILE
set -euo pipefail
ctl=$1
# shellcheck disable=SC1090
source "$2"

complete_words() { # words... -> COMPREPLY for the last one
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_streetctl
	printf '%s\n' "${COMPREPLY[@]}"
}

fail=0
mapfile -t cmds < <("$ctl" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
((${#cmds[@]} > 15)) || { echo "could not read the commands from --help"; exit 1; }
for c in "${cmds[@]}"; do
	if ! complete_words streetctl "${c:0:3}" | grep -qx "$c"; then
		echo "completion does not offer the command $c"
		fail=1
	fi
	mapfile -t opts < <("$ctl" "$c" --help | sed -n '/^options:/,/^$/p' | grep -o '^  --[a-z-]*' |
		tr -d ' ')
	for o in "${opts[@]}"; do
		if ! complete_words streetctl "$c" 1 "$o" | grep -qx -- "$o"; then
			echo "completion does not offer $o for $c"
			fail=1
		fi
	done
done
# --format offers the command's formats
for want in "export csv xlsx" "bulletin md csv"; do
	read -r c f1 f2 <<<"$want"
	got=$(complete_words streetctl "$c" --format "" | tr '\n' ' ')
	if [[ $got != "$f1 $f2 " ]]; then
		echo "completion offers '$got' for $c --format, not '$f1 $f2'"
		fail=1
	fi
done
exit "$fail"
