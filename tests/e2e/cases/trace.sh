# trace: the JSON page-table trace agrees with --stats
"$PVMM" --ptwr=unhook --trace=pt --trace-format=json --trace-file="$WORK/pt.json" \
	--stats="$WORK/pt-stats.json" $G/ptwr.elf >/dev/null 2>&1
count() { grep -c "\"what\":\"$1\"" "$WORK/pt.json"; }
st_em=$(json_num "$WORK/pt-stats.json" emulated); st_un=$(json_num "$WORK/pt-stats.json" unhooks)
st_rs=$(grep -o '"resyncs": {[^}]*}' "$WORK/pt-stats.json" | grep -o '[0-9]\+' | awk '{s+=$1} END {print s}')
if [ "$(count emulate)" = "$st_em" ] && [ "$(count unhook)" = "$st_un" ] && [ "$(count resync)" = "$st_rs" ]; then
	ok "JSON trace events match --stats (emulate $st_em, unhook $st_un, resync $st_rs)"
else
	not_ok "JSON trace vs stats" "trace: $(count emulate)/$(count unhook)/$(count resync) stats: $st_em/$st_un/$st_rs"
fi
nosym=$(grep -c '"sym":"0x' "$WORK/pt.json" || true)
lines=$(wc -l <"$WORK/pt.json")
if [ "$lines" -gt 0 ] && [ "$nosym" = 0 ] && ! grep -qv '^{"kind":"pt".*}$' "$WORK/pt.json"; then
	ok "all $lines JSON trace lines are objects with a symbolised rip"
else
	not_ok "JSON trace lines" "$nosym without symbols of $lines"
fi
