# docs-examples: every $ example in README.md and docs/*.md runs as written
# Every example in README.md and docs/*.md runs as written: each indented
# "$ COMMAND" runs (build/ meaning $B/), its status is 0 or 1, and what it
# prints (stdout and stderr) matches the lines shown under it, indented
# like it, up to a blank line or the next "$ ". "..." in a shown line
# stands for any text; a shown line that is only "..." for any lines.
doc_glob() { # the shown line as a bash pattern: only "..." is special
	local l=$1 p="" c
	while [ -n "$l" ]; do
		if [ "${l:0:3}" = ... ]; then p+="*"; l=${l:3}; continue; fi
		c=${l:0:1}; l=${l:1}
		case $c in [][*?\\]) p+="\\$c" ;; *) p+=$c ;; esac
	done
	printf '%s' "$p"
}
# doc_match: the shown lines in $want[] against $got[]; 0, or 1 with the
# first shown line that does not match in $miss and what was printed there in $saw
doc_match() {
	local i=0 j=0 gap=0 nw=${#want[@]} ng=${#got[@]} k len m
	while [ $i -lt $nw ]; do
		if [ "${want[i]}" = ... ]; then gap=1; i=$((i + 1)); continue; fi
		len=0
		while [ $((i + len)) -lt $nw ] && [ "${want[i + len]}" != ... ]; do len=$((len + 1)); done
		for ((k = j; k + len <= ng; k++)); do
			for ((m = 0; m < len; m++)); do
				[[ ${got[k + m]} == $(doc_glob "${want[i + m]}") ]] || break
			done
			[ $m = $len ] && break
			if [ $gap = 0 ]; then miss=${want[i + m]}; saw=${got[k + m]-(no more output)}; return 1; fi
		done
		if [ $((k + len)) -gt $ng ]; then miss=${want[i]}; saw="(no line matches from line $((j + 1)) on)"; return 1; fi
		j=$((k + len)) i=$((i + len)) gap=0
	done
	if [ $gap = 0 ] && [ $j -lt $ng ]; then miss="(end of the example)"; saw=${got[j]}; return 1; fi
	return 0
}
# doc_examples FILE: "CMD<TAB>..." then the shown lines, one example per NUL-ended record
doc_examples() {
	awk '
	function flush() { if (cmd != "") printf "%s%c", out, 0; cmd = "" }
	{
		if (cmd != "" && ($0 == "" || index($0, ind "$ ") == 1 || index($0, ind) != 1)) flush()
		if (match($0, /^ +\$ /)) { ind = substr($0, 1, RLENGTH - 2); cmd = substr($0, RLENGTH + 1); out = cmd; next }
		if (cmd != "") out = out "\n" substr($0, length(ind) + 1)
	}
	END { flush() }' "$1"
}
ndoc=0
for doc in "$README_DIR"/README.md "$README_DIR"/docs/*.md; do
	[ -f "$doc" ] || continue
	name=${doc#"$README_DIR"/}
	while IFS= read -r -d '' ex; do
		ndoc=$((ndoc + 1))
		cmd=${ex%%$'\n'*}
		want=()
		[ "$ex" != "$cmd" ] && mapfile -t want <<<"${ex#*$'\n'}"
		out=$(cd "$README_DIR" && TMPDIR="$WORK" timeout 120 bash -c "${cmd//build\//$B/}" 2>&1); rc=$?
		got=()
		[ -n "$out" ] && mapfile -t got <<<"$out"
		if [ $rc != 0 ] && [ $rc != 1 ]; then not_ok "$name: example runs: $cmd" "status $rc" "$out"
		elif ! doc_match; then not_ok "$name: example prints what it shows: $cmd" "shown:   $miss" "printed: $saw"
		else ok "$name: example runs and prints what it shows: $cmd"; fi
	done < <(doc_examples "$doc")
done
[ $ndoc -ge 6 ] || not_ok "documented examples found: $ndoc"

