# confinement: the guest process holds nothing but its memory
fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" $G/spin.elf >"$WORK/out" 2>&1 </dev/null &
pid=$!
wait_until 60 has_line "$WORK/out" '^spin: looping forever$'
guest=$(pgrep -P $pid -x pvmm-guest || true)
if [ -n "$guest" ]; then
	fds=$(ls /proc/"$guest"/fd 2>/dev/null | tr '\n' ' ')
	seccomp=$(awk '/^Seccomp:/ {print $2}' /proc/"$guest"/status)
	lower=$(awk '{ split($1, a, "-"); if (length(a[1]) < 12 || a[1] < "7f8000000000") print }' /proc/"$guest"/maps | grep -v "pvmm-guest-memory" | head -3)
	if [ "$fds" = "3 " ]; then ok "the guest process holds only the guest memory fd"; else not_ok "guest fds: $fds"; fi
	if [ "$seccomp" = 2 ]; then ok "the guest process runs under a seccomp filter"; else not_ok "seccomp mode '$seccomp'"; fi
	if [ -z "$lower" ]; then ok "only guest memory is mapped below the hole"; else not_ok "foreign mappings below the hole" "$lower"; fi
else
	not_ok "guest process of pvmm $pid not found"
fi
kill -TERM $pid; wait $pid 2>/dev/null

