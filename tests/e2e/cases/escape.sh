# escape: a hostile guest: every escape attempt is contained
# escape (a host open(2)), and each attempt's escape~ATTEMPT.cfg
units escape escape~execve escape~socket escape~fork escape~ptrace escape~kill escape~mmapfd \
	escape~mprotect escape~exit escape~stubjump escape~scribble escape~beyond escape~maps
# escape.cfg's open(2) names pvmm-escaped, in the folder units ran pvmm test in
[ ! -e "$WORK/pvmm-escaped" ] && ok "escape 'open': the file it tried to create is not there" ||
	not_ok "escape 'open': the guest created its file"
# either outcome is right: the forged hand-offs may or may not end the guest
run --timeout=20 -c attempt=race $G/escape.elf
if { [ "$status" = 0 ] && grep -q '^escape: race: pvmm still answers' "$WORK/out"; } ||
   { [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ]; }; then
	ok "escape 'race': 20,000 forged hand-offs over a changing control page hurt only the guest (status $status)"
else
	not_ok "escape 'race'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
fi
no_guest_left "escape attempts"
